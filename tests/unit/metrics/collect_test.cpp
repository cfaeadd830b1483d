#include "metrics/collect.h"

#include <gtest/gtest.h>

#include <set>

#include "output/names.h"

namespace rsthop::metrics {
namespace {

const Family* find(const std::vector<Family>& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name) return &f;
  return nullptr;
}

// The value of the sample with exactly these labels; -1 when there is none.
int64_t value(const std::vector<Family>& fs, const std::string& name, const Labels& labels = {}) {
  const Family* f = find(fs, name);
  if (!f) return -1;
  for (const auto& s : f->samples)
    if (s.labels == labels) return static_cast<int64_t>(s.value);
  return -1;
}

attribution::Verdict verdict(attribution::Origin o, attribution::Stage s, std::optional<int> hop) {
  attribution::Verdict v;
  v.origin = o;
  v.stage = s;
  v.hop = hop;
  return v;
}

TEST(Collect, EveryNameAndLabelIsValidAndUnique) {
  ResetTally t;
  RunStats s;
  s.resets = &t;
  s.sinks = {{"-", 1, 2}};
  s.attachments = {{"eth0", "tc-ingress", "tcx", "another XDP program is attached there"}};
  std::set<std::string> names;
  for (const auto& f : collect(s)) {
    EXPECT_TRUE(valid_metric_name(f.name)) << f.name;
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
    EXPECT_EQ(f.type == Type::counter, f.name.ends_with("_total")) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    std::set<Labels> seen;
    for (const auto& smp : f.samples) {
      for (const auto& [k, v] : smp.labels) EXPECT_TRUE(valid_label_name(k)) << f.name << " " << k;
      EXPECT_TRUE(seen.insert(smp.labels).second) << "duplicate series in " << f.name;
    }
  }
}

TEST(Collect, KernelAndUserspaceCounters) {
  RunStats s;
  for (int i = 0; i < RH_C_MAX; i++) s.kernel[static_cast<size_t>(i)] = 100 + static_cast<uint64_t>(i);
  s.user.events_received = 7;
  s.user.resets_emitted = 2;
  s.flows_tracked = 5;
  auto fs = collect(s);
  for (int i = 0; i < RH_C_MAX; i++)
    EXPECT_EQ(value(fs, std::string("rsthop_kernel_") + output::counter_name(i) + "_total"), 100 + i);
  EXPECT_EQ(value(fs, "rsthop_events_received_total"), 7);
  EXPECT_EQ(value(fs, "rsthop_resets_emitted_total"), 2);
  EXPECT_EQ(value(fs, "rsthop_flows_tracked"), 5);
}

TEST(Collect, ResetsByOriginStageAndHopBucket) {
  using attribution::Origin;
  using attribution::Stage;
  ResetTally t;
  t.count(verdict(Origin::middlebox, Stage::post_psh, 2));
  t.count(verdict(Origin::middlebox, Stage::post_psh, 2));
  t.count(verdict(Origin::middlebox, Stage::post_psh, 5));
  t.count(verdict(Origin::endpoint, Stage::post_syn, std::nullopt));
  t.count(verdict(Origin::local, Stage::later, 0));
  RunStats s;
  s.resets = &t;
  auto fs = collect(s);
  auto r = [&](const char* o, const char* st, const char* hop) {
    return value(fs, "rsthop_resets_total", {{"origin", o}, {"stage", st}, {"hop", hop}});
  };
  EXPECT_EQ(r("middlebox", "post_psh", "2"), 2);
  EXPECT_EQ(r("middlebox", "post_psh", "4-7"), 1);
  EXPECT_EQ(r("endpoint", "post_syn", "none"), 1);
  EXPECT_EQ(r("local", "later", "0"), 1);
  EXPECT_EQ(r("unknown", "post_ack", "16+"), 0);  // every series exists before its first reset
  EXPECT_EQ(find(fs, "rsthop_resets_total")->samples.size(), 4u * 4u * 8u);
}

TEST(Collect, HopBuckets) {
  EXPECT_STREQ(ResetTally::hop_bucket(std::nullopt), "none");
  EXPECT_STREQ(ResetTally::hop_bucket(-1), "none");
  EXPECT_STREQ(ResetTally::hop_bucket(0), "0");
  EXPECT_STREQ(ResetTally::hop_bucket(3), "3");
  EXPECT_STREQ(ResetTally::hop_bucket(4), "4-7");
  EXPECT_STREQ(ResetTally::hop_bucket(15), "8-15");
  EXPECT_STREQ(ResetTally::hop_bucket(64), "16+");
}

TEST(Collect, LossesByCauseIncludeMalformedAndSinkFull) {
  RunStats s;
  s.kernel[RH_C_LOST_RINGBUF] = 9;
  s.malformed = 4;
  s.sinks = {{"tcp:10.0.0.1:5140", 3, 5}, {"syslog", 0, 6}};
  auto fs = collect(s);
  EXPECT_EQ(value(fs, "rsthop_events_lost_total", {{"cause", "ringbuf_full"}}), 9);
  EXPECT_EQ(value(fs, "rsthop_events_lost_total", {{"cause", "malformed_record"}}), 4);
  EXPECT_EQ(value(fs, "rsthop_events_lost_total", {{"cause", "sink_full"}}), 11);
  EXPECT_EQ(value(fs, "rsthop_sink_queue_depth", {{"sink", "tcp:10.0.0.1:5140"}}), 3);
  EXPECT_EQ(value(fs, "rsthop_sink_dropped_total", {{"sink", "syslog"}}), 6);
}

TEST(Collect, NoSinksWiredMeansFamiliesWithoutSamples) {
  auto fs = collect(RunStats{});
  ASSERT_NE(find(fs, "rsthop_sink_queue_depth"), nullptr);
  EXPECT_TRUE(find(fs, "rsthop_sink_queue_depth")->samples.empty());
  EXPECT_TRUE(find(fs, "rsthop_sink_dropped_total")->samples.empty());
  EXPECT_EQ(value(fs, "rsthop_events_lost_total", {{"cause", "sink_full"}}), 0);
}

TEST(Collect, AttachmentInfo) {
  RunStats s;
  s.attachments = {{"eth0", "tc-ingress", "tcx", "another XDP program is attached there"},
                   {"eth0", "tc-egress", "tcx", ""}};
  auto fs = collect(s);
  EXPECT_EQ(value(fs, "rsthop_attachment_info",
                  {{"interface", "eth0"},
                   {"hook", "tc-ingress"},
                   {"mode", "tcx"},
                   {"fallback", "another XDP program is attached there"}}),
            1);
  EXPECT_EQ(find(fs, "rsthop_attachment_info")->samples.size(), 2u);
}

}  // namespace
}  // namespace rsthop::metrics
