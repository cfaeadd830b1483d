// Guard for tests that need root and a kernel that loads BPF programs.
//
// A privileged test that silently skips in CI is a failure, not a pass
// (docs/STYLE.md, rule 13): with RSTHOP_REQUIRE_PRIVILEGED=1 in the
// environment (set by CI) a missing privilege FAILS the test; otherwise the
// test is skipped with the reason, so `ctest` stays usable on a laptop.
//
// Use it first thing in a test body or a fixture's SetUp():
//
//   TEST(Foo, Bar) { RSTHOP_REQUIRE_PRIVILEGED(); ... }
#ifndef RSTHOP_TESTS_PRIVILEGED_H
#define RSTHOP_TESTS_PRIVILEGED_H

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace rsthop::test {

// True when the environment demands that privileged tests run.
inline bool privileged_required() {
  const char* v = std::getenv("RSTHOP_REQUIRE_PRIVILEGED");
  return v && std::strcmp(v, "1") == 0;
}

// Why privileged tests cannot run here, or nullopt when they can.  Loading a
// two-instruction XDP program is the real test: root alone is not enough in a
// container without CAP_BPF, or with kernel.unprivileged_bpf_disabled and
// lockdown.  Computed once per process.
inline std::optional<std::string> privileged_unavailable() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    if (geteuid() != 0) return "not running as root (euid " + std::to_string(geteuid()) + ")";
    struct bpf_insn insns[2] = {};
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = XDP_PASS
    insns[0].dst_reg = BPF_REG_0;
    insns[0].imm = XDP_PASS;
    insns[1].code = BPF_JMP | BPF_EXIT;
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_XDP;
    attr.insns = reinterpret_cast<__u64>(insns);
    attr.insn_cnt = 2;
    attr.license = reinterpret_cast<__u64>("GPL");
    long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd < 0) return std::string("cannot load a BPF program: ") + std::strerror(errno);
    close(static_cast<int>(fd));
    return std::nullopt;
  }();
  return reason;
}

}  // namespace rsthop::test

// Skip (or, under RSTHOP_REQUIRE_PRIVILEGED=1, fail) the current test when
// BPF programs cannot be loaded.  Returns from the enclosing void function.
#define RSTHOP_REQUIRE_PRIVILEGED()                                                  \
  do {                                                                               \
    if (auto rsthop_why_ = ::rsthop::test::privileged_unavailable()) {               \
      if (::rsthop::test::privileged_required())                                     \
        GTEST_FAIL() << "privileged test cannot run (" << *rsthop_why_               \
                     << ") and RSTHOP_REQUIRE_PRIVILEGED=1: run as root with BPF "   \
                        "enabled";                                                   \
      else                                                                           \
        GTEST_SKIP() << "needs root and BPF (" << *rsthop_why_                       \
                     << "); set RSTHOP_REQUIRE_PRIVILEGED=1 to make this a failure"; \
    }                                                                                \
  } while (0)

#endif  // RSTHOP_TESTS_PRIVILEGED_H
