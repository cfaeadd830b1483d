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

TEST(Where, SocketCgroupTagsFlowResetAndLocalPacketLines) {
  Context ctx = fx::context();
  ctx.netns_inode = 7;
  CgroupInfo info{"/system.slice/docker-" + std::string(64, 'a') + ".scope", {}};
  info.tags = parse_cgroup_path(info.path);
  int lookups = 0;
  ctx.cgroup = [&](uint64_t id) -> const CgroupInfo* {
    ++lookups;
    return id == 42 ? &info : nullptr;
  };
  flow::FlowSummary f = fx::flow_summary();
  f.cgroup_id = 42;
  flow::ResetRecord r = fx::reset_record();
  r.cgroup_id = 42;
  for (const auto& j : {flow_event(ctx, f), reset_event(ctx, r)}) {
    EXPECT_EQ(j["rsthop"]["cgroup"],
              nlohmann::json::parse(R"({"id":42,"path":"/system.slice/docker-)" + std::string(64, 'a') + R"(.scope"})"))
        << j.dump();
    EXPECT_EQ(j["container"]["id"], std::string(64, 'a'));
    EXPECT_EQ(j["container"]["runtime"], "docker");
    EXPECT_FALSE(j.contains("orchestrator"));
    EXPECT_EQ(j["rsthop"]["netns"]["inode"], 7);
  }
  // An id the resolver does not know: the id alone, no ECS container fields.
  r.cgroup_id = 43;
  auto j = reset_event(ctx, r);
  EXPECT_EQ(j["rsthop"]["cgroup"], nlohmann::json::parse(R"({"id":43})"));
  EXPECT_FALSE(j.contains("container"));
  // No socket event for the flow: no cgroup, nothing looked up.
  lookups = 0;
  j = flow_event(ctx, fx::flow_summary());
  EXPECT_FALSE(j["rsthop"].contains("cgroup")) << j.dump();
  EXPECT_EQ(lookups, 0);
  // A tracepoint packet carries its socket's cgroup; a wire packet never does.
  flow::Packet p = fx::syn_v6();
  rh_event_set_cgroup_id(&p.ev, 42);
  EXPECT_FALSE(packet_event(ctx, p)["rsthop"].contains("cgroup"));
  p.ev.kind = RH_EV_LOCAL_RST_RECV;
  p.ev.hook = RH_HOOK_TP_RECV_RESET;
  EXPECT_EQ(packet_event(ctx, p)["rsthop"]["cgroup"]["id"], 42);
}

TEST(Where, PodCgroupGivesOrchestratorFields) {
  Context ctx = fx::context();
  CgroupInfo info{"/kubepods/burstable/pod0a1b2c3d-0000-4000-8000-00000000abcd/" + std::string(64, 'b'), {}};
  info.tags = parse_cgroup_path(info.path);
  ctx.cgroup = [&](uint64_t) { return &info; };
  flow::ResetRecord r = fx::reset_record();
  r.cgroup_id = 9;
  auto j = reset_event(ctx, r);
  EXPECT_EQ(j["orchestrator"],
            nlohmann::json::parse(
                R"({"type":"kubernetes","resource":{"type":"pod","id":"0a1b2c3d-0000-4000-8000-00000000abcd"}})"));
  EXPECT_EQ(j["container"], nlohmann::json::parse(R"({"id":")" + std::string(64, 'b') + R"("})"));
  EXPECT_EQ(j["rsthop"]["cgroup"]["pod_qos"], "burstable");
}

}  // namespace
}  // namespace rsthop::output
