#include "attribution/verdict.h"

#include <array>
#include <cstddef>
#include <ostream>

#include "common/name_table.h"

namespace rsthop::attribution {
namespace {

// Indexed by the enumerator: the order is the enum's.
constexpr std::array<const char*, 4> kOriginNames = {"endpoint", "middlebox", "local", "unknown"};
constexpr std::array<const char*, 4> kStageNames = {"post_syn", "post_ack", "post_psh", "later"};
static_assert(static_cast<size_t>(Origin::unknown) + 1 == kOriginNames.size());
static_assert(static_cast<size_t>(Stage::later) + 1 == kStageNames.size());

}  // namespace

const char* name(Origin o) { return kOriginNames[static_cast<size_t>(o)]; }
const char* name(Stage s) { return kStageNames[static_cast<size_t>(s)]; }
std::optional<Origin> parse_origin(std::string_view s) { return parse_name<Origin>(kOriginNames, s); }
std::optional<Stage> parse_stage(std::string_view s) { return parse_name<Stage>(kStageNames, s); }

std::ostream& operator<<(std::ostream& os, SignalName s) { return os << s.view(); }

Evidence::Evidence(SignalName signal, std::string_view observed, std::string_view expected, double weight, bool strong)
    : signal(signal), weight(weight), strong(strong) {
  text_.append(observed, expected);
  observed_len_ = static_cast<uint32_t>(observed.size());
}

}  // namespace rsthop::attribution
