#include "diagnose/await_records.h"

#include <algorithm>
#include <cstring>
#include <thread>

namespace rsthop::diagnose {

bool await_records(const std::set<uint16_t>& want, const std::function<void()>& pump,
                   const std::function<bool(uint16_t)>& seen, std::chrono::milliseconds budget,
                   std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    pump();
    if (std::all_of(want.begin(), want.end(), seen)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

std::optional<uint16_t> reset_port(const rh_event& ev, const Addr16& target, uint16_t target_port) {
  if (ev.kind != RH_EV_RST && ev.kind != RH_EV_LOCAL_RST_RECV) return std::nullopt;
  // Both carry the RST's direction: from the target (saddr, sport) to our probe's port (dport).
  if (std::memcmp(ev.saddr, target.data(), target.size()) != 0 || ev.sport != target_port) return std::nullopt;
  return ev.dport;
}

std::optional<uint16_t> icmp_port(const rh_event& ev, const Addr16& target, uint16_t target_port) {
  if (ev.kind != RH_EV_ICMP) return std::nullopt;
  if (std::memcmp(ev.inner_daddr, target.data(), target.size()) != 0 || ev.inner_dport != target_port)
    return std::nullopt;
  return ev.inner_sport;
}

}  // namespace rsthop::diagnose
