"""Second JSON Schema validator for codegen-cli/tests/roundtrip.rs and meta_roundtrip.rs
(run by the Rust tests).

Usage: python3 roundtrip.py <work dir>

The work dir is the one roundtrip.mjs or meta_roundtrip.mjs reads: `schema/*.schema.json`
and `samples.json` ([{id, type, meta?, payload?}]; other keys are ignored). For every
sample this prints whether Python's `jsonschema` (Draft202012Validator with format
checking, an implementation independent of ajv) accepts its envelope against the message's
own schema file and against the bundle. The Rust tests require the two validators to agree
on every sample.

Exits 3 when a format the generated schemas use cannot be checked (a missing optional
package): an unchecked format would pass everything and hide a disagreement.
"""

import json
import os
import sys

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

# Formats schemars and twinwire write that carry a rule (the integer formats such as
# `uint8` are names only; their ranges are `minimum`/`maximum`).
CHECKED_FORMATS = ["date-time", "date", "uri", "uuid", "email"]


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python3 roundtrip.py <work dir>", file=sys.stderr)
        return 2
    work = sys.argv[1]
    checker = FormatChecker()
    missing = [f for f in CHECKED_FORMATS if f not in checker.checkers]
    if missing:
        print(
            "jsonschema cannot check the formats " + ", ".join(missing)
            + " (install rfc3339-validator and rfc3986-validator)",
            file=sys.stderr,
        )
        return 3
    schema_dir = os.path.join(work, "schema")
    meta_errors = {}
    bundle = None
    by_title = {}
    for name in sorted(os.listdir(schema_dir)):
        with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
            schema = json.load(f)
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            meta_errors[name] = error.message
            continue
        validator = Draft202012Validator(schema, format_checker=checker)
        if name == "protocol.schema.json":
            bundle = validator
        else:
            by_title[schema.get("title")] = validator
    with open(os.path.join(work, "samples.json"), encoding="utf-8") as f:
        samples = json.load(f)
    results = []
    for sample in samples:
        envelope = {"type": sample["type"]}
        if "meta" in sample:
            envelope["meta"] = sample["meta"]
        if "payload" in sample:
            envelope["payload"] = sample["payload"]
        own = by_title.get(sample["type"])
        own_errors = [] if own is None else [
            "/".join(str(p) for p in e.absolute_path) + ": " + e.message
            for e in own.iter_errors(envelope)
        ]
        results.append({
            "id": sample["id"],
            "ownSchema": None if own is None else not own_errors,
            "ownErrors": "; ".join(own_errors)[:2000],
            "bundle": None if bundle is None else bundle.is_valid(envelope),
        })
    json.dump({"metaErrors": meta_errors, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
