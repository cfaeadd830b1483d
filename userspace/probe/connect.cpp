// tcp_connect (like `telnet host port`) and http_get (like `curl -I http://host/`).
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "probe/probe.h"
#include "probe/sock.h"

namespace rsthop::probe {
namespace {

using detail::Clock;

constexpr int kCloseBudgetMs = 200;        // to read the peer's FIN before close()
constexpr size_t kMaxHeaderBytes = 65536;  // stop reading an endless header

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); i++)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// Fills status_line and location from the bytes of a response header.
void parse_head(std::string_view head, HttpResult& r) {
  size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    std::string_view line = head.substr(pos, eol == std::string_view::npos ? head.size() - pos : eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      r.status_line = std::string(line);
      first = false;
    } else if (line.empty()) {
      break;
    } else if (iequals_prefix(line, "location:")) {
      r.location = trim(line.substr(9));
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
}

}  // namespace

ConnectResult tcp_connect(const Target& t, const Timing& tm) {
  ConnectResult cr;
  Fd fd = detail::connect_with_deadline(t, tm.timeout_ms, cr);
  // A FIN rather than an abort: the target sees an ordinary short connection.
  detail::graceful_close(fd, kCloseBudgetMs);
  return cr;
}

std::vector<uint8_t> http_request(const std::string& host) {
  std::string h = host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";  // an IPv6 literal
  std::string req =
      "GET / HTTP/1.1\r\nHost: " + h + "\r\nUser-Agent: rsthop-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  return {req.begin(), req.end()};
}

// The connect gets `timeout_ms`, and the request, from its first byte to the
// end of the response header, gets another `timeout_ms`.
HttpResult http_get(const Target& t, const std::string& host_header, const Timing& tm) {
  HttpResult r;
  Fd fd = detail::connect_probe(t, tm.timeout_ms, r);
  if (!fd.valid()) return r;
  const std::vector<uint8_t> req = http_request(host_header.empty() ? t.host : host_header);
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::milliseconds(tm.timeout_ms);
  auto fail = [&](Outcome o, std::string why) {
    r.outcome = o;
    r.error = std::move(why);
    r.ms = detail::ms_since(t0);
  };

  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      fail(detail::classify_errno(e), "sending the HTTP request failed: " + std::string(std::strerror(e)));
      detail::abort_close(fd);
      return r;
    }
    if (detail::wait_fd(fd.get(), POLLOUT, deadline) <= 0) {
      fail(Outcome::timeout, "the HTTP request could not be sent within " + std::to_string(tm.timeout_ms) + " ms");
      detail::abort_close(fd);
      return r;
    }
  }

  std::string buf;
  std::optional<double> status_ms;
  bool eof = false;
  while (buf.find("\r\n\r\n") == std::string::npos && buf.size() < kMaxHeaderBytes) {
    char chunk[4096];
    ssize_t n = ::recv(fd.get(), chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      if (!status_ms && buf.find('\n') != std::string::npos) status_ms = detail::ms_since(t0);
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      parse_head(buf, r);
      fail(detail::classify_errno(e), "reading the HTTP response failed: " + std::string(std::strerror(e)));
      detail::abort_close(fd);
      return r;
    }
    int rv = detail::wait_fd(fd.get(), POLLIN, deadline);
    if (rv == 0) break;  // deadline: judged below by what arrived
    if (rv < 0) {
      fail(Outcome::error, std::string("poll failed: ") + std::strerror(errno));
      return r;
    }
  }
  parse_head(buf, r);
  r.ms = status_ms.value_or(detail::ms_since(t0));
  if (r.status_line.rfind("HTTP/", 0) == 0 && status_ms) {
    r.outcome = Outcome::ok;
  } else if (buf.empty() && eof) {
    fail(Outcome::error, "the server closed the connection without answering the HTTP request");
  } else if (buf.empty()) {
    fail(Outcome::timeout, "no HTTP response within " + std::to_string(tm.timeout_ms) + " ms");
  } else {
    std::string shown = buf.substr(0, std::min<size_t>(buf.find_first_of("\r\n"), 60));
    fail(Outcome::error, "the answer is not an HTTP status line: '" + shown + "'");
  }
  detail::graceful_close(fd, kCloseBudgetMs);
  return r;
}

}  // namespace rsthop::probe
