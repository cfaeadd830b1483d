// TTL ladders through a namespace chain this test builds and removes:
//
//   client 198.18.1.2 -- 198.18.1.1 router1 198.18.2.1 -- 198.18.2.2 router2 198.18.3.1 -- 198.18.3.2 server
//          2001:db8:1::2    2001:db8:1::1   2001:db8:2::1    2001:db8:2::2   2001:db8:3::1    2001:db8:3::2
//
// The server (python3, in its namespace) answers HTTP on 80, aborts on the
// first data on 81, and accepts quietly on 443.  Ladders run on a thread
// that setns()es into the client namespace.  Needs root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "probe/probe.h"
#include "tests/common/privileged.h"

namespace rsthop::probe {
namespace {

const char* kServer = R"PY(
import socket, struct, sys, threading
def serve(port, handle):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            c.settimeout(5)
            threading.Thread(target=handle, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
def http(c):
    try:
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = c.recv(4096)
            if not d: break
            buf += d
        if buf: c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    except OSError: pass
    c.close()
def abort(c):
    try:
        if c.recv(4096):
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError: pass
    c.close()
def quiet(c):
    try:
        while c.recv(4096): pass
    except OSError: pass
    c.close()
serve(80, http); serve(81, abort); serve(443, quiet)
print("ready", flush=True)
sys.stdin.read()
)PY";

int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class Lab {
 public:
  Lab() : p_("rhprobe" + std::to_string(getpid())) {}
  ~Lab() { down(); }
  std::string ns(const char* role) const { return p_ + role; }

  // Empty on success, else what failed.
  std::string up() {
    const std::string C = ns("c"), R1 = ns("r1"), R2 = ns("r2"), S = ns("s");
    std::string script = "set -e\n";
    // No DAD anywhere: a router solicits neighbours for forwarded packets
    // from its link-local address, and a tentative one would cost a second.
    for (const auto& n : {C, R1, R2, S})
      script += "ip netns add " + n + "\nip -n " + n + " link set lo up\nip netns exec " + n +
                " sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0\n";
    created_ = true;
    script += "ip -n " + C + " link add eth0 type veth peer name eth0 netns " + R1 + "\n";
    script += "ip -n " + R1 + " link add eth1 type veth peer name eth0 netns " + R2 + "\n";
    script += "ip -n " + R2 + " link add eth1 type veth peer name eth0 netns " + S +
              "\n";  // Up first: the kernel applies carrier changes with up to a second of
    // delay, which then overlaps with the rest of the setup.
    for (const auto& [n, dev] :
         {std::pair{C, "eth0"}, {R1, "eth0"}, {R1, "eth1"}, {R2, "eth0"}, {R2, "eth1"}, {S, "eth0"}})
      script += "ip -n " + n + " link set " + dev + " up\n";
    auto addr = [&](const std::string& n, const char* dev, const char* v4, const char* v6) {
      script += "ip -n " + n + " addr add " + v4 + " dev " + dev + "\n";
      script += "ip -n " + n + " addr add " + v6 + " dev " + dev + " nodad\n";
    };
    addr(C, "eth0", "198.18.1.2/24", "2001:db8:1::2/64");
    addr(R1, "eth0", "198.18.1.1/24", "2001:db8:1::1/64");
    addr(R1, "eth1", "198.18.2.1/24", "2001:db8:2::1/64");
    addr(R2, "eth0", "198.18.2.2/24", "2001:db8:2::2/64");
    addr(R2, "eth1", "198.18.3.1/24", "2001:db8:3::1/64");
    addr(S, "eth0", "198.18.3.2/24", "2001:db8:3::2/64");
    script += "ip -n " + C + " route add default via 198.18.1.1\n";
    script += "ip -n " + C + " -6 route add default via 2001:db8:1::1\n";
    script += "ip -n " + R1 + " route add 198.18.3.0/24 via 198.18.2.2\n";
    script += "ip -n " + R1 + " -6 route add 2001:db8:3::/64 via 2001:db8:2::2\n";
    script += "ip -n " + R2 + " route add 198.18.1.0/24 via 198.18.2.1\n";
    script += "ip -n " + R2 + " -6 route add 2001:db8:1::/64 via 2001:db8:2::1\n";
    script += "ip -n " + S + " route add default via 198.18.3.1\n";
    script += "ip -n " + S + " -6 route add default via 2001:db8:3::1\n";
    for (const auto& r : {R1, R2})
      script += "ip netns exec " + r +
                " sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
                " net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0\n";
    FILE* f = popen("sh 2>&1", "w");
    if (!f) return "cannot run sh";
    fputs(script.c_str(), f);
    if (int rc = pclose(f); rc != 0) return "lab setup failed (exit " + std::to_string(rc) + ")";
    return start_server(S);
  }

  void down() {
    if (server_ > 0) {
      kill(server_, SIGKILL);
      waitpid(server_, nullptr, 0);
      server_ = -1;
    }
    if (created_) {
      for (const char* r : {"c", "r1", "r2", "s"}) sh("ip netns del " + ns(r) + " 2>/dev/null");
      created_ = false;
    }
  }

 private:
  // The server runs until its stdin closes (our exit) or SIGKILL.  Readiness is
  // checked on the listening sockets themselves (ss), not on a message in a pipe.
  std::string start_server(const std::string& S) {
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0) return "pipe failed";
    server_ = fork();
    if (server_ == 0) {
      dup2(in[0], 0);
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, 1);
      execlp("ip", "ip", "netns", "exec", S.c_str(), "python3", "-c", kServer, (char*)nullptr);
      _exit(127);
    }
    close(in[0]);
    stdin_ = in[1];
    for (int i = 0; i < 200; i++) {
      std::string cmd = "test -n \"$(ip netns exec " + S +
                        " ss -Hltn 'sport = :443 or sport = :81 or sport = :80' | wc -l | grep -x 3)\"";
      if (std::system(cmd.c_str()) == 0) return "";
      usleep(50 * 1000);
    }
    return "the lab's server did not start listening";
  }

