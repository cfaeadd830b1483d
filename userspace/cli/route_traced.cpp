#include "cli/route_traced.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "probe/route.h"

namespace rsthop::cli {

std::function<bool(const uint8_t*, uint8_t)> route_traced_fn(std::vector<std::string> interfaces) {
  auto cache = std::make_shared<std::map<Addr16, bool>>();
  return [cache, ifs = std::move(interfaces)](const uint8_t* addr, uint8_t family) {
    probe::Target t;
    std::memcpy(t.addr.data(), addr, 16);
    t.family = family;
    if (auto it = cache->find(t.addr); it != cache->end()) return it->second;
    auto r = probe::route_interface(t);
    bool traced = r && std::find(ifs.begin(), ifs.end(), r.value()) != ifs.end();
    if (cache->size() < 4096) cache->emplace(t.addr, traced);
    return traced;
  };
}

}  // namespace rsthop::cli
