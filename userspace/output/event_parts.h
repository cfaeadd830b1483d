// Building blocks shared by the event builders (event.cpp, diagnose/lines.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "output/event.h"
#include "output/json_writer.h"

namespace rsthop::output::parts {

void timestamp(JsonWriter& w, const char* name, const Context& ctx, uint64_t mono_ns);
// Opens the event object with @timestamp, event_type, schema_version, host.name.
void begin_event(JsonWriter& w, const Context& ctx, const char* type, uint64_t mono_ns);
void mac_field(JsonWriter& w, const uint8_t* mac);
void begin_endpoint(JsonWriter& w, const char* name, const uint8_t* ip, std::optional<uint16_t> port,
                    const uint8_t* mac);
void endpoint(JsonWriter& w, const char* name, const uint8_t* ip, std::optional<uint16_t> port, const uint8_t* mac);

}  // namespace rsthop::output::parts
