// Where an event was observed, beyond the interface: the tracer's network
// namespace (rsthop.netns.inode) and, for a flow a socket of this host took
// part in, that socket's cgroup (rsthop.cgroup.*) with the container
// (container.id, container.runtime) and Kubernetes pod (orchestrator.*) its
// path names.  Kept apart from event.cpp's per-packet fields so the two
// evolve separately.
#pragma once

#include <cstdint>

#include "output/event.h"
#include "output/json_writer.h"

namespace rsthop::output {

// The cgroup of one event: its id (0 = unknown) and, when resolved, path and tags.
struct Where {
  uint64_t cgroup_id = 0;
  const CgroupInfo* cgroup = nullptr;
};
Where where_of(const Context& ctx, uint64_t cgroup_id);

// True when there is anything to write (live traces; capture files have no namespace).
bool has_where(const Context& ctx);
// Top-level ECS objects: container.{id,runtime}, orchestrator.{type,resource.type,resource.id}.
void where_objects(JsonWriter& w, const Where& where);
// Members of the open rsthop object: netns.inode, cgroup.{id,path,pod_qos}.
void where_fields(JsonWriter& w, const Context& ctx, const Where& where = {});

}  // namespace rsthop::output
