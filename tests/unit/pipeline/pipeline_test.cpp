#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conn.h"

namespace rsthop::test {
namespace {

constexpr uint64_t kSec = 1'000'000'000ULL;
constexpr uint64_t kT0 = 1'700'000'000ULL * kSec;

// Keeps every line written; fails every write once `fail` is set.
class MemorySink : public output::Sink {
 public:
  explicit MemorySink(std::string* out, const bool* fail) : out_(out), fail_(fail) {}
  Result<void> write(std::string_view lines) override {
    if (*fail_) return make_error("out.ndjson: no space left on device", 28);
    out_->append(lines);
    return {};
  }

 private:
  std::string* out_;
  const bool* fail_;
};

struct Fixture {
  explicit Fixture(pipeline::Pipeline::Options opt = {})
      : writer(std::make_unique<MemorySink>(&text, &fail), output::Format::json),
        pipe(
            opt, &writer, output::Context{"test", WallClock::fixed(0), {}},
            [this](const rh_flow_key& k) { return replayer.lookup(k); }, [this] { return counters; }) {}

  void frame(uint64_t ts, Bytes b, uint8_t hook) {
    if (auto p = replayer.feed(offline::Frame{ts, std::move(b), hook})) pipe.add(*p);
  }
  // SYN, SYN-ACK, then the server's RST: one flow, one reset.
  void reset_connection(uint64_t t) {
    frame(t, c.c(kSyn), RH_HOOK_TC_EGRESS);
    frame(t + 1'000'000, c.s(kSynAck), RH_HOOK_XDP);
    frame(t + 2'000'000, c.s(kRst), RH_HOOK_XDP);
  }
  std::vector<nlohmann::json> lines() {
    pipe.flush();
    std::vector<nlohmann::json> out;
    size_t at = 0;
    while (at < text.size()) {
      size_t nl = text.find('\n', at);
      out.push_back(nlohmann::json::parse(text.substr(at, nl - at)));
      at = nl + 1;
    }
    return out;
  }
  std::vector<nlohmann::json> of_type(const std::string& type) {
    std::vector<nlohmann::json> out;
    for (auto& l : lines())
      if (l["rsthop"]["event_type"] == type) out.push_back(l);
    return out;
  }

  std::string text;
  bool fail = false;
  pipeline::Counters counters;
  offline::Replayer replayer;
  Conn c;
  output::Writer writer;
  pipeline::Pipeline pipe;  // last: its lookup and counters read the members above
};

TEST(Pipeline, ResetLineCarriesTheVerdictTheHookGets) {
  Fixture f;
  std::vector<std::string> origins;
  f.pipe.set_hooks({.on_reset = [&](const flow::ResetRecord&, const attribution::Verdict& v) {
    origins.push_back(std::string(attribution::name(v.origin)));
    return Result<void>();
  }});
  f.reset_connection(kT0);
  f.pipe.finish(kT0 + 5 * kSec, 5);
  auto resets = f.of_type("reset");
  ASSERT_EQ(resets.size(), 1u);
  ASSERT_EQ(origins.size(), 1u);
  EXPECT_EQ(resets[0]["rsthop"]["reset"]["origin"], origins[0]);
  EXPECT_EQ(f.of_type("flow").size(), 1u);
  auto stats = f.of_type("stats");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["rsthop"]["stats"]["final"], true);
  EXPECT_EQ(stats[0]["rsthop"]["stats"]["userspace"]["events_received"], 3);
  EXPECT_EQ(stats[0]["rsthop"]["stats"]["userspace"]["resets_emitted"], 1);
}

TEST(Pipeline, PacketLinesOnlyWhenAsked) {
  pipeline::Pipeline::Options o;
  o.packet_lines = true;
  Fixture with(o), without;
  with.reset_connection(kT0);
  without.reset_connection(kT0);
  EXPECT_EQ(with.of_type("packet").size(), 3u);
  EXPECT_EQ(without.of_type("packet").size(), 0u);
}

TEST(Pipeline, LostLinesReportWhatMovedSinceTheLastTick) {
  Fixture f;
  f.pipe.advance(kT0);  // the first advance ticks
  EXPECT_TRUE(f.of_type("lost").empty());
  f.counters.kernel[RH_C_LOST_RINGBUF] = 5;
  f.counters.malformed = 2;
  f.pipe.advance(kT0 + kSec / 2);  // no tick due yet
  EXPECT_TRUE(f.of_type("lost").empty());
  f.pipe.advance(kT0 + kSec);
  auto lost = f.of_type("lost");
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[0]["rsthop"]["lost"]["count"], 5);
  EXPECT_EQ(lost[1]["rsthop"]["lost"]["count"], 2);
  f.counters.kernel[RH_C_LOST_RINGBUF] = 7;
  f.pipe.finish(kT0 + 2 * kSec, 2);
  lost = f.of_type("lost");
  ASSERT_EQ(lost.size(), 3u);
  EXPECT_EQ(lost[2]["rsthop"]["lost"]["count"], 2);
  EXPECT_EQ(lost[2]["rsthop"]["lost"]["total"], 7);
  EXPECT_EQ(f.pipe.lost_total(), 9u);
  auto stats = f.of_type("stats");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["rsthop"]["stats"]["userspace"]["parse_errors"], 2);
}

