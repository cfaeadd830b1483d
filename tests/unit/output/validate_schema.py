#!/usr/bin/python3
"""Validate rsthop NDJSON output against docs/schema/events.schema.json.

Reads a file (or stdin when no file or "-" is given), checks every line with
JSON Schema draft 2020-12 (python3-jsonschema, with format checks so IP
addresses are really addresses), and stops at the first bad line with a
message naming the line, the field and the rule.  Exit status: 0 all valid,
1 an invalid line (or an expected event type never seen), 2 usage or
environment errors.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("validate_schema: python3-jsonschema is not installed (apt-get install python3-jsonschema)",
          file=sys.stderr)
    sys.exit(2)

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "..", "docs", "schema", "events.schema.json")


def field_path(error):
    return "/".join(str(p) for p in error.absolute_path) or "(document)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-", help="NDJSON file, or - for stdin")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema file (default: docs/schema/events.schema.json)")
    ap.add_argument("--expect-types", default="",
                    help="comma-separated rsthop.event_type values that must each appear at least once")
    args = ap.parse_args()

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print(f"validate_schema: cannot use schema {args.schema}: {e}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

    try:
        stream = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    except OSError as e:
        print(f"validate_schema: cannot read {args.input}: {e.strerror}", file=sys.stderr)
        return 2

    name = "<stdin>" if args.input == "-" else args.input
    seen = set()
    count = 0
    with stream:
        for lineno, line in enumerate(stream, 1):
            line = line.rstrip("\n")
            try:
                doc = json.loads(line)
            except ValueError as e:
                print(f"{name}:{lineno}: not JSON ({e}): {line[:200]}", file=sys.stderr)
                return 1
            errors = sorted(validator.iter_errors(doc), key=lambda e: (-len(e.absolute_path), str(e.absolute_path)))
            if errors:
                # Deepest first: it usually names the real culprit (a bad source/ip,
                # rather than "source" failing as a whole).
                for err in errors[:5]:
                    print(f"{name}:{lineno}: {field_path(err)}: {err.message}", file=sys.stderr)
                print(f"{name}:{lineno}: invalid line: {line[:300]}", file=sys.stderr)
                return 1
            seen.add((doc.get("rsthop") or {}).get("event_type"))
            count += 1

    expected = {t for t in args.expect_types.split(",") if t}
    missing = sorted(expected - seen)
    if missing:
        print(f"{name}: no line of rsthop.event_type {', '.join(missing)} (saw {count} valid lines)", file=sys.stderr)
        return 1
    print(f"{name}: {count} lines valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
