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
  EXPECT_FALSE(j["rsthop"].contains("netns")) << j.dump();
  // A summary with no interface, hook or app hint has only rsthop.event_type,
  // .schema_version and .flow (schema 2 always writes rsthop), and the namespace when known.
  flow::FlowSummary f = fx::flow_summary();
  f.ifindex = 0;
  f.app = {};
  f.file.clear();
  auto bare = flow_event(ctx, f)["rsthop"];
  EXPECT_FALSE(bare.contains("netns")) << bare.dump();
  EXPECT_FALSE(bare.contains("ifindex")) << bare.dump();
  ctx.netns_inode = 7;
  auto tagged = flow_event(ctx, f)["rsthop"];
  EXPECT_EQ(tagged["netns"], nlohmann::json::parse(R"({"inode":7})"));
  EXPECT_EQ(tagged["event_type"], "flow");
  EXPECT_EQ(tagged["schema_version"], 2);
}

}  // namespace
}  // namespace rsthop::output
