// Stable names of the probe enums (used in JSON output: do not rename).  One
// table per enum, indexed by the enumerator; parse() is name()'s inverse.
#include <array>
#include <cstddef>

#include "common/name_table.h"

#include "probe/probe.h"

namespace rsthop::probe {
namespace {

constexpr std::array<const char*, 8> kOutcomeNames = {"ok",          "refused",   "reset",      "timeout",
                                                      "unreachable", "tls_alert", "cert_error", "error"};
constexpr std::array<const char*, 5> kSynKindNames = {"time_exceeded", "unreachable", "reached", "refused", "silent"};
constexpr std::array<const char*, 4> kTriggerKindNames = {"reset", "response", "silent", "error"};
static_assert(static_cast<size_t>(Outcome::error) + 1 == kOutcomeNames.size());
static_assert(static_cast<size_t>(SynStep::silent) + 1 == kSynKindNames.size());
static_assert(static_cast<size_t>(TriggerStep::error) + 1 == kTriggerKindNames.size());

// An out-of-range value (a cast from a corrupt integer) names itself "error" rather than reading past the table.
template <size_t N>
const char* name_in(const std::array<const char*, N>& names, size_t i, const char* fallback) {
  return i < N ? names[i] : fallback;
}

}  // namespace

const char* name(Outcome o) { return name_in(kOutcomeNames, static_cast<size_t>(o), "error"); }
const char* name(SynStep::Kind k) { return name_in(kSynKindNames, static_cast<size_t>(k), "silent"); }
const char* name(TriggerStep::Kind k) { return name_in(kTriggerKindNames, static_cast<size_t>(k), "error"); }
std::optional<Outcome> parse_outcome(std::string_view s) { return parse_name<Outcome>(kOutcomeNames, s); }
std::optional<SynStep::Kind> parse_syn_kind(std::string_view s) { return parse_name<SynStep::Kind>(kSynKindNames, s); }
std::optional<TriggerStep::Kind> parse_trigger_kind(std::string_view s) {
  return parse_name<TriggerStep::Kind>(kTriggerKindNames, s);
}

}  // namespace rsthop::probe
