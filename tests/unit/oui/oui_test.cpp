// The IEEE registry: CSV parsing, longest-prefix lookup over registries the
// tests write, and the system's ieee-data when it is installed.
#include "oui/oui.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rsthop::oui {
namespace {

using Mac = std::array<uint8_t, 6>;

struct TempDir {
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rsthop-oui-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    path = mkdtemp(buf.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
  std::filesystem::path path;
};

constexpr const char* kHeader = "Registry,Assignment,Organization Name,Organization Address\n";

TEST(Csv, ParsesQuotedCommasAndEscapedQuotes) {
  struct Case {
    const char* line;
    bool ok;
    const char* assignment;
    const char* org;
  };
  for (const Case& c : {
           Case{"MA-L,0001D7,\"F5 Networks, Inc.\",1322 N. Whitman Lane Liberty Lake WA US 99019 ", true, "0001D7",
                "F5 Networks, Inc."},
           Case{"MA-L,001EFC,\"JSC \"\"MASSA-K\"\"\",\"15, A, Pirogovskaya nab.\"", true, "001EFC", "JSC \"MASSA-K\""},
           Case{"MA-L,A047D7,Best IT World (India) Pvt Ltd,\"87, Mistry Complex,, Road \"\"A\"\"\"", true, "A047D7",
                "Best IT World (India) Pvt Ltd"},
           Case{"MA-M,741AE09,Private,", true, "741AE09", "Private"},
           Case{"MA-S,70B3D5F2F,TELEPLATFORMS,\"Polbina st., 3/1 Moscow  RU 109388 \"\r", true, "70B3D5F2F",
                "TELEPLATFORMS"},
           Case{"MA-L,00D0EF,IGT", true, "00D0EF", "IGT"},  // no address field
           Case{"MA-L,00D0EF,IGT\r", true, "00D0EF", "IGT"},
           Case{"MA-L,,Nobody,", false, "", ""},
           Case{"MA-L,00D0EF", false, "", ""},
           Case{"", false, "", ""},
       }) {
    SCOPED_TRACE(c.line);
    std::string assignment, org;
    EXPECT_EQ(parse_csv_line(c.line, assignment, org), c.ok);
    if (c.ok) {
      EXPECT_EQ(assignment, c.assignment);
      EXPECT_EQ(org, c.org);
    }
  }
}

// The copy-free parse must agree with parse_csv_line on every line it sees:
// the table's lines and their variants, then every line of the system's
// registry files when ieee-data is installed.
void expect_fields_agree(std::string_view line) {
  SCOPED_TRACE(std::string(line));
  std::string a, o, scratch;
  std::string_view av, ov;
  bool want = parse_csv_line(line, a, o);
  ASSERT_EQ(parse_csv_fields(line, av, ov, scratch), want);
  if (want) {
    EXPECT_EQ(av, a);
    EXPECT_EQ(ov, o);
  }
}

TEST(Csv, FieldsWithoutCopiesAgreeWithTheFullParse) {
  for (const char* line : {
           "MA-L,0001D7,\"F5 Networks, Inc.\",1322 N. Whitman Lane Liberty Lake WA US 99019 ",
           "MA-L,001EFC,\"JSC \"\"MASSA-K\"\"\",\"15, A, Pirogovskaya nab.\"",
           "MA-L,A047D7,Best IT World (India) Pvt Ltd,\"87, Mistry Complex,, Road \"\"A\"\"\"",
           "MA-M,741AE09,Private,",
           "MA-S,70B3D5F2F,TELEPLATFORMS,\"Polbina st., 3/1 Moscow  RU 109388 \"\r",
           "MA-L,00D0EF,IGT",
           "MA-L,00D0EF,IGT\r",
           "MA-L,00D0EF,\"IGT\"",
           "MA-L,00D0EF,\"IGT\"x,addr",
           "MA-L,00D0EF,\"IGT, unterminated",
           "MA-L,00D0EF,I\"G\"T,addr",
           "MA-L,00D0EF,\"I\r\",addr",
           "MA-L,00D0\rEF,IGT,addr",
           "\"MA,L\",00D0EF,IGT,addr",
           "MA-L,\"00D0EF\",IGT,addr",
           "MA-L,,Nobody,",
           "MA-L,00D0EF",
           "MA-L,00D0EF,",
           ",,,",
           "",
       }) {
    expect_fields_agree(line);
  }
}

TEST(Csv, FieldsAgreeOnTheSystemRegistry) {
  int lines = 0;
  for (const char* name : {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"}) {
    std::ifstream in(std::string("/usr/share/ieee-data/") + name);
    std::string line;
    while (std::getline(in, line)) {
      expect_fields_agree(line);
      lines++;
    }
  }
  if (lines == 0) GTEST_SKIP() << "ieee-data is not installed";
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("oui.csv", std::string(kHeader) +
                              "MA-L,0001D7,\"F5 Networks, Inc.\",1322 N. Whitman Lane Liberty Lake WA US 99019 \n"
                              "MA-L,70B3D5,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \n"
                              "MA-L,8C1F64,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \n"
                              "MA-L,0050C2,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \n"
                              "MA-L,f4ce46,Hewlett Packard,lower-case hex\n");
    dir_.write("mam.csv", std::string(kHeader) + "MA-M,8C1F64D,\"Acme 28, Ltd.\",Somewhere\r\n");
    dir_.write("oui36.csv", std::string(kHeader) +
                                "MA-S,70B3D5F2F,TELEPLATFORMS,\"Polbina st., 3/1 Moscow\"\n"
                                "MA-S,8C1F64D12,Acme 36 GmbH,Elsewhere\n");
    dir_.write("iab.csv", std::string(kHeader) + "IAB,0050C27D5,DEUTA-WERKE GmbH,Paffrather Strasse 140\n");
    auto r = Registry::load(dir_.path.string());
    ASSERT_TRUE(r.ok()) << r.error().message;
    reg_ = std::move(r.value());
  }
  TempDir dir_;
  Registry reg_;
};

TEST_F(RegistryTest, LongestPrefixFirst) {
  struct Case {
    Mac mac;
    const char* vendor;
  };
  for (const Case& c : {
           Case{{0x00, 0x01, 0xd7, 0xaa, 0xbb, 0xcc}, "F5 Networks, Inc."},
           Case{{0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0x01}, "TELEPLATFORMS"},                // 36-bit
           Case{{0x70, 0xb3, 0xd5, 0xf3, 0x00, 0x01}, "IEEE Registration Authority"},  // only the 24-bit block
           Case{{0x8c, 0x1f, 0x64, 0xd1, 0x20, 0x00}, "Acme 36 GmbH"},                 // 36 beats 28
           Case{{0x8c, 0x1f, 0x64, 0xd9, 0x99, 0x99}, "Acme 28, Ltd."},                // 28 beats 24
           Case{{0x8c, 0x1f, 0x64, 0xe0, 0x00, 0x00}, "IEEE Registration Authority"},
           Case{{0x00, 0x50, 0xc2, 0x7d, 0x50, 0x01}, "DEUTA-WERKE GmbH"},  // IAB, a 36-bit registry too
           Case{{0xf4, 0xce, 0x46, 0x00, 0x00, 0x01}, "Hewlett Packard"},
       }) {
    EXPECT_EQ(reg_.vendor(c.mac), c.vendor)
        << std::hex << int(c.mac[0]) << ":" << int(c.mac[1]) << ":" << int(c.mac[2]) << ":" << int(c.mac[3]);
  }
  EXPECT_EQ(reg_.size(), 9u);
}

TEST_F(RegistryTest, LocallyAdministeredMulticastAndUnknown) {
  // 02:01:d7 would be F5's block with the U/L bit set: it is no F5 address.
  EXPECT_EQ(reg_.vendor({0x02, 0x01, 0xd7, 0xaa, 0xbb, 0xcc}), "locally administered");
  EXPECT_EQ(reg_.vendor({0x02, 0x42, 0xac, 0x11, 0x00, 0x02}), "locally administered");  // docker
  EXPECT_EQ(reg_.vendor({0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}), "multicast");
  EXPECT_EQ(reg_.vendor({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "multicast");
  EXPECT_EQ(reg_.vendor({0x01, 0x01, 0xd7, 0x00, 0x00, 0x00}), "multicast");
  EXPECT_EQ(reg_.vendor({0x00, 0x00, 0x01, 0x00, 0x00, 0x00}), "");
  EXPECT_EQ(reg_.vendor({0x00, 0x01, 0xd8, 0x00, 0x00, 0x00}), "");
}

TEST(Registry, AddRejectsBadHexAndOddLengths) {
  Registry r;
  r.add("0001D7", "F5");
  r.add("0001DX", "bad digit");
  r.add("0001D", "5 digits");
  r.add("0001D7AB", "8 digits");
  r.add("", "empty");
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.vendor({0x00, 0x01, 0xd7, 0, 0, 0}), "F5");
}

TEST(Registry, RepeatedPrefixLastLineWins) {
  TempDir dir;
  dir.write("oui.csv", std::string(kHeader) + "MA-L,0001D7,First,x\nMA-L,001122,Other,x\nMA-L,0001d7,Second,x");
  auto r = Registry::load(dir.path.string());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(r->vendor({0x00, 0x01, 0xd7, 0, 0, 0}), "Second");  // the last line, without a final newline
  r->add("0001D7", "Added");
  r->add("000001", "New");
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(r->vendor({0x00, 0x01, 0xd7, 0, 0, 0}), "Added");
  EXPECT_EQ(r->vendor({0x00, 0x00, 0x01, 0, 0, 0}), "New");
  EXPECT_EQ(r->vendor({0x00, 0x11, 0x22, 0, 0, 0}), "Other");
}

TEST(Registry, HeaderOnlyAndEmptyFilesLoad) {
  TempDir dir;
  dir.write("oui.csv", "");
  dir.write("mam.csv", kHeader);
  auto r = Registry::load(dir.path.string());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 0u);
}

TEST(Registry, OneFileIsEnough) {
  TempDir dir;
  dir.write("mam.csv", std::string(kHeader) + "MA-M,8C1F64D,Acme 28,x\n");
  auto r = Registry::load(dir.path.string());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->vendor({0x8c, 0x1f, 0x64, 0xd0, 0, 0}), "Acme 28");
  EXPECT_EQ(r->size(), 1u);
}

TEST(Registry, MissingDirectoryIsAnError) {
  TempDir dir;
  for (std::string path : {(dir.path / "nope").string(), dir.path.string()}) {
    auto r = Registry::load(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error().code, ENOENT);
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("ieee-data"), std::string::npos) << r.error().message;
  }
}

