#include "replay.h"

namespace rsthop::offline {

std::vector<flow::Packet> replay(Replayer& r, std::span<const Frame> frames) {
  std::vector<flow::Packet> out;
  for (const Frame& f : frames)
    if (auto p = r.feed(f)) out.push_back(std::move(*p));
  return out;
}

}  // namespace rsthop::offline
