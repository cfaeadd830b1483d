#include "output/syslog_frame.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <ctime>

namespace rsthop::output {

namespace {

// RFC 5424 header fields are PRINTUSASCII (33..126) of a bounded length, or "-".
void append_field(std::string& out, std::string_view v, size_t max) {
  size_t n = 0;
  for (char c : v) {
    if (n == max) break;
    out.push_back(c > 32 && c < 127 ? c : '_');
    n++;
  }
  if (n == 0) out.push_back('-');
}

// rsthop.event_type: begin_rsthop writes it first in the rsthop object, so
// the key is looked for with its parent (no other object has an event_type).
std::string_view event_type_of(std::string_view line) {
  constexpr std::string_view key = "\"rsthop\":{\"event_type\":\"";
  size_t at = line.find(key);
  if (at == std::string_view::npos) return {};
  size_t start = at + key.size();
  size_t end = line.find('"', start);
  return end == std::string_view::npos ? std::string_view() : line.substr(start, end - start);
}

}  // namespace

SyslogIdentity local_syslog_identity(bool cee) {
  SyslogIdentity id;
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) == 0) id.hostname = host;
  id.procid = std::to_string(::getpid());
  id.cee = cee;
  return id;
}

void append_rfc5424(std::string& out, const SyslogIdentity& id, int64_t unix_us, std::string_view line) {
  out.push_back('<');
  out += std::to_string(id.facility * 8 + id.severity);
  out += ">1 ";
  time_t secs = static_cast<time_t>(unix_us / 1'000'000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char ts[80];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_us % 1000000 + (unix_us < 0 ? 1000000 : 0)));
  out += ts;
  append_field(out, id.hostname, 255);
  out.push_back(' ');
  append_field(out, id.app_name, 48);
  out.push_back(' ');
  append_field(out, id.procid, 128);
  out.push_back(' ');
  append_field(out, event_type_of(line), 32);
  out += " - ";
  if (id.cee) out += "@cee: ";
  out += line;
}

void append_octet_counted(std::string& out, std::string_view message) {
  out += std::to_string(message.size());
  out.push_back(' ');
  out += message;
}

}  // namespace rsthop::output
