#include <array>
#include <cstddef>

#include "common/name_table.h"

#include "diagnose/fusion.h"

namespace rsthop::diagnose {
namespace {

// Indexed by the enumerator: the order is the enum's.
constexpr std::array<const char*, 4> kOutcomeNames = {"ok", "reset", "drop", "error"};
constexpr std::array<const char*, 4> kTriggerNames = {"sni", "host", "any", "none"};
static_assert(static_cast<size_t>(RequestOutcome::error) + 1 == kOutcomeNames.size());
static_assert(static_cast<size_t>(Trigger::none) + 1 == kTriggerNames.size());

}  // namespace

const char* name(RequestOutcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }
const char* name(Trigger t) { return kTriggerNames[static_cast<size_t>(t)]; }
std::optional<RequestOutcome> parse_outcome(std::string_view s) { return parse_name<RequestOutcome>(kOutcomeNames, s); }
std::optional<Trigger> parse_trigger(std::string_view s) { return parse_name<Trigger>(kTriggerNames, s); }

}  // namespace rsthop::diagnose
