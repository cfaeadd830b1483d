#include "kernel/interfaces.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/fd.h"

namespace rsthop::kernel {

Result<std::vector<std::string>> up_interfaces() {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return make_error(std::string("-i any: socket: ") + strerror(errno), errno);
  struct if_nameindex* list = if_nameindex();
  if (list == nullptr) return make_error(std::string("-i any: cannot list interfaces: ") + strerror(errno), errno);
  std::vector<std::string> up;
  for (struct if_nameindex* i = list; i->if_index != 0; i++) {
    ifreq req{};
    std::strncpy(req.ifr_name, i->if_name, IFNAMSIZ - 1);
    if (ioctl(sock.get(), SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP)) up.emplace_back(i->if_name);
  }
  if_freenameindex(list);
  if (up.empty()) return make_error("-i any: no interface of this network namespace is up");
  return up;
}

Result<std::vector<std::string>> expand_any(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& n : names) {
    if (n != "any") {
      add(n);
      continue;
    }
    auto up = up_interfaces();
    if (!up) return up.error();
    for (const auto& u : up.value()) add(u);
  }
  return out;
}

}  // namespace rsthop::kernel