  std::string p_;
  bool created_ = false;
  pid_t server_ = -1;
  int stdin_ = -1;
};

// Runs `f` on a thread that lives in network namespace `ns`.
template <class F>
auto in_netns(const std::string& ns, F f) -> decltype(f()) {
  decltype(f()) result{};
  std::string err;
  std::thread th([&] {
    int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      err = "cannot enter " + ns;
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    result = f();
  });
  th.join();
  EXPECT_EQ(err, "");
  return result;
}

Target target(const char* hp) {
  auto t = resolve(hp, 443);
  EXPECT_TRUE(t.ok());
  return *t;
}

std::string describe(const std::vector<SynStep>& steps) {
  std::string s;
  for (const auto& st : steps)
    s += std::to_string(st.ttl) + " " + syn_kind_name(st.kind) + " " +
         (st.from ? addr_to_string(st.from->data()) : "-") + " " + std::to_string(st.ms) + "ms\n";
  return s;
}
std::string describe(const std::vector<TriggerStep>& steps) {
  std::string s;
  for (const auto& st : steps)
    s += std::to_string(st.ttl) + " " + trigger_kind_name(st.kind) + " " + std::to_string(st.ms) + "ms " + st.detail +
         "\n";
  return s;
}

// A capture's stand-in for the ladders' watch: a raw ICMP socket (opened in the client namespace)
// read whenever the ladder asks; it knows the local ports that ICMP time-exceeded quoted.
class IcmpWatch {
 public:
  IcmpWatch() : fd_(socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)) {}
  ~IcmpWatch() {
    if (fd_ >= 0) close(fd_);
  }
  IcmpWatch(const IcmpWatch&) = delete;
  IcmpWatch& operator=(const IcmpWatch&) = delete;
  bool valid() const { return fd_ >= 0; }
  bool time_exceeded(uint16_t port) {
    asked.insert(port);
    uint8_t b[1500];
    for (ssize_t n; (n = recv(fd_, b, sizeof(b), 0)) > 0;) {
      // IP header, ICMP header (8 bytes), the quoted IP header, the quoted TCP ports.
      const size_t ihl = (b[0] & 0x0f) * 4u;
      if (static_cast<size_t>(n) < ihl + 8 + 20 || b[ihl] != 11) continue;
      const uint8_t* quoted = b + ihl + 8;
      const size_t qihl = (quoted[0] & 0x0f) * 4u;
      if (static_cast<size_t>(n) < ihl + 8 + qihl + 2 || quoted[9] != IPPROTO_TCP) continue;
      seen.insert(static_cast<uint16_t>(quoted[qihl] << 8 | quoted[qihl + 1]));
    }
    return seen.count(port) > 0;
  }
  std::set<uint16_t> asked, seen;

 private:
  int fd_;
};

