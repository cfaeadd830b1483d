// Building blocks shared by the event builders (event.cpp, diagnose/lines.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "output/event.h"
#include "output/json_writer.h"

namespace rsthop::output::parts {

// ECS's categorisation of one line type: event.kind, event.category (one
// value), event.type (one or two values) and event.action, with values from
// ECS's allowed lists (tests/fixtures/ecs/ecs_flat_subset.yml).  Every string
// must be static (a literal or a names.h table entry): begin_event keeps the
// class's rendered text per thread, found by these addresses.
struct EventClass {
  std::string_view event_type;  // rsthop.event_type
  std::string_view kind;
  std::string_view category;
  std::string_view type1;
  std::string_view type2;  // empty: one event.type
  std::string_view action;
};

// The per-line members of event.*; unset ones are left out.
struct EventFields {
  std::string_view outcome;                            // event.outcome: "success", "failure" or "unknown"; empty: unset
  std::optional<uint64_t> duration_ns;                 // event.duration
  std::optional<uint64_t> start_mono_ns, end_mono_ns;  // event.start / event.end
};

// The line types every command writes (diagnose adds its own in lines.cpp).
extern const EventClass kFlowClass, kResetClass, kPacketClass, kStatsClass, kLostClass;
// The aggregate line of --incidents (incident_line.cpp).
extern const EventClass kIncidentClass;

void timestamp(JsonWriter& w, std::string_view name, const Context& ctx, uint64_t mono_ns);
// Opens the line with @timestamp, ecs.version, host.name and event.*.
void begin_event(JsonWriter& w, const Context& ctx, const EventClass& c, uint64_t mono_ns,
                 const EventFields& fields = {});
// Opens rsthop.* with rsthop.event_type and rsthop.schema_version; the caller
// adds its members and closes it.
void begin_rsthop(JsonWriter& w, const EventClass& c);
// ECS MAC notation (02-68-78-01-00-01); zero MACs are left out.
void mac_field(JsonWriter& w, const uint8_t* mac);
void begin_endpoint(JsonWriter& w, std::string_view name, const uint8_t* ip, std::optional<uint16_t> port,
                    const uint8_t* mac);
void endpoint(JsonWriter& w, std::string_view name, const uint8_t* ip, std::optional<uint16_t> port,
              const uint8_t* mac);

}  // namespace rsthop::output::parts
