// diagnose's exit code (README: Exit codes): an interruption wins over what else went wrong.
#include "cli/diagnose_exit.h"

#include <gtest/gtest.h>

#include "cli/stop_signals.h"

namespace rsthop::cli {
namespace {

diagnose::Outcome outcome(diagnose::RequestOutcome o, bool partial = false, bool capture_error = false) {
  diagnose::Outcome out;
  out.verdict.outcome = o;
  out.verdict.summary = "the summary";
  out.partial = partial;
  if (capture_error) out.capture_error = make_error("reading the capture's ring failed");
  return out;
}

TEST(DiagnoseExit, VerdictsExitZeroAndAnErrorVerdictOne) {
  for (auto o : {diagnose::RequestOutcome::ok, diagnose::RequestOutcome::reset, diagnose::RequestOutcome::drop}) {
    auto e = diagnose_exit(outcome(o));
    EXPECT_EQ(e.code, 0) << diagnose::name(o);
    EXPECT_EQ(e.message, "");
  }
  auto e = diagnose_exit(outcome(diagnose::RequestOutcome::error));
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.message, "the summary");
}

TEST(DiagnoseExit, ACaptureErrorExitsOne) {
  auto e = diagnose_exit(outcome(diagnose::RequestOutcome::reset, false, true));
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.message, "reading the capture's ring failed");
}

TEST(DiagnoseExit, AnInterruptionExits130) {
  auto e = diagnose_exit(outcome(diagnose::RequestOutcome::reset, true));
  EXPECT_EQ(e.code, kInterruptedExit);
  EXPECT_EQ(e.message, "");
  // A partial verdict of outcome error (interrupted before the handshake completed) too.
  EXPECT_EQ(diagnose_exit(outcome(diagnose::RequestOutcome::error, true)).code, kInterruptedExit);
}

// The loose end of session 8: interrupted and a capture error exited 1, as if nobody had asked it to
// stop.  The interruption wins; the capture's error is still said.
TEST(DiagnoseExit, AnInterruptionWinsOverACaptureError) {
  auto e = diagnose_exit(outcome(diagnose::RequestOutcome::reset, true, true));
  EXPECT_EQ(e.code, kInterruptedExit);
  EXPECT_EQ(e.message, "reading the capture's ring failed");
  EXPECT_EQ(diagnose_exit(outcome(diagnose::RequestOutcome::error, true, true)).code, kInterruptedExit);
}

}  // namespace
}  // namespace rsthop::cli