class Ladder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    lab_ = new Lab();
    lab_error_ = lab_->up();
    if (lab_error_.empty()) lab_error_ = wait_for_paths();
  }
  // Fresh veths drop traffic for up to a second (link state is applied
  // asynchronously; IPv6 notices last): wait until both families connect.
  static std::string wait_for_paths() {
    return in_netns(lab_->ns("c"), [] {
      for (const char* hp : {"198.18.3.2:443", "[2001:db8:3::2]:443"}) {
        auto t = resolve(hp, 443);
        bool ok = false;
        for (int i = 0; i < 50 && !ok && t.ok(); i++) ok = tcp_connect(*t, Timing{100}).outcome == Outcome::ok;
        if (!ok) return std::string("the lab path to ") + hp + " never came up";
      }
      return std::string();
    });
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    RSTHOP_REQUIRE_PRIVILEGED();
    ASSERT_NE(lab_, nullptr);
    ASSERT_EQ(lab_error_, "");
  }
  template <class F>
  auto client(F f) {
    return in_netns(lab_->ns("c"), f);
  }
  static LadderOptions opts() {
    LadderOptions o;
    o.max_hops = 8;
    o.step_timeout_ms = 500;
    return o;
  }
  static double elapsed_ms(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  static Lab* lab_;
  static std::string lab_error_;
};
Lab* Ladder::lab_ = nullptr;
std::string Ladder::lab_error_;

TEST_F(Ladder, SynIpv4) {
  auto t0 = std::chrono::steady_clock::now();
  auto steps = client([&] { return syn_ladder(target("198.18.3.2:443"), opts()); });
  RecordProperty("ladder_ms", std::to_string(elapsed_ms(t0)));
  std::printf("syn ladder v4: %.1f ms\n%s", elapsed_ms(t0), describe(steps).c_str());
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[0].kind, SynStep::time_exceeded);
  ASSERT_TRUE(steps[0].from);
  EXPECT_EQ(addr_to_string(steps[0].from->data()), "198.18.1.1");
  EXPECT_EQ(steps[1].kind, SynStep::time_exceeded);
  ASSERT_TRUE(steps[1].from);
  EXPECT_EQ(addr_to_string(steps[1].from->data()), "198.18.2.2");
  EXPECT_EQ(steps[2].kind, SynStep::reached);
  ASSERT_TRUE(steps[2].from);
  EXPECT_EQ(addr_to_string(steps[2].from->data()), "198.18.3.2");
  for (size_t i = 0; i < steps.size(); i++) {
    EXPECT_EQ(steps[i].ttl, int(i) + 1);
    EXPECT_NE(steps[i].local_port, 0);
  }
}

TEST_F(Ladder, SynIpv6) {
  auto t0 = std::chrono::steady_clock::now();
  auto steps = client([&] { return syn_ladder(target("[2001:db8:3::2]:443"), opts()); });
  std::printf("syn ladder v6: %.1f ms\n%s", elapsed_ms(t0), describe(steps).c_str());
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[0].kind, SynStep::time_exceeded);
  ASSERT_TRUE(steps[0].from);
  EXPECT_EQ(addr_to_string(steps[0].from->data()), "2001:db8:1::1");
  EXPECT_EQ(steps[1].kind, SynStep::time_exceeded);
  ASSERT_TRUE(steps[1].from);
  EXPECT_EQ(addr_to_string(steps[1].from->data()), "2001:db8:2::2");
  EXPECT_EQ(steps[2].kind, SynStep::reached);
}

TEST_F(Ladder, SynRefusedEndsThePath) {
  auto steps = client([&] { return syn_ladder(target("198.18.3.2:444"), opts()); });
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[2].kind, SynStep::refused);
  EXPECT_EQ(addr_to_string(steps[2].from->data()), "198.18.3.2");
}

TEST_F(Ladder, SynSerialWithGap) {
  LadderOptions o = opts();
  o.concurrency = 1;
  o.min_gap_ms = 50;
  auto t0 = std::chrono::steady_clock::now();
  auto steps = client([&] { return syn_ladder(target("198.18.3.2:443"), o); });
  double ms = elapsed_ms(t0);
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[2].kind, SynStep::reached);
  EXPECT_GE(ms, 100);  // three launches, two gaps
}

TEST_F(Ladder, TriggerResponseFromTheServer) {
  auto t = target("198.18.3.2:80");
  auto payload = http_request("www.example.org");
  auto t0 = std::chrono::steady_clock::now();
  auto steps = client([&] { return trigger_ladder(t, payload, opts()); });
  std::printf("trigger ladder (response): %.1f ms\n%s", elapsed_ms(t0), describe(steps).c_str());
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[0].kind, TriggerStep::silent);
  EXPECT_EQ(steps[1].kind, TriggerStep::silent);
  EXPECT_EQ(steps[2].kind, TriggerStep::response);
  for (const auto& s : steps) EXPECT_NE(s.local_port, 0);
}

