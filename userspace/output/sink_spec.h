// The -o/--output forms (README "Outputs"), parsed and opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "output/sink.h"

namespace rsthop::output {

enum class SinkKind {
  standard_output,  // "-"
  file,             // "PATH", "file:PATH"
  unix_stream,      // "unix:PATH"
  unix_dgram,       // "unixgram:PATH"
  tcp,              // "tcp:HOST:PORT"
  syslog_local,     // "syslog" (/dev/log), "syslog:PATH"
  syslog_udp,       // "syslog+udp:HOST:PORT"
  syslog_tcp,       // "syslog+tcp:HOST:PORT"
  journal,          // "journal"
};

struct SinkSpec {
  SinkKind kind = SinkKind::standard_output;
  std::string text;  // as given, the name in stats.sinks[] and in errors
  std::string path;  // file and unix forms
  std::string host;  // tcp and syslog+udp/tcp ("[::1]" is given as ::1)
  uint16_t port = 0;
  bool cee = false;  // "syslog+cee..." forms: MSG is "@cee: " + JSON
};

// Fails with one sentence naming the form ("-o tcp:host: needs HOST:PORT").
Result<SinkSpec> parse_sink_spec(std::string_view text);

// Opens (files) or resolves (sockets) the destination; sockets connect on
// their first write, so a receiver that is not up yet is not an error.
Result<std::unique_ptr<Sink>> open_sink(const SinkSpec& spec);

}  // namespace rsthop::output
