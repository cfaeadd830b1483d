#include "probe/route.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "common/fd.h"

namespace rsthop::probe {

Result<std::string> route_interface(const Target& t) {
  Fd s(socket(t.family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return make_error(std::string("socket: ") + std::strerror(errno), errno);
  sockaddr_storage dst{}, src{};
  socklen_t len;
  if (t.family == 4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&dst);
    a->sin_family = AF_INET;
    a->sin_port = htons(t.port);
    std::memcpy(&a->sin_addr, t.addr.data() + 12, 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&dst);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(t.port);
    std::memcpy(&a->sin6_addr, t.addr.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&dst), len) != 0)
    return make_error("no route to " + addr_to_string(t.addr.data()) + ": " + std::strerror(errno), errno);
  socklen_t slen = sizeof(src);
  if (getsockname(s.get(), reinterpret_cast<sockaddr*>(&src), &slen) != 0)
    return make_error(std::string("getsockname: ") + std::strerror(errno), errno);
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return make_error(std::string("getifaddrs: ") + std::strerror(errno), errno);
  std::string name;
  for (ifaddrs* i = list; i && name.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != src.ss_family) continue;
    if (src.ss_family == AF_INET) {
      if (std::memcmp(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr,
                      &reinterpret_cast<sockaddr_in*>(&src)->sin_addr, 4) == 0)
        name = i->ifa_name;
    } else if (std::memcmp(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                           &reinterpret_cast<sockaddr_in6*>(&src)->sin6_addr, 16) == 0) {
      name = i->ifa_name;
    }
  }
  freeifaddrs(list);
  if (name.empty())
    return make_error(
        "cannot tell which interface leads to " + addr_to_string(t.addr.data()) + "; name one with --interface",
        ENODEV);
  return name;
}

}  // namespace rsthop::probe