TEST_F(Ladder, TriggerResetByTheServer) {
  auto steps = client([&] { return trigger_ladder(target("198.18.3.2:81"), http_request("www.example.org"), opts()); });
  // The first reset keeps one TTL more: a second RST tells a copied TTL from a sender's own.
  ASSERT_EQ(steps.size(), 4u) << describe(steps);
  EXPECT_EQ(steps[0].kind, TriggerStep::silent);
  EXPECT_EQ(steps[1].kind, TriggerStep::silent);
  EXPECT_EQ(steps[2].kind, TriggerStep::reset);
  EXPECT_EQ(steps[3].kind, TriggerStep::reset);
  EXPECT_EQ(steps[3].ttl, 4);
}

TEST_F(Ladder, TriggerResetInjectedByRouter2) {
  const std::string r2 = lab_->ns("r2");
  const std::string rule =
      "FORWARD -p tcp --dport 80 -m string --string rsthop-blocked --algo bm -j REJECT --reject-with tcp-reset";
  ASSERT_EQ(sh("ip netns exec " + r2 + " iptables -A " + rule), 0);
  auto payload = http_request("rsthop-blocked.example");
  auto t0 = std::chrono::steady_clock::now();
  auto steps = client([&] { return trigger_ladder(target("198.18.3.2:80"), payload, opts()); });
  std::printf("trigger ladder (injected reset): %.1f ms\n%s", elapsed_ms(t0), describe(steps).c_str());
  // Control: the same ladder without the string is answered by the server.
  auto control = client([&] { return trigger_ladder(target("198.18.3.2:80"), http_request("ok.example"), opts()); });
  EXPECT_EQ(sh("ip netns exec " + r2 + " iptables -D " + rule), 0);
  // TTL 2 dies at router2's TTL check (before FORWARD), TTL 3 meets the rule, and so does TTL 4.
  ASSERT_EQ(steps.size(), 4u) << describe(steps);
  EXPECT_EQ(steps[0].kind, TriggerStep::silent);
  EXPECT_EQ(steps[1].kind, TriggerStep::silent);
  EXPECT_EQ(steps[2].kind, TriggerStep::reset);
  EXPECT_EQ(steps[3].kind, TriggerStep::reset);
  // Ended on the RST, not on the step timeout (a fixed 400 ms here was a speed bound under load).
  EXPECT_LT(steps[2].ms, opts().step_timeout_ms) << describe(steps);
  ASSERT_EQ(control.size(), 3u) << describe(control);
  EXPECT_EQ(control[2].kind, TriggerStep::response);
}

TEST_F(Ladder, TriggerWithClientHelloOverIpv6) {
  auto hello = client_hello("www.example.org");
  ASSERT_TRUE(hello.ok());
  // Port 81 aborts on any data: the ClientHello first arrives with TTL 3.
  auto steps = client([&] { return trigger_ladder(target("[2001:db8:3::2]:81"), *hello, opts()); });
  ASSERT_EQ(steps.size(), 4u) << describe(steps);
  EXPECT_EQ(steps[1].kind, TriggerStep::silent);
  EXPECT_EQ(steps[2].kind, TriggerStep::reset);
  EXPECT_EQ(steps[3].kind, TriggerStep::reset);
}

TEST_F(Ladder, TriggerConnectFailureIsAnErrorAndEndsTheLadder) {
  auto steps = client([&] { return trigger_ladder(target("198.18.3.2:444"), http_request("x"), opts()); });
  ASSERT_EQ(steps.size(), 1u) << describe(steps);
  EXPECT_EQ(steps[0].kind, TriggerStep::error);
  EXPECT_NE(steps[0].detail.find("refused"), std::string::npos) << steps[0].detail;
}

