// The attribution verdict's fields inside a `reset` line (reset.origin,
// reset.hops, reset.evidence[], ...).
#pragma once

#include "attribution/verdict.h"
#include "output/json_writer.h"

namespace rsthop::output {

// `evidence`: [{signal, observed, expected, weight}], as reset and verdict lines carry it.
void write_evidence(JsonWriter& w, const std::vector<attribution::Evidence>& evidence);

// Writes the verdict's members into the currently open `reset` object.
void write_verdict_fields(JsonWriter& w, const attribution::Verdict& v);

}  // namespace rsthop::output
