#include "output/where_fields.h"

namespace rsthop::output {

Where where_of(const Context& ctx, uint64_t cgroup_id) {
  Where w{cgroup_id, nullptr};
  if (cgroup_id != 0 && ctx.cgroup) w.cgroup = ctx.cgroup(cgroup_id);
  return w;
}

bool has_where(const Context& ctx) { return ctx.netns_inode != 0; }

void where_objects(JsonWriter& w, const Where& where) {
  if (!where.cgroup) return;
  const CgroupTags& t = where.cgroup->tags;
  if (!t.container_id.empty()) {
    w.begin_object("container");
    w.string("id", t.container_id);
    if (!t.runtime.empty()) w.plain("runtime", t.runtime);
    w.end_object();
  }
  if (!t.pod_uid.empty()) {
    w.begin_object("orchestrator");
    w.plain("type", "kubernetes");
    w.begin_object("resource");
    w.plain("type", "pod");
    w.string("id", t.pod_uid);
    w.end_object();
    w.end_object();
  }
}

void where_fields(JsonWriter& w, const Context& ctx, const Where& where) {
  if (ctx.netns_inode != 0) {
    w.begin_object("netns");
    w.uint("inode", ctx.netns_inode);
    w.end_object();
  }
  if (where.cgroup_id == 0) return;
  w.begin_object("cgroup");
  w.uint("id", where.cgroup_id);
  if (where.cgroup) {
    w.string("path", where.cgroup->path);
    if (!where.cgroup->tags.pod_qos.empty()) w.plain("pod_qos", where.cgroup->tags.pod_qos);
  }
  w.end_object();
}

}  // namespace rsthop::output
