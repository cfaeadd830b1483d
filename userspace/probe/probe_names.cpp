// Stable names of the probe enums (used in JSON output: do not rename).
#include "probe/probe.h"

namespace rsthop::probe {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::refused: return "refused";
    case Outcome::reset: return "reset";
    case Outcome::timeout: return "timeout";
    case Outcome::unreachable: return "unreachable";
    case Outcome::tls_alert: return "tls_alert";
    case Outcome::cert_error: return "cert_error";
    case Outcome::error: return "error";
  }
  return "error";
}

const char* syn_kind_name(SynStep::Kind k) {
  switch (k) {
    case SynStep::time_exceeded: return "time_exceeded";
    case SynStep::unreachable: return "unreachable";
    case SynStep::reached: return "reached";
    case SynStep::refused: return "refused";
    case SynStep::silent: return "silent";
  }
  return "silent";
}

const char* trigger_kind_name(TriggerStep::Kind k) {
  switch (k) {
    case TriggerStep::reset: return "reset";
    case TriggerStep::response: return "response";
    case TriggerStep::silent: return "silent";
    case TriggerStep::error: return "error";
  }
  return "error";
}

}  // namespace rsthop::probe
