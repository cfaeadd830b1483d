#include "cli/analyze_held.h"

namespace rsthop::cli {

Result<void> HeldSink::take(std::string_view lines, bool accounting) {
  if (!holding_) return accounting ? real_.write_accounting(lines) : real_.write(lines);
  if (over_) return {};
  held_bytes_ += lines.size();
  if (held_bytes_ > bound_) {
    over_ = true;
    held_ = {};
    return {};
  }
  held_.emplace_back(std::string(lines), accounting);  // each write as it came: a queue sees the same blocks
  return {};
}

Result<void> HeldSink::release() {
  holding_ = false;
  auto held = std::move(held_);
  held_ = {};
  for (const auto& [lines, accounting] : held)
    if (auto r = accounting ? real_.write_accounting(lines) : real_.write(lines); !r) return r;
  return {};
}

}  // namespace rsthop::cli
