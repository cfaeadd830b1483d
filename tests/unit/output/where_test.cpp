#include "output/where_fields.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace rsthop::output {
namespace {

namespace fx = fixtures;

TEST(Where, LiveLinesCarryTheNetworkNamespace) {
  Context ctx = fx::context();
  ctx.netns_inode = 4026531840ULL;
  for (const auto& j :
       {flow_event(ctx, fx::flow_summary()), reset_event(ctx, fx::reset_record()), packet_event(ctx, fx::syn_v6())})
    EXPECT_EQ(j["rsthop"]["netns"]["inode"], 4026531840ULL) << j.dump();
}

TEST(Where, NoNamespaceNoField) {
  Context ctx = fx::context();
  ctx.netns_inode = 0;
  auto j = reset_event(ctx, fx::reset_record());
  EXPECT_FALSE(j.contains("rsthop") && j["rsthop"].contains("netns")) << j.dump();
  // A summary with no interface, hook or app hint has no rsthop object at all, unless it has a namespace.
  flow::FlowSummary f = fx::flow_summary();
  f.ifindex = 0;
  f.app = {};
  f.file.clear();
  EXPECT_FALSE(flow_event(ctx, f).contains("rsthop"));
  ctx.netns_inode = 7;
  EXPECT_EQ(flow_event(ctx, f)["rsthop"], nlohmann::json::parse(R"({"netns":{"inode":7}})"));
}

}  // namespace
}  // namespace rsthop::output
