#include "metrics/exposition.h"

#include <gtest/gtest.h>

namespace rsthop::metrics {
namespace {

TEST(Exposition, RendersHelpTypeAndSamples) {
  std::vector<Family> f = {
      {"rsthop_resets_total", "Resets", Type::counter, {{{{"origin", "middlebox"}, {"hop", "2"}}, 3}, {{}, 0}}},
      {"rsthop_flows_tracked", "Open flows", Type::gauge, {{{}, 42}}},
  };
  EXPECT_EQ(render(f),
            "# HELP rsthop_resets_total Resets\n"
            "# TYPE rsthop_resets_total counter\n"
            "rsthop_resets_total{origin=\"middlebox\",hop=\"2\"} 3\n"
            "rsthop_resets_total 0\n"
            "# HELP rsthop_flows_tracked Open flows\n"
            "# TYPE rsthop_flows_tracked gauge\n"
            "rsthop_flows_tracked 42\n");
}

TEST(Exposition, FamilyWithoutSamplesKeepsHelpAndType) {
  EXPECT_EQ(render({{"rsthop_sink_queue_depth", "Queued", Type::gauge, {}}}),
            "# HELP rsthop_sink_queue_depth Queued\n# TYPE rsthop_sink_queue_depth gauge\n");
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
  std::string out = render({{"m_total", "h", Type::counter, {{{{"sink", "unix:/run/\"x\"\n"}}, 1}}}});
  EXPECT_NE(out.find("m_total{sink=\"unix:/run/\\\"x\\\"\\n\"} 1\n"), std::string::npos) << out;
}

TEST(Exposition, LargeCountersAreExactIntegers) {
  std::string out = render({{"m_total", "h", Type::counter, {{{}, 18446744073709551615ULL}}}});
  EXPECT_NE(out.find("m_total 18446744073709551615\n"), std::string::npos) << out;
}

TEST(Exposition, Names) {
  EXPECT_TRUE(valid_metric_name("rsthop_kernel_packets_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_TRUE(valid_label_name("origin"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("__name__"));
}

}  // namespace
}  // namespace rsthop::metrics
