#include "output/sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/out_file.h"
#include "output/text.h"

namespace rsthop::output {

namespace {

// Loops over partial writes until every byte is out, so the block's lines
// stay whole.
Result<void> write_all(int fd, std::string_view bytes, const std::string& what) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return make_error("cannot write to " + what + ": " + std::strerror(err), err);
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Result<void> Sink::write_line(std::string_view line) {
  // Joined first, so the line and its newline go out in one write().
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  return write(buf);
}

Result<void> StdoutSink::write(std::string_view lines) { return write_all(fd_, lines, "standard output"); }

Result<std::unique_ptr<Sink>> FileSink::open(const std::string& path, bool append, Clock clock) {
  auto fd = open_output_file(path, append);
  if (!fd) return fd.error();
  return std::unique_ptr<Sink>(new FileSink(std::move(fd.value()), path, clock ? clock : &monotonic_now_ns));
}

Result<void> FileSink::write(std::string_view lines) {
  follow_renames();
  return write_all(fd_.get(), lines, path_);
}

void FileSink::follow_renames() {
  uint64_t now = clock_();
  if (now < next_check_ns_) return;
  next_check_ns_ = now + 1'000'000'000ULL;
  struct stat open_st {};
  if (::fstat(fd_.get(), &open_st) != 0 || !S_ISREG(open_st.st_mode)) return;  // devices and FIFOs stay
  FileId at_path;
  if (file_id(path_, at_path) && at_path == FileId{open_st.st_dev, open_st.st_ino}) return;
  (void)reopen();  // renamed away or removed: a failure keeps the old file, tried again in a second
}

Result<void> FileSink::reopen() {
  auto fd = open_output_file(path_, true);
  if (!fd) return fd.error();
  fd_ = std::move(fd.value());
  return {};
}

Writer::Writer(std::unique_ptr<Sink> sink, Format format) : sink_(std::move(sink)), format_(format) {
  buf_.reserve(kFlushBytes + 4096);  // one line past the threshold fits without growing
}

Writer::~Writer() { (void)flush(); }

std::string Writer::render(const nlohmann::json& event) const {
  if (format_ == Format::text) return render_text(event);
  // Compact, and never throwing: SNI and HTTP bytes come off the wire and
  // may not be UTF-8, which dump() would otherwise reject with an exception.
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> Writer::emit(const nlohmann::json& event) {
  buf_ += render(event);
  buf_.push_back('\n');
  return buf_.size() >= kFlushBytes ? flush() : Result<void>{};
}

Result<void> Writer::end_line(size_t start) {
  finish_line(start);
  return buf_.size() >= kFlushBytes ? flush() : Result<void>{};
}

void Writer::finish_line(size_t start) {
  if (format_ == Format::text) {
    // People read slowly; parsing the line back costs nothing they notice.
    auto doc = nlohmann::json::parse(std::string_view(buf_).substr(start), nullptr, false);
    if (!doc.is_discarded()) {
      std::string text = render_text(doc);
      buf_.resize(start);
      buf_ += text;
    }
  }
  buf_.push_back('\n');
}

Result<void> Writer::flush() {
  if (buf_.empty()) return {};
  auto r = sink_->write(buf_);
  buf_.clear();
  return r;
}

}  // namespace rsthop::output