TEST(Registry, SystemIeeeData) {
  if (!std::filesystem::exists("/usr/share/ieee-data/oui.csv")) GTEST_SKIP() << "ieee-data is not installed";
  auto r = Registry::load();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT(r->size(), 30000u);
  EXPECT_EQ(r->vendor({0x00, 0x01, 0xd7, 0x12, 0x34, 0x56}), "F5 Networks, Inc.");
  if (std::filesystem::exists("/usr/share/ieee-data/iab.csv")) {
    EXPECT_EQ(r->vendor({0x00, 0x50, 0xc2, 0x7d, 0x50, 0x01}), "DEUTA-WERKE GmbH");
  }
}

// load() only checks that a file opens; the tables are parsed at the first lookup that needs them,
// which a locally administered or multicast address does not.  A file rewritten between load() and
// that lookup is read as it is then (an eager load would still answer "Old").
TEST(Registry, FilesAreParsedAtTheFirstLookupThatNeedsThem) {
  TempDir dir;
  dir.write("oui.csv", std::string(kHeader) + "MA-L,0001D7,Old,x\n");
  auto r = Registry::load(dir.path.string());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->vendor({0x02, 0x01, 0xd7, 0, 0, 0}), "locally administered");
  EXPECT_EQ(r->vendor({0x01, 0x01, 0xd7, 0, 0, 0}), "multicast");
  dir.write("oui.csv", std::string(kHeader) + "MA-L,0001D7,New,x\n");
  EXPECT_EQ(r->vendor({0x00, 0x01, 0xd7, 0, 0, 0}), "New");
  dir.write("oui.csv", std::string(kHeader) + "MA-L,0001D7,Newer,x\n");
  EXPECT_EQ(r->vendor({0x00, 0x01, 0xd7, 0, 0, 0}), "New");  // parsed once
  EXPECT_EQ(r->size(), 1u);
}

// A file that was there at load() and is gone at the first lookup is skipped, as a missing one is.
TEST(Registry, AFileGoneBeforeTheFirstLookupIsSkipped) {
  TempDir dir;
  dir.write("oui.csv", std::string(kHeader) + "MA-L,0001D7,F5,x\n");
  dir.write("mam.csv", std::string(kHeader) + "MA-M,8C1F64D,Acme 28,x\n");
  auto r = Registry::load(dir.path.string());
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::filesystem::remove(dir.path / "oui.csv");
  EXPECT_EQ(r->vendor({0x00, 0x01, 0xd7, 0, 0, 0}), "");
  EXPECT_EQ(r->vendor({0x8c, 0x1f, 0x64, 0xd0, 0, 0}), "Acme 28");
  EXPECT_EQ(r->size(), 1u);
}

}  // namespace
}  // namespace rsthop::oui
