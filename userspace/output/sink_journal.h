// The systemd journal, through libsystemd's sd_journal_sendv(): one entry
// per line, the JSON's fields as journal fields (journal_fields.h).
#pragma once

#include <memory>

#include "output/sink.h"

namespace rsthop::output {

class JournalSink : public Sink {
 public:
  Result<void> write(std::string_view lines) override;
  // journald restarts; an entry it refused is sent again after the back-off.
  // Without its socket (/run/systemd/journal/socket) every write fails, so
  // the lines count as dropped instead of vanishing as sd_journal_sendv() lets them.
  bool reconnects() const override { return true; }
};

}  // namespace rsthop::output
