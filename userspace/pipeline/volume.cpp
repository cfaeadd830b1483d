#include "pipeline/volume.h"

#include <algorithm>
#include <array>

#include "common/name_table.h"

namespace rsthop::pipeline {
namespace {

constexpr std::array<const char*, 6> kEventNames = {"flow", "reset", "verdict", "lost", "stats", "incident"};
static_assert(static_cast<size_t>(EventType::incident) + 1 == kEventNames.size());

// "a,b" and "c" -> a, b, c; empty pieces are dropped.
std::vector<std::string> split_words(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) {
    size_t at = 0;
    while (at <= w.size()) {
      size_t comma = std::min(w.find(',', at), w.size());
      if (comma > at) out.push_back(w.substr(at, comma - at));
      at = comma + 1;
    }
  }
  return out;
}

template <size_t N>
std::string known(const std::array<const char*, N>& names) {
  std::string s;
  for (size_t i = 0; i < N; i++) s += (i ? ", " : "") + std::string(names[i]);
  return s;
}

}  // namespace

const char* name(EventType t) { return kEventNames[static_cast<size_t>(t)]; }
std::optional<EventType> parse_event_type(std::string_view s) { return parse_name<EventType>(kEventNames, s); }

EventSet EventSet::defaults() {
  EventSet s;
  for (size_t i = 0; i < kEventNames.size(); i++) s.add(static_cast<EventType>(i));
  s.remove(EventType::incident);
  return s;
}

Result<EventSet> EventSet::parse(const std::vector<std::string>& words) {
  EventSet s;
  auto list = split_words(words);
  if (list.empty()) return make_error("--events: give at least one of " + known(kEventNames));
  for (const auto& w : list) {
    auto t = parse_event_type(w);
    if (!t) return make_error("--events: unknown event type '" + w + "' (known: " + known(kEventNames) + ")");
    s.add(*t);
  }
  return s;
}

Result<std::vector<attribution::Origin>> ResetFilter::parse_origins(const std::vector<std::string>& words) {
  std::vector<attribution::Origin> out;
  for (const auto& w : split_words(words)) {
    auto o = attribution::parse_origin(w);
    if (!o) return make_error("--origin: unknown origin '" + w + "' (known: endpoint, middlebox, local, unknown)");
    if (std::find(out.begin(), out.end(), *o) == out.end()) out.push_back(*o);
  }
  return out;
}

bool ResetFilter::keep(const attribution::Verdict& v) const {
  if (v.confidence < min_confidence) return false;
  return origins.empty() || std::find(origins.begin(), origins.end(), v.origin) != origins.end();
}

}  // namespace rsthop::pipeline
