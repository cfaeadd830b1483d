#include "output/sink_set.h"

namespace rsthop::output {

Result<void> SinkSet::write(std::string_view lines) {
  Result<void> first;
  for (auto& s : sinks_)
    if (auto r = s->write(lines); !r && first) first = r;
  return first;
}

Result<void> SinkSet::write_accounting(std::string_view lines) {
  Result<void> first;
  for (auto& s : sinks_)
    if (auto r = s->write_accounting(lines); !r && first) first = r;
  return first;
}

void SinkSet::start() {
  for (auto& s : sinks_) s->start();
}

Result<void> SinkSet::reopen() {
  for (auto& s : sinks_) (void)s->reopen();
  return {};
}

std::vector<SinkStats> SinkSet::stats() const {
  std::vector<SinkStats> out;
  out.reserve(sinks_.size());
  for (const auto& s : sinks_)
    for (auto& one : s->stats()) out.push_back(std::move(one));
  return out;
}

Result<void> SinkSet::close(std::chrono::milliseconds linger) {
  const auto deadline = std::chrono::steady_clock::now() + linger;
  Result<void> first;
  for (auto& s : sinks_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (auto r = s->close(std::max(left, std::chrono::milliseconds(0))); !r && first) first = r;
  }
  return first;
}

}  // namespace rsthop::output
