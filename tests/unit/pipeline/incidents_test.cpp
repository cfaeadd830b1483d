#include "pipeline/incidents.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "common/addr.h"
#include "output/incident_line.h"

namespace rsthop::test {
namespace {

constexpr uint64_t kSec = 1'000'000'000ULL;

// A RST from `server`:`port` (or someone posing as it) to a client that opened the connection.
flow::ResetRecord rst_from_server(const std::string& server, uint16_t port, uint16_t cport, uint64_t ts,
                                  uint32_t rsts = 1) {
  flow::ResetRecord r;
  rh_event& ev = r.first.ev;
  auto s = parse_addr(server);
  auto c = parse_addr(server.find(':') == std::string::npos ? "198.18.0.2" : "2001:db8::2");
  ev.family = server.find(':') == std::string::npos ? 4 : 6;
  std::memcpy(ev.saddr, s.value().data(), 16);
  std::memcpy(ev.daddr, c.value().data(), 16);
  ev.sport = port;
  ev.dport = cport;
  ev.side = RH_SIDE_B;
  ev.ts_ns = ts;
  r.initiator = RH_SIDE_A;
  r.count = rsts;
  return r;
}

attribution::Verdict middlebox(int hop, const std::string& fp, double confidence = 0.8) {
  attribution::Verdict v;
  v.origin = attribution::Origin::middlebox;
  v.hop = hop;
  v.fingerprint.id = fp;
  v.confidence = confidence;
  return v;
}

TEST(Incidents, ManyResetsOfOneKindToOneDestinationAreOneIncident) {
  pipeline::IncidentAggregator agg({});
  for (uint16_t i = 0; i < 42; i++)
    EXPECT_TRUE(agg.add(rst_from_server("198.18.1.5", 443, 40000 + i, i * kSec / 100, i == 0 ? 3 : 1),
                        middlebox(3, "n1/R/win0", i == 7 ? 0.9 : 0.7)));
  auto incs = agg.take();
  ASSERT_EQ(incs.size(), 1u);
  const output::Incident& inc = incs[0];
  EXPECT_EQ(inc.count, 42u);
  EXPECT_EQ(inc.rsts, 44u);
  EXPECT_EQ(inc.port, 443);
  EXPECT_EQ(inc.hop, 3);
  EXPECT_DOUBLE_EQ(inc.confidence_max, 0.9);
  EXPECT_EQ(inc.first_ns, 0u);
  EXPECT_EQ(inc.last_ns, 41 * kSec / 100);
  EXPECT_EQ(inc.community_ids.size(), output::kIncidentCommunityIds);
  EXPECT_EQ(output::incident_summary(inc),
            "42 connections to 198.18.1.5:443 reset by a middlebox at hop 3, fingerprint n1/R/win0");
  EXPECT_TRUE(agg.empty());
  EXPECT_TRUE(agg.take().empty());
  EXPECT_EQ(agg.overflow(), 0u);
}

TEST(Incidents, DestinationsAndKindsAreSeparateIncidents) {
  pipeline::IncidentAggregator agg({});
  agg.add(rst_from_server("198.18.1.5", 443, 40000, 1), middlebox(3, "a"));
  agg.add(rst_from_server("198.18.1.5", 443, 40001, 2), middlebox(3, "b"));
  agg.add(rst_from_server("198.18.1.5", 443, 40002, 3), middlebox(2, "a"));
  agg.add(rst_from_server("198.18.1.5", 80, 40003, 4), middlebox(3, "a"));
  agg.add(rst_from_server("198.18.1.6", 443, 40004, 5), middlebox(3, "a"));
  attribution::Verdict endpoint;
  endpoint.origin = attribution::Origin::endpoint;
  endpoint.hop = 3;
  endpoint.fingerprint.id = "a";
  agg.add(rst_from_server("198.18.1.6", 443, 40005, 6), endpoint);
  auto incs = agg.take();
  ASSERT_EQ(incs.size(), 6u);
  for (const auto& i : incs) EXPECT_EQ(i.count, 1u);
}

TEST(Incidents, TheDestinationIsTheResponderWhoeverSentTheRst) {
  flow::ResetRecord r = rst_from_server("198.18.1.5", 443, 40000, 1);
  // The same flow, the RST sent by the initiator (the client): it travels to the server.
  std::swap(r.first.ev.saddr, r.first.ev.daddr);
  std::swap(r.first.ev.sport, r.first.ev.dport);
  r.first.ev.side = RH_SIDE_A;
  pipeline::Destination d = pipeline::reset_destination(r);
  char text[kAddrTextMax];
  EXPECT_EQ(std::string(text, format_addr(text, d.ip.data())), "198.18.1.5");
  EXPECT_EQ(d.port, 443);
  EXPECT_EQ(d.family, 4);
}

TEST(Incidents, FullTablesCountOverflowInsteadOfGrowing) {
  pipeline::IncidentAggregator agg({.interval_ns = kSec, .max_destinations = 2, .max_groups_per_destination = 2});
  EXPECT_TRUE(agg.add(rst_from_server("198.18.1.1", 443, 40000, 1), middlebox(1, "a")));
  EXPECT_TRUE(agg.add(rst_from_server("198.18.1.2", 443, 40001, 1), middlebox(1, "a")));
  EXPECT_FALSE(agg.add(rst_from_server("198.18.1.3", 443, 40002, 1), middlebox(1, "a")));  // a third destination
  EXPECT_TRUE(agg.add(rst_from_server("198.18.1.1", 443, 40003, 1), middlebox(1, "b")));
  EXPECT_FALSE(agg.add(rst_from_server("198.18.1.1", 443, 40004, 1), middlebox(1, "c")));  // a third kind
  EXPECT_TRUE(agg.add(rst_from_server("198.18.1.1", 443, 40005, 1), middlebox(1, "a")));   // a known group
  EXPECT_EQ(agg.overflow(), 2u);
  EXPECT_EQ(agg.take().size(), 3u);
  // A new interval has room again; overflow is a running total.
  EXPECT_TRUE(agg.add(rst_from_server("198.18.1.3", 443, 40006, 1), middlebox(1, "a")));
  EXPECT_EQ(agg.overflow(), 2u);
}

TEST(Incidents, SummaryNamesTheSenderAndBracketsIpv6) {
  output::Incident inc;
  inc.family = 6;
  inc.ip = parse_addr("2001:db8::5").value();
  inc.port = 443;
  inc.count = 1;
  inc.origin = attribution::Origin::local;
  EXPECT_EQ(output::incident_summary(inc), "1 connection to [2001:db8::5]:443 reset by this host");
  inc.origin = attribution::Origin::middlebox;
  EXPECT_EQ(output::incident_summary(inc), "1 connection to [2001:db8::5]:443 reset by a middlebox");
  inc.origin = attribution::Origin::endpoint;
  inc.fingerprint = "n1/RA";
  EXPECT_EQ(output::incident_summary(inc),
            "1 connection to [2001:db8::5]:443 reset by the endpoint, fingerprint n1/RA");
}

TEST(Incidents, LineCarriesTheFields) {
  pipeline::IncidentAggregator agg({});
  agg.add(rst_from_server("198.18.1.5", 443, 40000, 5 * kSec), middlebox(2, "n1/R/win0"));
  auto incs = agg.take();
  ASSERT_EQ(incs.size(), 1u);
  auto j = output::incident_event(output::Context{"test", WallClock::fixed(0), {}}, 6 * kSec, incs[0], 1.0);
  EXPECT_EQ(j["rsthop"]["event_type"], "incident");
  EXPECT_EQ(j["destination"]["ip"], "198.18.1.5");
  EXPECT_EQ(j["destination"]["port"], 443);
  EXPECT_EQ(j["network"]["type"], "ipv4");
  EXPECT_EQ(j["rsthop"]["incident"]["count"], 1);
  EXPECT_EQ(j["rsthop"]["incident"]["origin"], "middlebox");
  EXPECT_EQ(j["rsthop"]["incident"]["hop"], 2);
  EXPECT_EQ(j["rsthop"]["incident"]["fingerprint"], "n1/R/win0");
  EXPECT_EQ(j["rsthop"]["incident"]["community_ids"].size(), 1u);
  EXPECT_EQ(j["@timestamp"], "1970-01-01T00:00:06.000000Z");
  EXPECT_EQ(j["event"]["start"], "1970-01-01T00:00:05.000000Z");
  // ECS's categorisation: information about many connections, not one connection's end.
  EXPECT_EQ(j["rsthop"]["schema_version"], 2);
  EXPECT_EQ(j["event"]["kind"], "event");
  EXPECT_EQ(j["event"]["category"], nlohmann::json::array({"network"}));
  EXPECT_EQ(j["event"]["type"], nlohmann::json::array({"info"}));
  EXPECT_EQ(j["event"]["action"], "tcp-reset-incident");
  EXPECT_EQ(j["ecs"]["version"], "8.11.0");
  EXPECT_FALSE(j.contains("incident")) << "rsthop's own fields live under rsthop.*";
}

}  // namespace
}  // namespace rsthop::test
