#include "output/sink_spec.h"

#include <charconv>

#include "output/sink_journal.h"
#include "output/sink_socket.h"

namespace rsthop::output {

namespace {

Error bad(std::string_view text, const std::string& why) { return make_error("-o " + std::string(text) + ": " + why); }

// "HOST:PORT" or "[V6]:PORT".
Result<void> parse_host_port(std::string_view text, std::string_view rest, SinkSpec& s) {
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad(text, "needs HOST:PORT");
  std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535)
    return bad(text, "the port must be a number from 1 to 65535");
  if (host.empty()) return bad(text, "needs HOST:PORT");
  s.host = std::string(host);
  s.port = static_cast<uint16_t>(v);
  return {};
}

bool eat(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

}  // namespace

Result<SinkSpec> parse_sink_spec(std::string_view text) {
  SinkSpec s;
  s.text = std::string(text);
  std::string_view rest = text;
  if (text.empty()) return bad(text, "an output cannot be empty");
  if (text == "-") return s;
  if (text == "journal") {
    s.kind = SinkKind::journal;
    return s;
  }
  if (eat(rest, "syslog")) {
    s.cee = eat(rest, "+cee");
    if (rest.empty()) {
      s.kind = SinkKind::syslog_local;
      s.path = "/dev/log";
      return s;
    }
    if (eat(rest, ":")) {
      s.kind = SinkKind::syslog_local;
      s.path = std::string(rest);
      if (s.path.empty()) return bad(text, "needs a socket path after 'syslog:'");
      return s;
    }
    if (eat(rest, "+udp:"))
      s.kind = SinkKind::syslog_udp;
    else if (eat(rest, "+tcp:"))
      s.kind = SinkKind::syslog_tcp;
    else
      return bad(text, "is not a syslog form (syslog, syslog:PATH, syslog+udp:HOST:PORT, syslog+tcp:HOST:PORT)");
    if (auto r = parse_host_port(text, rest, s); !r) return r.error();
    return s;
  }
  if (eat(rest, "tcp:")) {
    s.kind = SinkKind::tcp;
    if (auto r = parse_host_port(text, rest, s); !r) return r.error();
    return s;
  }
  if (eat(rest, "unixgram:") || eat(rest, "unix:")) {
    s.kind = text.substr(0, 5) == "unixg" ? SinkKind::unix_dgram : SinkKind::unix_stream;
    s.path = std::string(rest);
    if (s.path.empty()) return bad(text, "needs a socket path");
    return s;
  }
  s.kind = SinkKind::file;
  if (eat(rest, "file:") && rest.empty()) return bad(text, "needs a path after 'file:'");
  s.path = std::string(rest);
  return s;
}

Result<std::unique_ptr<Sink>> open_sink(const SinkSpec& spec) {
  auto socket = [&](Result<SocketTarget> t, Framing framing) -> Result<std::unique_ptr<Sink>> {
    if (!t) return make_error("-o " + t.error().message);
    return std::unique_ptr<Sink>(new SocketSink(std::move(t.value()), framing, local_syslog_identity(spec.cee)));
  };
  switch (spec.kind) {
    case SinkKind::standard_output:
      return std::unique_ptr<Sink>(new StdoutSink());
    case SinkKind::file:
      return FileSink::open(spec.path, true);
    case SinkKind::unix_stream:
      return socket(unix_target(spec.path, SOCK_STREAM, spec.text), Framing::lines);
    case SinkKind::unix_dgram:
      return socket(unix_target(spec.path, SOCK_DGRAM, spec.text), Framing::lines);
    case SinkKind::tcp:
      return socket(inet_target(spec.host, spec.port, SOCK_STREAM, spec.text), Framing::lines);
    case SinkKind::syslog_local:
      return socket(unix_target(spec.path, SOCK_DGRAM, spec.text), Framing::syslog);
    case SinkKind::syslog_udp:
      return socket(inet_target(spec.host, spec.port, SOCK_DGRAM, spec.text), Framing::syslog);
    case SinkKind::syslog_tcp:
      return socket(inet_target(spec.host, spec.port, SOCK_STREAM, spec.text), Framing::syslog);
    case SinkKind::journal:
      return std::unique_ptr<Sink>(new JournalSink());
  }
  return bad(spec.text, "unknown output form");
}

}  // namespace rsthop::output
