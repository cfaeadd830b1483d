#include "cli/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace rsthop::cli {
namespace {

// A trace command with a few of main.cpp's options, of each kind (list, flag, number).
struct Cli {
  CLI::App app{"rsthop"};
  TraceOptions t;
  CLI::App* trace = nullptr;
  Cli() {
    trace = app.add_subcommand("trace");
    trace->add_option("-i,--interface", t.interfaces)->required();
    trace->add_option("-p,--port", t.ports);
    trace->add_flag("--packets", t.packets);
    trace->add_option("--stats-interval", t.stats_interval_s);
    trace->add_option("--ring-mb", t.ring_mb);
    add_config_sources(app, *trace);
  }
  void parse(std::vector<std::string> args) {
    argv_ = std::move(args);
    argv_.insert(argv_.begin(), "rsthop");
    ptrs_.clear();
    for (auto& a : argv_) ptrs_.push_back(a.c_str());
    app.parse(static_cast<int>(ptrs_.size()), ptrs_.data());
  }
  TraceReloader reloader() { return make_trace_reloader(app, *trace, t, static_cast<int>(ptrs_.size()), ptrs_.data()); }
  std::vector<std::string> argv_;
  std::vector<const char*> ptrs_;
};

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rsthop-config-test-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
    for (const char* v : {"RSTHOP_INTERFACE", "RSTHOP_PORT", "RSTHOP_PACKETS", "RSTHOP_STATS_INTERVAL"}) unsetenv(v);
  }
  void TearDown() override {
    unlink(path_.c_str());
    for (const char* v : {"RSTHOP_INTERFACE", "RSTHOP_PORT", "RSTHOP_PACKETS", "RSTHOP_STATS_INTERVAL"}) unsetenv(v);
  }
  void write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  std::string path_;
};

TEST(EnvName, LongNameInCapitalsDashesAsUnderscores) {
  EXPECT_EQ(env_name("stats-interval"), "RSTHOP_STATS_INTERVAL");
  EXPECT_EQ(env_name("interface"), "RSTHOP_INTERFACE");
  EXPECT_EQ(env_name("pcap-out"), "RSTHOP_PCAP_OUT");
}

TEST_F(ConfigTest, TheFileSetsTraceOptions) {
  write("[trace]\ninterface = [\"veth0\", \"veth1\"]\nport = [443, 8443]\npackets = true\nstats-interval = 2.5\n");
  Cli c;
  c.parse({"trace", "--config", path_});
  EXPECT_EQ(c.t.interfaces, (std::vector<std::string>{"veth0", "veth1"}));
  EXPECT_EQ(c.t.ports, (std::vector<uint16_t>{443, 8443}));
  EXPECT_TRUE(c.t.packets);
  EXPECT_DOUBLE_EQ(c.t.stats_interval_s, 2.5);
  EXPECT_EQ(c.t.ring_mb, 16u);  // not in the file: the default
}

TEST_F(ConfigTest, TheEnvironmentSetsWhatNeitherTheCommandLineNorTheFileDoes) {
  write("[trace]\nstats-interval = 3\n");
  setenv("RSTHOP_INTERFACE", "eth0,eth1", 1);
  setenv("RSTHOP_PACKETS", "true", 1);
  setenv("RSTHOP_STATS_INTERVAL", "7", 1);  // the file wins
  setenv("RSTHOP_PORT", "80", 1);           // the command line wins
  Cli c;
  c.parse({"trace", "--config", path_, "-p", "443"});
  EXPECT_EQ(c.t.interfaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_TRUE(c.t.packets);
  EXPECT_DOUBLE_EQ(c.t.stats_interval_s, 3);
  EXPECT_EQ(c.t.ports, (std::vector<uint16_t>{443}));
}

TEST_F(ConfigTest, EnvironmentAloneIsEnough) {
  setenv("RSTHOP_INTERFACE", "eth0", 1);
  Cli c;
  c.parse({"trace"});
  EXPECT_EQ(c.t.interfaces, (std::vector<std::string>{"eth0"}));
}

TEST_F(ConfigTest, AKeyNoOptionHasIsAnError) {
  write("[trace]\ninterface = [\"eth0\"]\nstats-intervall = 3\n");
  Cli c;
  EXPECT_THROW(c.parse({"trace", "--config", path_}), CLI::ParseError);
}

TEST_F(ConfigTest, AMissingFileIsAnError) {
  Cli c;
  EXPECT_THROW(c.parse({"trace", "-i", "eth0", "--config", path_ + ".absent"}), CLI::ParseError);
}

TEST_F(ConfigTest, RereadGivesTheNewOptionsAndNamesWhatChanged) {
  write("[trace]\ninterface = [\"eth0\"]\nport = [443]\nstats-interval = 5\n");
  Cli c;
  c.parse({"trace", "--config", path_});
  auto reload = c.reloader();
  write("[trace]\ninterface = [\"eth0\"]\nport = [80]\npackets = true\n");
  auto r = reload();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r.value().options.packets);
  EXPECT_EQ(r.value().options.ports, (std::vector<uint16_t>{80}));
  EXPECT_DOUBLE_EQ(r.value().options.stats_interval_s, 10);  // no longer in the file: the default again
  auto changed = r.value().changed;
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(changed, (std::vector<std::string>{"packets", "port", "stats-interval"}));
  // The options the running trace holds are left alone.
  EXPECT_FALSE(c.t.packets);
  EXPECT_EQ(c.t.ports, (std::vector<uint16_t>{443}));
}

TEST_F(ConfigTest, RereadOfAnUnchangedFileChangesNothing) {
  write("[trace]\ninterface = [\"eth0\"]\npackets = true\n");
  Cli c;
  c.parse({"trace", "--config", path_, "--stats-interval", "1"});
  auto r = c.reloader()();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r.value().changed.empty());
  EXPECT_DOUBLE_EQ(r.value().options.stats_interval_s, 1);  // the command line still counts
}

TEST_F(ConfigTest, ABrokenFileOnRereadIsAnErrorAndTheOptionsStay) {
  write("[trace]\ninterface = [\"eth0\"]\npackets = true\n");
  Cli c;
  c.parse({"trace", "--config", path_});
  auto reload = c.reloader();
  write("[trace]\ninterface = [\"eth0\"]\nbogus = 1\n");
  auto r = reload();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("could not be reread"), std::string::npos) << r.error().message;
  EXPECT_TRUE(c.t.packets);
  EXPECT_EQ(c.t.interfaces, (std::vector<std::string>{"eth0"}));
}

}  // namespace
}  // namespace rsthop::cli
