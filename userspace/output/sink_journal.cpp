#include "output/sink_journal.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstring>
#include <vector>

#include "output/journal_fields.h"

namespace rsthop::output {

Result<void> JournalSink::write(std::string_view lines) {
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
