#include "diagnose/await_records.h"

#include <algorithm>
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

}  // namespace rsthop::diagnose