// The socket of an established connection never hears of ICMP time-exceeded: a watch that
// sees it (diagnose's capture) ends the step, long before its step timeout.
TEST_F(Ladder, TriggerStepEndsOnTheWatchedTimeExceeded) {
  const auto t = target("198.18.3.2:80");
  const auto payload = http_request("www.example.org");
  struct Run {
    bool watch_ok = false;
    std::vector<TriggerStep> steps;
    std::set<uint16_t> asked, seen;
  };
  auto r = client([&] {
    Run run;
    IcmpWatch w;
    run.watch_ok = w.valid();
    LadderOptions o = opts();
    o.step_timeout_ms = 20000;  // only the watch can end the silent steps before it
    o.time_exceeded = [&w](uint16_t port) { return w.time_exceeded(port); };
    run.steps = trigger_ladder(t, payload, o);
    run.asked = w.asked;
    run.seen = w.seen;
    return run;
  });
  ASSERT_TRUE(r.watch_ok) << "no raw ICMP socket";
  ASSERT_EQ(r.steps.size(), 3u) << describe(r.steps);
  for (int i : {0, 1}) {
    const auto& s = r.steps[i];
    EXPECT_EQ(s.kind, TriggerStep::silent) << describe(r.steps);
    EXPECT_TRUE(s.time_exceeded) << describe(r.steps);
    EXPECT_TRUE(r.seen.count(s.local_port)) << describe(r.steps);
    EXPECT_LT(s.ms, 20000);
    EXPECT_GE(s.duration_ms, s.ms);
  }
  EXPECT_EQ(r.steps[2].kind, TriggerStep::response);
  EXPECT_FALSE(r.steps[2].time_exceeded);
  EXPECT_TRUE(r.asked.count(r.steps[0].local_port));
}

// After the ICMP the step lingers: a reset of the same probe that follows it still counts (an
// on-path device beside hop k).  This watch claims ICMP for every step at once.
TEST_F(Ladder, TriggerResetAfterTheWatchedIcmpStillCounts) {
  auto steps = client([&] {
    LadderOptions o = opts();
    o.step_timeout_ms = 20000;
    o.time_exceeded = [](uint16_t) { return true; };
    return trigger_ladder(target("198.18.3.2:81"), http_request("www.example.org"), o);
  });
  ASSERT_EQ(steps.size(), 4u) << describe(steps);
  EXPECT_TRUE(steps[0].time_exceeded);
  EXPECT_TRUE(steps[1].time_exceeded);
  EXPECT_EQ(steps[2].kind, TriggerStep::reset) << describe(steps);
  EXPECT_EQ(steps[3].kind, TriggerStep::reset) << describe(steps);
  EXPECT_FALSE(steps[2].time_exceeded);
}

// Without a watch, and without the end grace, the silent steps wait their timeout and say
// nothing more.
TEST_F(Ladder, TriggerWithoutWatchKeepsItsTimeout) {
  LadderOptions o = opts();
  o.step_timeout_ms = 300;
  o.end_grace_ms = 0;
  auto steps = client([&] { return trigger_ladder(target("198.18.3.2:80"), http_request("www.example.org"), o); });
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_FALSE(steps[0].time_exceeded);
  EXPECT_GE(steps[0].ms, 300);
  EXPECT_GE(steps[0].duration_ms, steps[0].ms);
}

// The steps below the TTL that ended the ladder wait only the end grace, not their step timeout:
// their answer is due already (here the watchless socket never hears of it).
TEST_F(Ladder, TriggerStepsBelowTheEndWaitOnlyTheGrace) {
  LadderOptions o = opts();
  o.step_timeout_ms = 20000;
  o.end_grace_ms = 150;
  auto steps = client([&] { return trigger_ladder(target("198.18.3.2:80"), http_request("www.example.org"), o); });
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[2].kind, TriggerStep::response);
  for (int i : {0, 1}) {
    EXPECT_EQ(steps[i].kind, TriggerStep::silent) << describe(steps);
    EXPECT_GE(steps[i].ms, 150) << describe(steps);  // the grace runs from the end's answer
    EXPECT_LT(steps[i].ms, 20000) << describe(steps);
  }
}

// A router that suppresses its ICMP (rate limits): its SYN step is silent, and it ends the end
// grace after the target answered a higher TTL, not at its step timeout.
TEST_F(Ladder, SynStepWithoutIcmpEndsSoonAfterTheTarget) {
  const std::string r1 = lab_->ns("r1");
  const std::string rule = "OUTPUT -p icmp --icmp-type time-exceeded -j DROP";
  ASSERT_EQ(sh("ip netns exec " + r1 + " iptables -A " + rule), 0);
  LadderOptions o = opts();
  o.step_timeout_ms = 20000;
  auto steps = client([&] { return syn_ladder(target("198.18.3.2:443"), o); });
  EXPECT_EQ(sh("ip netns exec " + r1 + " iptables -D " + rule), 0);
  ASSERT_EQ(steps.size(), 3u) << describe(steps);
  EXPECT_EQ(steps[0].kind, SynStep::silent) << describe(steps);
  EXPECT_LT(steps[0].ms, 20000) << describe(steps);
  EXPECT_EQ(steps[1].kind, SynStep::time_exceeded) << describe(steps);
  EXPECT_EQ(steps[2].kind, SynStep::reached) << describe(steps);
}

}  // namespace
}  // namespace rsthop::probe
