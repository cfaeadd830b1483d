// Where an event was observed, beyond the interface: the tracer's network
// namespace (rsthop.netns.inode).  Kept apart from event.cpp's per-packet
// fields so the two evolve separately; written inside the rsthop object of
// flow, reset and packet lines.
#pragma once

#include "output/event.h"
#include "output/json_writer.h"

namespace rsthop::output {

// True when there is anything to write (live traces; capture files have no namespace).
bool has_where(const Context& ctx);
// Members of the open rsthop object: netns.inode.
void where_fields(JsonWriter& w, const Context& ctx);

}  // namespace rsthop::output
