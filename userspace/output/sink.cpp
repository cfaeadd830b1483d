#include "sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "text.h"

namespace rsthop::output {

namespace {

// One writev-free loop: the line and its newline are joined first so a
// reader never sees a half line from us followed by another writer's.
Result<void> write_all(int fd, std::string_view line, const std::string& what) {
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
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

Result<void> StdoutSink::write_line(std::string_view line) { return write_all(fd_, line, "standard output"); }

Result<std::unique_ptr<Sink>> FileSink::open(const std::string& path, bool append) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  Fd fd(::open(path.c_str(), flags, 0644));
  if (!fd.valid()) {
    int err = errno;
    return make_error("cannot write to " + path + ": " + std::strerror(err), err);
  }
  return std::unique_ptr<Sink>(new FileSink(std::move(fd), path));
}

Result<void> FileSink::write_line(std::string_view line) { return write_all(fd_.get(), line, path_); }

std::string Writer::render(const nlohmann::json& event) const {
  if (format_ == Format::text) return render_text(event);
  // Compact, and never throwing: SNI and HTTP bytes come off the wire and
  // may not be UTF-8, which dump() would otherwise reject with an exception.
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> Writer::emit(const nlohmann::json& event) { return sink_->write_line(render(event)); }

}  // namespace rsthop::output
