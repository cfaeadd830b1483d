#include "attribution/verdict.h"

#include <array>
#include <cstddef>

namespace rsthop::attribution {
namespace {

// Indexed by the enumerator: the order is the enum's.
constexpr std::array<const char*, 4> kOriginNames = {"endpoint", "middlebox", "local", "unknown"};
constexpr std::array<const char*, 4> kStageNames = {"post_syn", "post_ack", "post_psh", "later"};
static_assert(static_cast<size_t>(Origin::unknown) + 1 == kOriginNames.size());
static_assert(static_cast<size_t>(Stage::later) + 1 == kStageNames.size());

template <typename E, size_t N>
std::optional<E> parse_in(const std::array<const char*, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; i++)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

const char* name(Origin o) { return kOriginNames[static_cast<size_t>(o)]; }
const char* name(Stage s) { return kStageNames[static_cast<size_t>(s)]; }
std::optional<Origin> parse_origin(std::string_view s) { return parse_in<Origin>(kOriginNames, s); }
std::optional<Stage> parse_stage(std::string_view s) { return parse_in<Stage>(kStageNames, s); }

}  // namespace rsthop::attribution
