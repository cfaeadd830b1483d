#include "pipeline/volume.h"

#include <gtest/gtest.h>

namespace rsthop::test {
namespace {

using pipeline::EventSet;
using pipeline::EventType;

TEST(Volume, DefaultsAreEverythingButIncidents) {
  EventSet s = EventSet::defaults();
  for (auto t : {EventType::flow, EventType::reset, EventType::verdict, EventType::lost, EventType::stats})
    EXPECT_TRUE(s.has(t)) << pipeline::name(t);
  EXPECT_FALSE(s.has(EventType::incident));
}

TEST(Volume, EventsParseFromCommaListsAndWords) {
  auto s = EventSet::parse({"incident,lost", "stats"});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->has(EventType::incident));
  EXPECT_TRUE(s->has(EventType::lost));
  EXPECT_TRUE(s->has(EventType::stats));
  EXPECT_FALSE(s->has(EventType::flow));
  EXPECT_FALSE(s->has(EventType::reset));
}

TEST(Volume, UnknownEventTypeIsOneSentence) {
  auto s = EventSet::parse({"flow,resets"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "--events: unknown event type 'resets' (known: flow, reset, verdict, lost, stats, incident)");
  EXPECT_FALSE(EventSet::parse({","}));
}

TEST(Volume, FilterKeepsOriginsAndConfidence) {
  auto o = pipeline::ResetFilter::parse_origins({"middlebox,local", "middlebox"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size(), 2u);
  pipeline::ResetFilter f{o.value(), 0.5};
  attribution::Verdict v;
  v.origin = attribution::Origin::middlebox;
  v.confidence = 0.5;
  EXPECT_TRUE(f.keep(v));
  v.confidence = 0.49;
  EXPECT_FALSE(f.keep(v));
  v.confidence = 0.9;
  v.origin = attribution::Origin::endpoint;
  EXPECT_FALSE(f.keep(v));
  EXPECT_TRUE(pipeline::ResetFilter{}.keep(v));
  auto bad = pipeline::ResetFilter::parse_origins({"router"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--origin: unknown origin 'router' (known: endpoint, middlebox, local, unknown)");
}

}  // namespace
}  // namespace rsthop::test
