// Volume control (trace/analyze --events, --origin, --min-confidence): which
// event types a run writes, and which resets are worth a line.  Plain data and
// parsers; the Pipeline applies them.  `lost` and `stats` can be left out of
// --events, but never silently: the final `stats` line is always written (its
// counters hold every loss), and the command says on stderr how much was lost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attribution/verdict.h"
#include "common/result.h"

namespace rsthop::pipeline {

// The names are --events' words and the lines' event_type: do not rename.
enum class EventType { flow, reset, verdict, lost, stats, incident };
const char* name(EventType t);
std::optional<EventType> parse_event_type(std::string_view s);

class EventSet {
 public:
  // Every type but `incident`.
  static EventSet defaults();
  // From --events' words (each may itself hold a comma-separated list);
  // an unknown word is an error naming it and the known ones.
  static Result<EventSet> parse(const std::vector<std::string>& words);

  bool has(EventType t) const { return (bits_ & bit(t)) != 0; }
  void add(EventType t) { bits_ |= bit(t); }
  void remove(EventType t) { bits_ &= ~bit(t); }

 private:
  static uint32_t bit(EventType t) { return 1U << static_cast<unsigned>(t); }
  uint32_t bits_ = 0;
};

// Which resets are written (as reset lines or counted into incidents).
struct ResetFilter {
  std::vector<attribution::Origin> origins;  // empty: every origin
  double min_confidence = 0;                 // keep verdicts with confidence >= this

  // From --origin's words (comma-separated lists allowed); an unknown origin is an error.
  static Result<std::vector<attribution::Origin>> parse_origins(const std::vector<std::string>& words);
  bool keep(const attribution::Verdict& v) const;
};

}  // namespace rsthop::pipeline