// diagnose in text mode: no `lost` lines, but the total still counts.
TEST(Pipeline, LossesCountedWithoutLostLines) {
  pipeline::Pipeline::Options o;
  o.loss_lines = false;
  Fixture f(o);
  f.counters.kernel[RH_C_LOST_RINGBUF] = 4;
  f.pipe.report_losses(kT0);
  EXPECT_TRUE(f.of_type("lost").empty());
  EXPECT_EQ(f.pipe.lost_total(), 4u);
}

TEST(Pipeline, PeriodicStatsLines) {
  pipeline::Pipeline::Options o;
  o.start_ns = kT0;
  o.stats_every_ns = 10 * kSec;
  Fixture f(o);
  f.pipe.advance(kT0 + 9 * kSec);
  EXPECT_TRUE(f.of_type("stats").empty());
  f.pipe.advance(kT0 + 10 * kSec);
  auto stats = f.of_type("stats");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["rsthop"]["stats"]["final"], false);
  EXPECT_DOUBLE_EQ(stats[0]["rsthop"]["stats"]["elapsed_s"].get<double>(), 10.0);
}

// trace's SIGHUP: packet lines and the stats period change on a running pipeline.
TEST(Pipeline, SetLiveChangesPacketLinesAndTheStatsPeriod) {
  pipeline::Pipeline::Options o;
  o.start_ns = kT0;
  o.stats_every_ns = 100 * kSec;
  Fixture f(o);
  f.pipe.set_live(true, 2 * kSec, kT0 + kSec);  // next stats line at kT0 + 3 s, not kT0 + 100 s
  f.reset_connection(kT0 + kSec);
  EXPECT_EQ(f.of_type("packet").size(), 3u);
  f.pipe.advance(kT0 + 2 * kSec);
  EXPECT_TRUE(f.of_type("stats").empty());
  f.pipe.advance(kT0 + 3 * kSec);
  EXPECT_EQ(f.of_type("stats").size(), 1u);
  f.pipe.set_live(false, 0, kT0 + 4 * kSec);  // 0: no more periodic lines
  f.pipe.advance(kT0 + 60 * kSec);
  EXPECT_EQ(f.of_type("stats").size(), 1u);
  f.reset_connection(kT0 + 61 * kSec);
  EXPECT_EQ(f.of_type("packet").size(), 3u);
}

// advance() compares `now` with the earliest deadline only: a stats period set live that ends
// before the next tick must still be kept (the earliest deadline follows set_live).
TEST(Pipeline, SetLiveStatsPeriodShorterThanTheTick) {
  pipeline::Pipeline::Options o;
  o.start_ns = kT0;
  o.tick_ns = 100 * kSec;
  o.loss_lines = false;
  Fixture f(o);
  f.pipe.advance(kT0 + kSec);
  EXPECT_TRUE(f.of_type("stats").empty());
  f.pipe.set_live(false, 2 * kSec, kT0 + kSec);  // next stats line at kT0 + 3 s, the tick at kT0 + 100 s
  f.pipe.advance(kT0 + 2 * kSec);
  EXPECT_TRUE(f.of_type("stats").empty());
  f.pipe.advance(kT0 + 3 * kSec);
  EXPECT_EQ(f.of_type("stats").size(), 1u);
  f.pipe.advance(kT0 + 5 * kSec);
  EXPECT_EQ(f.of_type("stats").size(), 2u);
}

// analyze: a new file's timeline does not continue the previous file's flows,
// while the engine and the counters carry on.
TEST(Pipeline, RestartStartsAFreshTimeline) {
  Fixture f;
  f.frame(kT0, f.c.c(kSyn), RH_HOOK_TC_EGRESS);
  f.pipe.finish_flows(kT0 + kSec);
  f.pipe.restart({});
  f.frame(kT0 + 2 * kSec, f.c.s(kSynAck), RH_HOOK_XDP);
  f.pipe.finish(kT0 + 3 * kSec, 3);
  EXPECT_EQ(f.of_type("flow").size(), 2u);
  EXPECT_EQ(f.of_type("stats")[0]["rsthop"]["stats"]["userspace"]["events_received"], 2);
}

TEST(Pipeline, FirstWriteErrorIsKeptAndStopsTheLines) {
  Fixture f;
  f.reset_connection(kT0);
  f.fail = true;
  f.pipe.finish(kT0 + 5 * kSec, 5);
  ASSERT_FALSE(f.pipe.ok());
  EXPECT_EQ(f.pipe.status().error().message, "out.ndjson: no space left on device");
  f.fail = false;
  f.pipe.write_stats(kT0 + 6 * kSec, 6, true);
  f.pipe.flush();
  EXPECT_TRUE(f.text.empty());
}

