#include "output/sink_journal.h"

#include <sys/uio.h>
// An entry holds the line's fields only: without this, libsystemd's
// sd_journal_sendv macro adds CODE_FILE/CODE_LINE/CODE_FUNC (this file's
// build path), which say nothing about the event.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "output/journal_fields.h"

namespace rsthop::output {

namespace {
// sd_journal_sendv() returns success, silently, when journald is not there.
constexpr const char* kJournalSocket = "/run/systemd/journal/socket";
}  // namespace

Result<void> JournalSink::write(std::string_view lines) {
  if (::access(kJournalSocket, F_OK) != 0)
    return make_error(std::string("cannot write to the journal: ") + kJournalSocket +
                          " does not exist (is systemd-journald running?)",
                      ENOENT);
  std::vector<iovec> iov;
  for (size_t pos = 0; pos < lines.size();) {
    size_t nl = lines.find('\n', pos);
    if (nl == std::string_view::npos) nl = lines.size();
    auto fields = journal_fields(lines.substr(pos, nl - pos));
    pos = nl + 1;
    iov.clear();
    for (auto& f : fields) iov.push_back({f.data(), f.size()});
    int rc = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    if (rc < 0) return make_error(std::string("cannot write to the journal: ") + std::strerror(-rc), -rc);
  }
  return {};
}

}  // namespace rsthop::output
