#include "cli/outputs.h"

#include <unistd.h>

#include <iostream>

#include "output/sink_spec.h"

namespace rsthop::cli {

Result<void> Outputs::close() {
  auto r = writer->flush();
  auto c = sinks->close(kOutputLinger);
  if (!r) return r;
  if (!c) return c;
  for (const auto& s : sinks->stats()) {
    uint64_t lost = s.dropped_full + s.dropped_oversize;
    if (!lost) continue;
    std::string msg = "-o " + s.name + ": " + std::to_string(lost) + " lines were not delivered";
    if (offline) return make_error(msg);
    std::cerr << "rsthop: notice: " << msg << "\n";
  }
  return {};
}

std::string check_output_form(const std::string& form) {
  auto spec = output::parse_sink_spec(form);
  if (spec) return {};
  std::string why = spec.error().message;
  return why.rfind("-o ", 0) == 0 ? why.substr(3) : why;
}

namespace {
// Forms opened again by their path after the start: a file (SIGHUP, renamed away) or a local
// socket (reconnect); as nobody those would fail against root's files and sockets.
bool reopened_by_path(output::SinkKind k) {
  using K = output::SinkKind;
  return k == K::file || k == K::unix_stream || k == K::unix_dgram || k == K::syslog_local || k == K::journal;
}
}  // namespace

Result<Outputs> open_outputs(const std::vector<std::string>& specs, const std::string& format,
                             output::Overflow overflow) {
  std::vector<std::string> forms = specs.empty() ? std::vector<std::string>{"-"} : specs;
  auto set = std::make_unique<output::SinkSet>();
  Outputs o;
  o.only_stdout = true;
  o.offline = overflow == output::Overflow::wait;
  for (const auto& text : forms) {
    auto spec = output::parse_sink_spec(text);
    if (!spec) return spec.error();
    auto sink = output::open_sink(spec.value());
    if (!sink) return sink.error();
    o.only_stdout = o.only_stdout && spec->kind == output::SinkKind::standard_output;
    o.reopens = o.reopens || reopened_by_path(spec->kind);
    set->add(std::make_unique<output::QueuedSink>(std::move(sink.value()), text, overflow));
  }
  o.text = format == "text" || (format.empty() && o.only_stdout && isatty(STDOUT_FILENO));
  o.sinks = set.get();
  o.writer = std::make_unique<output::Writer>(std::move(set), o.text ? output::Format::text : output::Format::json);
  return o;
}

std::vector<std::string> output_files(const std::vector<std::string>& specs) {
  std::vector<std::string> out;
  for (const auto& text : specs)
    if (auto spec = output::parse_sink_spec(text); spec && spec->kind == output::SinkKind::file)
      out.push_back(spec->path);
  return out;
}

}  // namespace rsthop::cli
