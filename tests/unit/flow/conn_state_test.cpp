// Zeek conn_state and history letters for connections replayed frame by
// frame through the kernel's state machine, table-driven.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conn.h"

namespace rsthop::test {
namespace {

struct Step {
  char who;  // 'c' client, 's' server, 'x' client segment sent but not seen here
  uint8_t flags;
  std::string data = {};
};

struct StateCase {
  const char* name;
  std::vector<Step> steps;
  const char* conn_state;
  const char* history;
  uint16_t source_port = 0;  // Zeek's originator, when not the client
};

void PrintTo(const StateCase& c, std::ostream* os) { *os << c.name; }

class ConnState : public ::testing::TestWithParam<StateCase> {};

TEST_P(ConnState, MatchesZeek) {
  const StateCase& tc = GetParam();
  Conn c;
  Harness h;
  uint64_t ts = 0;
  for (const Step& s : tc.steps) {
    ts += kMs;
    Bytes b = s.who == 's' ? c.s(s.flags, s.data) : c.c(s.flags, s.data);
    if (s.who != 'x') h.frame(ts, b);
  }
  h.timeline.finish(ts + 10 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].conn_state, tc.conn_state);
  EXPECT_EQ(h.flows[0].history, tc.history);
  EXPECT_EQ(h.flows[0].source.port, tc.source_port ? tc.source_port : c.cport);
}

const std::string kReq = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
const std::string kResp = "HTTP/1.1 204 No Content\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    Zeek, ConnState,
    ::testing::Values(
        StateCase{"S0", {{'c', kSyn}}, "S0", "S"}, StateCase{"REJ", {{'c', kSyn}, {'s', kRstAck}}, "REJ", "Sr"},
        StateCase{"SF",
                  {{'c', kSyn},
                   {'s', kSynAck},
                   {'c', kAck},
                   {'c', kData, kReq},
                   {'s', kAck},
                   {'s', kData, kResp},
                   {'c', kFinAck},
                   {'s', kFinAck},
                   {'c', kAck}},
                  "SF",
                  "ShADadFf"},
        StateCase{"S1", {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}}, "S1", "ShA"},
        StateCase{"S1Data",
                  {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'c', kData, kReq}, {'s', kData, kResp}},
                  "S1",
                  "ShADd"},
        StateCase{"ServerSpeaksFirst",
                  {{'c', kSyn},
                   {'s', kSynAck},
                   {'c', kAck},
                   {'s', kData, "220 smtp\r\n"},
                   {'c', kData, "EHLO x\r\n"},
                   {'c', kFinAck},
                   {'s', kFinAck}},
                  "SF",
                  "ShAdDFf"},
        StateCase{
            "RSTO", {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'c', kData, kReq}, {'c', kRstAck}}, "RSTO", "ShADR"},
        StateCase{"RSTR", {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'c', kData, kReq}, {'s', kRst}}, "RSTR", "ShADr"},
        // Both reset and no byte sent: Zeek calls it a rejection.
        StateCase{
            "RSTBothOrigFirst", {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'c', kRst}, {'s', kRst}}, "REJ", "ShARr"},
        StateCase{"RSTOS0", {{'c', kSyn}, {'c', kRst}}, "RSTOS0", "SR"},
        StateCase{"S2", {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'c', kFinAck}}, "S2", "ShAF"},
        StateCase{"S3", {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'s', kFinAck}}, "S3", "ShAf"},
        StateCase{"SH", {{'c', kSyn}, {'c', kFin}}, "SH", "SF"},
        StateCase{"RSTRH", {{'x', kSyn}, {'s', kSynAck}, {'s', kRst}}, "RSTRH", "^hr"},
        StateCase{"SHR", {{'x', kSyn}, {'s', kSynAck}, {'s', kFinAck}}, "SHR", "^hf"},
        // Mid-stream data makes no event: the FIN's state copy says what came before.
        StateCase{"MidStreamHalfClosed", {{'c', kData, kReq}, {'s', kData, kResp}, {'c', kFinAck}}, "SH", "DdF"},
        StateCase{"MidStreamFinsBothWays",
                  {{'c', kData, kReq}, {'s', kData, kResp}, {'c', kFinAck}, {'s', kFinAck}},
                  "SF",
                  "DdFf"},
        StateCase{"FinsOnly", {{'c', kFinAck}, {'s', kFinAck}}, "SF", "Ff"},
        StateCase{"RstAfterFinExchange",
                  {{'c', kSyn}, {'s', kSynAck}, {'c', kAck}, {'c', kFinAck}, {'s', kFinAck}, {'c', kRst}},
                  "SF",
                  "ShAFfR"},
        StateCase{"RSTOS0OnlyWithoutAck", {{'c', kSyn}, {'c', kAck}, {'c', kRst}}, "OTH", "SAR"},
        StateCase{"RepeatedRstSameSeqIsOneLetter", {{'c', kSyn}, {'s', kRstAck}, {'s', kRstAck}}, "REJ", "Sr"}),
    [](const ::testing::TestParamInfo<StateCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace rsthop::test
