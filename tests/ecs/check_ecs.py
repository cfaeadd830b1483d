#!/usr/bin/python3
"""Check rsthop NDJSON output against the ECS field definitions it claims.

Every field outside rsthop.* must be defined in
tests/fixtures/ecs/ecs_flat_subset.yml (ECS's own ecs_flat.yml, reduced),
with a value of that field's type: keyword a string (an array of strings only
where ECS normalizes the field to an array), long an integer, date an RFC 3339
text, ip an address; ECS's patterns (MAC notation) and allowed values
(event.kind, event.category, event.type, event.outcome) hold, and each
event.type is one ECS expects with the line's event.category.  Every line
carries ecs.version (the subset's release) and the categorisation fields.
Reads files ('-' or none: stdin, '.gz' decompressed); exit status 0 all
conform, 1 a line does not (named on stderr), 2 usage errors.
"""
import argparse
import datetime
import gzip
import ipaddress
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SUBSET = os.path.join(HERE, "..", "fixtures", "ecs", "ecs_flat_subset.yml")
REQUIRED = ("@timestamp", "ecs.version", "event.kind", "event.category", "event.type", "event.action")
CUSTOM_ROOT = "rsthop"


def load_subset(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"ECS (\d+\.\d+\.\d+)", text)
    if not m:
        raise ValueError(f"{path} does not name its ECS release")
    return m.group(1), yaml.safe_load(text)


def leaves(doc, prefix=""):
    """(dotted name, value) of every leaf; an array is one leaf."""
    for key, value in doc.items():
        name = prefix + key
        if isinstance(value, dict):
            yield from leaves(value, name + ".")
        else:
            yield name, value


def is_date(v):
    if not isinstance(v, str):
        return False
    try:
        datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def is_ip(v):
    try:
        ipaddress.ip_address(v)
        return True
    except (TypeError, ValueError):
        return False


CHECKS = {
    "keyword": lambda v: isinstance(v, str),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "date": is_date,
    "ip": is_ip,
}


def field_errors(name, value, spec):
    """What is wrong with one ECS field's value (empty: nothing)."""
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and "array" not in (spec.get("normalize") or []):
        return [f"{name}: ECS does not normalize this field to an array"]
    check = CHECKS.get(spec["type"])
    if check is None:
        return [f"{name}: ECS type {spec['type']} has no check here"]
    errors = []
    for v in values:
        if not check(v):
            errors.append(f"{name}: {v!r} is not an ECS {spec['type']}")
        elif "pattern" in spec and not re.fullmatch(spec["pattern"], v):
            errors.append(f"{name}: {v!r} does not match ECS's pattern {spec['pattern']}")
        elif "allowed_values" in spec and v not in [a["name"] for a in spec["allowed_values"]]:
            errors.append(f"{name}: {v!r} is not one of ECS's allowed values")
    return errors


def category_errors(flat, subset):
    """Each event.type must be expected by every event.category of the line."""
    allowed = {a["name"]: a.get("expected_event_types") for a in subset["event.category"]["allowed_values"]}
    errors = []
    for cat in flat.get("event.category") or []:
        expected = allowed.get(cat)
        for t in flat.get("event.type") or []:
            if expected is not None and t not in expected:
                errors.append(f"event.type {t!r} is not expected with event.category {cat!r} ({', '.join(expected)})")
    return errors


def line_errors(doc, version, subset):
    flat = dict(leaves(doc))
    errors = [f"{name}: missing" for name in REQUIRED if name not in flat]
    if flat.get("ecs.version", version) != version:
        errors.append(f"ecs.version: {flat['ecs.version']!r}, the subset is ECS {version}")
    for name, value in flat.items():
        if name.split(".")[0] == CUSTOM_ROOT:
            continue
        spec = subset.get(name)
        if spec is None:
            errors.append(f"{name}: not an ECS field (not in the committed subset); custom fields go under rsthop.*")
            continue
        errors += field_errors(name, value, spec)
    return errors + category_errors(flat, subset)


def open_input(path):
    if path == "-":
        return sys.stdin
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="*", default=["-"], help="NDJSON files ('-': stdin; .gz read decompressed)")
    ap.add_argument("--subset", default=DEFAULT_SUBSET, help="the ECS field definitions (ecs_flat_subset.yml)")
    ap.add_argument("--expect-types", default="", help="comma-separated rsthop.event_type values that must appear")
    args = ap.parse_args()
    try:
        version, subset = load_subset(args.subset)
    except (OSError, ValueError, yaml.YAMLError) as e:
        print(f"check_ecs: cannot use {args.subset}: {e}", file=sys.stderr)
        return 2
    seen, count = set(), 0
    for path in args.inputs:
        try:
            stream = open_input(path)
        except OSError as e:
            print(f"check_ecs: cannot read {path}: {e.strerror}", file=sys.stderr)
            return 2
        with stream:
            for lineno, line in enumerate(stream, 1):
                try:
                    doc = json.loads(line)
                except ValueError as e:
                    print(f"{path}:{lineno}: not JSON ({e})", file=sys.stderr)
                    return 1
                errors = line_errors(doc, version, subset)
                if errors:
                    for e in errors[:5]:
                        print(f"{path}:{lineno}: {e}", file=sys.stderr)
                    print(f"{path}:{lineno}: line: {line[:300].rstrip()}", file=sys.stderr)
                    return 1
                seen.add((doc.get(CUSTOM_ROOT) or {}).get("event_type"))
                count += 1
    missing = sorted({t for t in args.expect_types.split(",") if t} - seen)
    if missing or count == 0:
        print(f"check_ecs: no line of rsthop.event_type {', '.join(missing) or '(any)'} in {count} lines",
              file=sys.stderr)
        return 1
    print(f"check_ecs: {count} lines conform to ECS {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
