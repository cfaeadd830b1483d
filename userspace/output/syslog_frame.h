// RFC 5424 syslog messages carrying one JSON line as the MSG, and RFC 6587
// octet counting for syslog over TCP.  Pure: the sockets are in sink_socket.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rsthop::output {

// Receivers (rsyslog's maxMessageSize, syslog-ng's log-msg-size) cut longer
// messages, which would split a JSON line: a line whose message would be
// longer is not sent at all, and is counted (lost.cause sink_oversize).
constexpr size_t kMaxSyslogMessage = 64 * 1024;

struct SyslogIdentity {
  std::string hostname;  // HOSTNAME ("-" when empty)
  std::string app_name = "rsthop";
  std::string procid;  // PROCID, the pid ("-" when empty)
  int facility = 3;    // daemon
  int severity = 6;    // informational
  bool cee = false;    // MSG starts with "@cee: " (rsyslog mmjsonparse's default cookie)
};

// The identity of this process: gethostname(), getpid().
SyslogIdentity local_syslog_identity(bool cee);

// Appends "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG" for one
// line (without its '\n'); TIMESTAMP is `unix_us` in UTC with microseconds,
// MSGID the line's rsthop.event_type when it has one ("-" otherwise), no
// structured data, MSG the line itself (no BOM: a JSON parser would choke).
void append_rfc5424(std::string& out, const SyslogIdentity& id, int64_t unix_us, std::string_view line);

// RFC 6587 section 3.4.1: "MSG-LEN SP SYSLOG-MSG".
void append_octet_counted(std::string& out, std::string_view message);

}  // namespace rsthop::output
