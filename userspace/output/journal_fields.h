// The journal's view of one JSON line: its fields flattened into journal
// fields.  Pure (no libsystemd): sink_journal.cpp sends what this returns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rsthop::output {

// Journal field names are at most 64 characters of A-Z, 0-9 and '_', not
// starting with a digit or '_' (those are the journal's trusted fields).
constexpr size_t kMaxJournalFieldName = 64;

// "NAME=value" entries for one line (without its '\n'):
//  * MESSAGE=<the line>, PRIORITY=6, SYSLOG_IDENTIFIER=rsthop;
//  * every scalar of the document, its path joined with '_' and upper-cased,
//    other characters as '_' ("@timestamp" -> TIMESTAMP, "source.ip" ->
//    SOURCE_IP); a leading '_' or digit is dropped or prefixed (X_), a
//    name longer than 64 is cut; strings as they are, numbers and booleans
//    as JSON writes them, null omitted;
//  * an array as its compact JSON text under the array's name
//    (RESET_EVIDENCE=[...]): the journal has no nesting;
//  * a name that collides with one above or with an earlier field gets
//    RSTHOP_ in front (the line's own "message" becomes RSTHOP_MESSAGE).
// A line that is not a JSON object gets the three fixed fields only.
std::vector<std::string> journal_fields(std::string_view line);

// The field name for a dotted JSON path ("source.ip" -> "SOURCE_IP").
std::string journal_field_name(std::string_view path);

}  // namespace rsthop::output
