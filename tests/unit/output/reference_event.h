// Reference implementation for the equivalence tests: the pre-streaming DOM
// builders (see reference_event.cpp).  Test-only; never linked into rsthop.
#pragma once

#include <nlohmann/json.hpp>

#include "output/event.h"

namespace rsthop::output::reference {

nlohmann::json reference_flow_event(const Context& ctx, const flow::FlowSummary& f);
nlohmann::json reference_reset_event(const Context& ctx, const flow::ResetRecord& r);
nlohmann::json reference_packet_event(const Context& ctx, const flow::Packet& p);
nlohmann::json reference_stats_event(const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel,
                                     const UserspaceCounters& user, double elapsed_s, bool final);
nlohmann::json reference_lost_event(const Context& ctx, uint64_t now_mono_ns, std::string_view cause, uint64_t count,
                                    uint64_t total);

}  // namespace rsthop::output::reference
