// HOST[:PORT], [V6]:PORT and bare IPv6 literals, resolved with getaddrinfo.
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "probe/probe.h"
#include "probe/sock.h"

namespace rsthop::probe {
namespace {

struct HostPort {
  std::string host;
  std::optional<uint16_t> port;
};

bool parse_port(std::string_view s, uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

Error parse_error(const std::string& input, const std::string& why) {
  return make_error("cannot parse '" + input + "' as HOST[:PORT] or [V6]:PORT: " + why, EINVAL);
}

Result<HostPort> split(const std::string& in) {
  HostPort hp;
  if (in.empty()) return parse_error(in, "it is empty");
  std::string_view s(in);
  std::optional<std::string_view> port;
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return parse_error(in, "missing ']'");
    hp.host = std::string(s.substr(1, close - 1));
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return parse_error(in, "unexpected text after ']'");
      port = rest.substr(1);
    }
  } else {
    auto colons = std::count(s.begin(), s.end(), ':');
    if (colons == 1) {
      auto c = s.find(':');
      hp.host = std::string(s.substr(0, c));
      port = s.substr(c + 1);
    } else {
      hp.host = in;  // a name, an IPv4 literal, or a bare IPv6 literal (no port)
    }
  }
  if (hp.host.empty()) return parse_error(in, "the host is empty");
  if (port) {
    uint16_t p = 0;
    if (!parse_port(*port, p)) return parse_error(in, "the port '" + std::string(*port) + "' is not in 1-65535");
    hp.port = p;
  }
  return hp;
}

}  // namespace

Result<Target> resolve(const std::string& host_port, uint16_t default_port, int family) {
  if (family != 0 && family != 4 && family != 6)
    return make_error("the address family must be 0, 4 or 6, not " + std::to_string(family), EINVAL);
  auto hp = split(host_port);
  if (!hp) return hp.error();

  addrinfo hints{};
  hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = 0;  // no AI_ADDRCONFIG: loopback-only and v6-only namespaces must resolve too
  addrinfo* res = nullptr;
  int rc = getaddrinfo(hp->host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return make_error("cannot resolve '" + hp->host + "': " + why, rc == EAI_SYSTEM ? errno : 0);
  }
  Target t;
  bool found = false;
  for (addrinfo* ai = res; ai && !found; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    t.addr = detail::from_sockaddr(ai->ai_addr);
    t.family = ai->ai_family == AF_INET ? 4 : 6;
    found = true;
  }
  freeaddrinfo(res);
  if (!found) return make_error("cannot resolve '" + hp->host + "': no IPv4 or IPv6 address", 0);
  t.port = hp->port.value_or(default_port);
  t.host = hp->host;
  return t;
}

}  // namespace rsthop::probe
