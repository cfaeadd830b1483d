#include "output/sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "fixtures.h"
#include "output/text.h"

namespace rsthop::output {
namespace {

using nlohmann::json;

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "rsthop_sink_" + std::to_string(::getpid()) + "_" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FileSink, ErrorOnUnwritablePathIsASentence) {
  auto s = FileSink::open("/nonexistent-rsthop-dir/out.ndjson");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ENOENT);
  EXPECT_EQ(s.error().message, "cannot write to /nonexistent-rsthop-dir/out.ndjson: No such file or directory");
}

TEST(FileSink, WritesEachLineImmediately) {
  std::string path = temp_path("lines");
  auto s = FileSink::open(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s)->write_line("one").ok());
  // Readable before the sink is closed: no userspace buffering.
  EXPECT_EQ(slurp(path), "one\n");
  ASSERT_TRUE((*s)->write_line("two").ok());
  EXPECT_EQ(slurp(path), "one\ntwo\n");
  ::unlink(path.c_str());
}

TEST(FileSink, TruncatesUnlessAppending) {
  std::string path = temp_path("append");
  {
    auto s = FileSink::open(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->write_line("old").ok());
  }
  {
    auto s = FileSink::open(path, true);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->write_line("new").ok());
  }
  EXPECT_EQ(slurp(path), "old\nnew\n");
  {
    auto s = FileSink::open(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->write_line("fresh").ok());
  }
  EXPECT_EQ(slurp(path), "fresh\n");
  ::unlink(path.c_str());
}

TEST(Writer, JsonLinesAreCompactAndParse) {
  std::string path = temp_path("writer");
  auto s = FileSink::open(path);
  ASSERT_TRUE(s.ok());
  Writer w(std::move(s.value()), Format::json);
  json ev = reset_event(fixtures::context(), fixtures::reset_record());
  ASSERT_TRUE(w.emit(ev).ok());
  ASSERT_TRUE(w.flush().ok());  // the Writer buffers until flush() or kFlushBytes
  std::string out = slurp(path);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);  // exactly one line
  EXPECT_EQ(out.find(": "), std::string::npos);
  EXPECT_EQ(out.find(", "), std::string::npos);
  EXPECT_EQ(json::parse(out), ev);
  ::unlink(path.c_str());
}

TEST(Writer, InvalidUtf8FromTheWireDoesNotThrow) {
  auto f = fixtures::flow_summary();
  f.app.tls_sni = std::string("bad\xff\xfe", 5);
  Writer w(std::make_unique<StdoutSink>(-1), Format::json);
  std::string line = w.render(flow_event(fixtures::context(), f));
  EXPECT_TRUE(json::accept(line));
}

TEST(Writer, TextFormatUsesTheTextRenderer) {
  Writer w(std::make_unique<StdoutSink>(-1), Format::text);
  json ev = lost_event(fixtures::context(), 10 * fixtures::kSec, "ringbuf_full", 1, 1);
  EXPECT_EQ(w.render(ev), render_text(ev));
}

TEST(Writer, BuffersUntilFlush) {
  std::string path = temp_path("buffered");
  auto s = FileSink::open(path);
  ASSERT_TRUE(s.ok());
  Writer w(std::move(s.value()), Format::json);
  auto ctx = fixtures::context();
  ASSERT_TRUE(
      w.emit([&](std::string& l) { append_lost_line(l, ctx, 10 * fixtures::kSec, "ringbuf_full", 1, 1); }).ok());
  EXPECT_EQ(slurp(path), "");  // one poll's batch goes out at flush(), not line by line
  ASSERT_TRUE(w.flush().ok());
  std::string out = slurp(path);
  ASSERT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_EQ(json::parse(out), lost_event(ctx, 10 * fixtures::kSec, "ringbuf_full", 1, 1));
  ASSERT_TRUE(w.flush().ok());  // nothing new: nothing written
  EXPECT_EQ(slurp(path), out);
  ::unlink(path.c_str());
}

TEST(Writer, PastTheThresholdWritesWholeLines) {
  std::string path = temp_path("threshold");
  auto s = FileSink::open(path);
  ASSERT_TRUE(s.ok());
  Writer w(std::move(s.value()), Format::json);
  auto ctx = fixtures::context();
  auto p = fixtures::first_payload();
  size_t lines = 0;
  while (slurp(path).empty()) {
    ASSERT_TRUE(w.emit([&](std::string& l) { append_packet_line(l, ctx, p); }).ok());
    lines++;
    ASSERT_LT(lines, 10'000u);
  }
  std::string out = slurp(path);
  EXPECT_GE(out.size(), Writer::kFlushBytes);
  EXPECT_EQ(out.back(), '\n');  // ends on a line boundary
  EXPECT_EQ(static_cast<size_t>(std::count(out.begin(), out.end(), '\n')), lines);
  ::unlink(path.c_str());
}

TEST(Writer, DestructorFlushesWhatIsLeft) {
  std::string path = temp_path("dtor");
  {
    auto s = FileSink::open(path);
    ASSERT_TRUE(s.ok());
    Writer w(std::move(s.value()), Format::json);
    ASSERT_TRUE(w.emit([](std::string& l) { l += R"({"a":1})"; }).ok());
  }
  EXPECT_EQ(slurp(path), "{\"a\":1}\n");
  ::unlink(path.c_str());
}

TEST(Writer, TextFormatRendersTheFastLine) {
  std::string path = temp_path("text");
  auto s = FileSink::open(path);
  ASSERT_TRUE(s.ok());
  Writer w(std::move(s.value()), Format::text);
  auto ctx = fixtures::context();
  auto r = fixtures::reset_record();
  ASSERT_TRUE(w.emit([&](std::string& l) { append_reset_line(l, ctx, r); }).ok());
  ASSERT_TRUE(w.flush().ok());
  EXPECT_EQ(slurp(path), render_text(reset_event(ctx, r)) + "\n");
  ::unlink(path.c_str());
}

TEST(Writer, FlushReportsWriteErrors) {
  Writer w(std::make_unique<StdoutSink>(-1), Format::json);
  ASSERT_TRUE(w.emit([](std::string& l) { l += "{}"; }).ok());  // buffered: no write yet
  auto r = w.flush();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EBADF);
  EXPECT_EQ(r.error().message, "cannot write to standard output: Bad file descriptor");
}

TEST(StdoutSink, ReportsWriteErrors) {
  StdoutSink bad(-1);
  auto r = bad.write_line("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EBADF);
}

}  // namespace
}  // namespace rsthop::output
