// open_output_file: modes, truncation, links; refuse_output_as_input.
#include "common/out_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace rsthop {
namespace {

class OutFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rsthop-outfile-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static void write(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
  static off_t size(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_size : -1;
  }
  std::string dir_;
};

TEST_F(OutFile, CreatesWith0644EvenUnderUmask000) {
  const mode_t old = ::umask(0);
  auto fd = open_output_file(path("new"));
  ::umask(old);
  ASSERT_TRUE(fd) << fd.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path("new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(OutFile, TruncatesARegularFileAppendKeepsIt) {
  write(path("f"), "0123456789");
  ASSERT_TRUE(open_output_file(path("f"), true));
  EXPECT_EQ(size(path("f")), 10);
  ASSERT_TRUE(open_output_file(path("f")));
  EXPECT_EQ(size(path("f")), 0);
}

TEST_F(OutFile, FollowsOwnLinksAndWritesDevices) {
  write(path("target"), "abc");
  ASSERT_EQ(::symlink(path("target").c_str(), path("link").c_str()), 0);
  auto fd = open_output_file(path("link"));  // ours (the test's euid)
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_EQ(size(path("target")), 0);
  EXPECT_TRUE(open_output_file("/dev/null"));
}

TEST_F(OutFile, ErrorsNameThePath) {
  auto fd = open_output_file(path("no/such/dir"));
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().message, "cannot write to " + path("no/such/dir") + ": No such file or directory");
}

TEST_F(OutFile, AnOutputThatIsAnInputIsRefused) {
  write(path("in.pcap"), "x");
  ASSERT_EQ(::link(path("in.pcap").c_str(), path("alias.pcap").c_str()), 0);
  auto r = refuse_output_as_input("-o", path("alias.pcap"), {"-", path("in.pcap")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "-o " + path("alias.pcap") + " is the input " + path("in.pcap") + ": writing it would destroy the capture");
  EXPECT_TRUE(refuse_output_as_input("-o", path("other"), {path("in.pcap")}));
  EXPECT_TRUE(refuse_output_as_input("-o", "-", {path("in.pcap")}));
  EXPECT_TRUE(refuse_output_as_input("--pcap-out", "", {path("in.pcap")}));
}

}  // namespace
}  // namespace rsthop
