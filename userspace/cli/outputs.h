// The -o/--output destinations every command shares: the forms parsed
// (output/sink_spec.h), each behind its bounded queue, one Writer in front.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "output/sink.h"
#include "output/sink_set.h"

namespace rsthop::cli {

// How long the end of a run waits for live sinks to take what is queued.
constexpr auto kOutputLinger = std::chrono::seconds(10);

struct Outputs {
  std::unique_ptr<output::Writer> writer;
  output::SinkSet* sinks = nullptr;  // owned by `writer`; stats() for the metrics, reopen() for SIGHUP
  bool text = false;                 // text lines rather than JSON
  bool only_stdout = false;          // every output is "-" (a closed pipe then ends the run quietly)
  bool offline = false;              // Overflow::wait: a line not delivered is an error, not a notice
  bool reopens = false;              // a file or local socket, opened again by path later (SIGHUP,
                                     // rotation, reconnect): the process must keep its uid for it

  // Starts the outputs' writer threads: after the privilege drop (cli/privileges.h), since
  // capabilities are per thread.  Lines written before are queued.
  void start() { sinks->start(); }

  // Flushes the writer and drains every sink (up to kOutputLinger); the
  // first write error, if any.  Lines an output dropped are said on stderr
  // (a notice live; offline, an error: "-o X: N lines were not delivered").
  // Call once, before exit.
  Result<void> close();
};

// For CLI11's ->check(): "" when `form` is a valid -o form, else why not.
std::string check_output_form(const std::string& form);

// Parses and opens every form of `specs` (repeatable -o; empty = "-"), in
// order, so an unwritable file fails before anything is attached.  `format`
// is --format ("" = text on a terminal when the only output is stdout).
Result<Outputs> open_outputs(const std::vector<std::string>& specs, const std::string& format,
                             output::Overflow overflow);

// The paths of the file outputs among `specs` (for refuse_output_as_input).
std::vector<std::string> output_files(const std::vector<std::string>& specs);

}  // namespace rsthop::cli
