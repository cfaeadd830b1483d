// The small pure helpers the engine's signals are built from.
#include "attribution/signals.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace rsthop::attribution {
namespace {

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(Signals, InitialTtl) {
  struct Case {
    int ttl, initial;
  };
  for (const Case& c : {Case{1, 32}, Case{30, 32}, Case{32, 32}, Case{33, 64}, Case{57, 64}, Case{64, 64},
                        Case{65, 128}, Case{113, 128}, Case{128, 128}, Case{129, 255}, Case{240, 255}, Case{255, 255}})
    EXPECT_EQ(initial_ttl(c.ttl), c.initial) << "ttl " << c.ttl;
}

TEST(Signals, HopsFromTtl) {
  struct Case {
    int ttl;
    bool egress;
    int hops;
  };
  for (const Case& c : {
           Case{64, false, 1},   // the neighbour made it: hop 1
           Case{62, false, 3},   // two routers, then the sender
           Case{125, false, 4},  // Windows, three routers
           Case{252, false, 4},  // initial 255
           Case{64, true, 0},    // made here
           Case{63, true, 1},    // forwarded by this box (already decremented)
           Case{128, true, 0},
       })
    EXPECT_EQ(hops_from_ttl(c.ttl, c.egress), c.hops) << "ttl " << c.ttl << " egress " << c.egress;
}

TEST(Signals, PayloadText) {
  EXPECT_EQ(payload_text(bytes("blocked by policy")), "blocked by policy");
  // Text ends at a NUL, like a C string padded into a fixed payload.
  EXPECT_EQ(payload_text(bytes(std::string_view("denied\0\0\0\x01\x02", 11))), "denied");
  // Binary: a TLS record header, an IP header, too short to be words.
  EXPECT_EQ(payload_text(bytes(std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11))), "");
  EXPECT_EQ(payload_text(bytes(std::string_view("\x45\x00\x00\x28\xab\xcd\x40\x00\x3f\x06", 10))), "");
  EXPECT_EQ(payload_text(bytes("ok")), "");
  EXPECT_EQ(payload_text({}), "");
  // Mostly text with a stray control byte is still shown, the byte masked.
  EXPECT_EQ(payload_text(bytes("access denied by rule 12\x01")), "access denied by rule 12.");
  // High bytes (not ASCII) do not count as printable.
  EXPECT_EQ(payload_text(bytes("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9")), "");
}

TEST(Signals, RstDiagnostic) {
  std::string p = {'\x33', '\xAA', '\x00', '\x07', '\x00', '\x00', '\x30', '\x39'};
  auto d = rst_diagnostic(bytes(p + "blocked"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason_code, 7);
  EXPECT_EQ(d->enterprise, 12345u);
  EXPECT_EQ(d->text, "blocked");

  auto short_one = rst_diagnostic(bytes(std::string_view("\x33\xAA\x01\x02", 4)));
  ASSERT_TRUE(short_one);
  EXPECT_EQ(short_one->reason_code, 0x0102);
  EXPECT_FALSE(short_one->enterprise);
  EXPECT_EQ(short_one->text, "");

  EXPECT_FALSE(rst_diagnostic(bytes(std::string_view("\x33\xAB\x00\x07", 4))));
  EXPECT_FALSE(rst_diagnostic(bytes(std::string_view("\x33\xAA\x00", 3))));
  EXPECT_FALSE(rst_diagnostic(bytes("blocked by policy")));
}

TEST(Signals, IpIdPattern) {
  struct Case {
    std::vector<uint16_t> ids;
    bool v6;
    const char* pattern;
  };
  for (const Case& c :
       {Case{{}, false, "n/a"}, Case{{1, 2, 3}, true, "n/a"}, Case{{0, 0, 0}, false, "zero"}, Case{{0}, false, "zero"},
        Case{{4242}, false, "single"}, Case{{4242, 4242, 4242}, false, "constant"},
        Case{{100, 101, 102}, false, "incrementing"}, Case{{100, 110, 150}, false, "incrementing"},
        Case{{65534, 65535, 0, 1}, false, "incrementing"},  // wraps
        Case{{0x3a01, 0xc2f7, 0x51e0}, false, "random"}, Case{{100, 99}, false, "random"}})
    EXPECT_EQ(ip_id_pattern(c.ids, c.v6), c.pattern) << ::testing::PrintToString(c.ids) << " v6 " << c.v6;
}

}  // namespace
}  // namespace rsthop::attribution
