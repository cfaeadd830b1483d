#include "output/where_fields.h"

namespace rsthop::output {

bool has_where(const Context& ctx) { return ctx.netns_inode != 0; }

void where_fields(JsonWriter& w, const Context& ctx) {
  if (ctx.netns_inode == 0) return;
  w.begin_object("netns");
  w.uint("inode", ctx.netns_inode);
  w.end_object();
}

}  // namespace rsthop::output