TEST(Pipeline, HookErrorIsAnError) {
  Fixture f;
  f.pipe.set_hooks({.on_reset = [](const flow::ResetRecord&, const attribution::Verdict&) -> Result<void> {
    return make_error("evidence.pcapng: disk full");
  }});
  f.reset_connection(kT0);
  f.pipe.finish(kT0 + 5 * kSec, 5);
  ASSERT_FALSE(f.pipe.ok());
  EXPECT_EQ(f.pipe.status().error().message, "evidence.pcapng: disk full");
}

// --incidents: the resets of an interval become incident lines, at the
// interval's end and at finish; reset lines only when asked for.
TEST(Pipeline, IncidentsReplaceResetLinesPerInterval) {
  pipeline::Pipeline::Options o;
  o.start_ns = kT0;
  o.reset_lines = false;
  o.incident_interval_ns = 5 * kSec;
  Fixture f(o);
  for (uint16_t i = 0; i < 30; i++) {
    f.c.cport = static_cast<uint16_t>(41000 + i);
    f.reset_connection(kT0 + i * 10'000'000ULL);
  }
  f.pipe.advance(kT0 + 2 * kSec);  // the flows end, their resets are counted
  EXPECT_TRUE(f.of_type("incident").empty());
  f.pipe.advance(kT0 + 5 * kSec);
  auto incs = f.of_type("incident");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_EQ(incs[0]["rsthop"]["incident"]["count"], 30);
  EXPECT_EQ(incs[0]["destination"]["ip"], "10.0.0.2");
  EXPECT_EQ(incs[0]["destination"]["port"], 443);
  EXPECT_EQ(incs[0]["rsthop"]["incident"]["origin"], "endpoint");
  f.c.cport = 42000;
  f.reset_connection(kT0 + 6 * kSec);
  f.pipe.finish(kT0 + 8 * kSec, 8);
  incs = f.of_type("incident");
  ASSERT_EQ(incs.size(), 2u);
  EXPECT_EQ(incs[1]["rsthop"]["incident"]["count"], 1);
  EXPECT_TRUE(f.of_type("reset").empty());
  EXPECT_EQ(f.pipe.incidents_emitted(), 2u);
}

TEST(Pipeline, FilteredResetsHaveNoLineAndNoIncident) {
  pipeline::Pipeline::Options o;
  o.incident_interval_ns = kSec;
  o.reset_filter.origins = {attribution::Origin::middlebox};
  Fixture f(o);
  f.reset_connection(kT0);
  f.pipe.finish(kT0 + 5 * kSec, 5);
  EXPECT_TRUE(f.of_type("reset").empty());
  EXPECT_TRUE(f.of_type("incident").empty());
  EXPECT_EQ(f.of_type("flow").size(), 1u);
  EXPECT_EQ(f.pipe.resets_filtered(), 1u);
}

TEST(Pipeline, IncidentOverflowIsALostLine) {
  pipeline::Pipeline::Options o;
  o.incident_interval_ns = kSec;
  o.incident_max_destinations = 1;
  Fixture f(o);
  f.reset_connection(kT0);
  f.c.server = "10.0.0.3";
  f.reset_connection(kT0 + kSec / 10);
  f.pipe.finish(kT0 + 5 * kSec, 5);
  EXPECT_EQ(f.of_type("incident").size(), 1u);
  auto lost = f.of_type("lost");
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0]["rsthop"]["lost"]["cause"], "incident_overflow");
  EXPECT_EQ(lost[0]["rsthop"]["lost"]["count"], 1);
  EXPECT_EQ(f.pipe.lost_total(), 1u);
}

TEST(Pipeline, NotedLossesAreLostLinesOfTheirMoveOnly) {
  Fixture f;
  f.pipe.note_loss("auto_diagnose_queue", 0, kT0);
  f.pipe.note_loss("auto_diagnose_queue", 3, kT0 + kSec);
  f.pipe.note_loss("auto_diagnose_queue", 3, kT0 + 2 * kSec);
  f.pipe.note_loss("auto_diagnose_queue", 5, kT0 + 3 * kSec);
  f.pipe.finish(kT0 + 5 * kSec, 5);
  auto lost = f.of_type("lost");
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[0]["rsthop"]["lost"]["cause"], "auto_diagnose_queue");
  EXPECT_EQ(lost[0]["rsthop"]["lost"]["count"], 3);
  EXPECT_EQ(lost[1]["rsthop"]["lost"]["count"], 2);
  EXPECT_EQ(lost[1]["rsthop"]["lost"]["total"], 5);
  EXPECT_EQ(f.pipe.lost_total(), 5u);
}

}  // namespace
}  // namespace rsthop::test
