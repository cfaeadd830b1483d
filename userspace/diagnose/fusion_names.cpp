#include <array>
#include <cstddef>

#include "diagnose/fusion.h"

namespace rsthop::diagnose {
namespace {

// Indexed by the enumerator: the order is the enum's.
constexpr std::array<const char*, 4> kOutcomeNames = {"ok", "reset", "drop", "error"};
constexpr std::array<const char*, 4> kTriggerNames = {"sni", "host", "any", "none"};
static_assert(static_cast<size_t>(RequestOutcome::error) + 1 == kOutcomeNames.size());
static_assert(static_cast<size_t>(Trigger::none) + 1 == kTriggerNames.size());

template <typename E, size_t N>
std::optional<E> parse_in(const std::array<const char*, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; i++)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

const char* name(RequestOutcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }
const char* name(Trigger t) { return kTriggerNames[static_cast<size_t>(t)]; }
std::optional<RequestOutcome> parse_outcome(std::string_view s) { return parse_in<RequestOutcome>(kOutcomeNames, s); }
std::optional<Trigger> parse_trigger(std::string_view s) { return parse_in<Trigger>(kTriggerNames, s); }

}  // namespace rsthop::diagnose
