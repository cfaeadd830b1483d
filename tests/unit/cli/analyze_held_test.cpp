// analyze's held output (cli/analyze_held.h): lines kept until release(), then written in order with
// plain and accounting writes apart, straight through afterwards; past the bound, dropped and said so.
#include "cli/analyze_held.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace rsthop::cli {
namespace {

struct Recording : output::Sink {
  Result<void> write(std::string_view lines) override {
    writes.emplace_back(std::string(lines), false);
    return {};
  }
  Result<void> write_accounting(std::string_view lines) override {
    writes.emplace_back(std::string(lines), true);
    return {};
  }
  std::vector<output::SinkStats> stats() const override { return {output::SinkStats{.name = "rec"}}; }
  std::vector<std::pair<std::string, bool>> writes;
};

using Writes = std::vector<std::pair<std::string, bool>>;

TEST(HeldSink, HoldsUntilReleaseThenWritesInOrderAndPassesThrough) {
  Recording real;
  HeldSink held(real);
  ASSERT_TRUE(held.write("a\nb\n").ok());
  ASSERT_TRUE(held.write_accounting("lost\n").ok());
  ASSERT_TRUE(held.write("c\n").ok());
  EXPECT_TRUE(real.writes.empty());
  ASSERT_EQ(held.stats().size(), 1u);  // the real sink's, while holding too
  EXPECT_EQ(held.stats()[0].name, "rec");
  ASSERT_TRUE(held.release().ok());
  EXPECT_EQ(real.writes, (Writes{{"a\nb\n", false}, {"lost\n", true}, {"c\n", false}}));
  ASSERT_TRUE(held.write_accounting("stats\n").ok());
  ASSERT_TRUE(held.write("d\n").ok());
  EXPECT_EQ(real.writes.size(), 5u);
  EXPECT_EQ(real.writes[3], (std::pair<std::string, bool>{"stats\n", true}));
  EXPECT_EQ(real.writes[4], (std::pair<std::string, bool>{"d\n", false}));
  EXPECT_FALSE(held.over());
}

TEST(HeldSink, PastTheBoundTheLinesAreDroppedAndOverSaysSo) {
  Recording real;
  HeldSink held(real, 8);
  ASSERT_TRUE(held.write("1234\n").ok());
  EXPECT_FALSE(held.over());
  ASSERT_TRUE(held.write("5678\n").ok());  // 10 bytes held: past 8
  EXPECT_TRUE(held.over());
  ASSERT_TRUE(held.write("9\n").ok());
  EXPECT_TRUE(held.over());
  EXPECT_TRUE(real.writes.empty());
}

TEST(HeldSink, AtTheBoundTheLinesAreKept) {
  Recording real;
  HeldSink held(real, 10);
  ASSERT_TRUE(held.write("1234\n").ok());
  ASSERT_TRUE(held.write("5678\n").ok());
  EXPECT_FALSE(held.over());
  ASSERT_TRUE(held.release().ok());
  EXPECT_EQ(real.writes, (Writes{{"1234\n", false}, {"5678\n", false}}));
}

}  // namespace
}  // namespace rsthop::cli
