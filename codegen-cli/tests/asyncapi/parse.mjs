// Parses an AsyncAPI document with @asyncapi/parser, for codegen-cli/tests/asyncapi.rs.
//
// Usage: node parse.mjs [FILE]   (reads standard input without FILE)
// Prints one JSON object: {"parsed": <whether the parser returned a document>,
// "diagnostics": [{severity, code, message, path}]}, severity being "error", "warning",
// "information" or "hint". Exits 0 whenever it could run the parser, so the Rust test
// decides what counts as a failure.

import { readFileSync } from "node:fs";

import { Parser } from "@asyncapi/parser";

const SEVERITIES = ["error", "warning", "information", "hint"];

const text = readFileSync(process.argv[2] ?? 0, "utf8");
const parser = new Parser();
const { document, diagnostics } = await parser.parse(text);
const out = {
  parsed: document !== undefined,
  diagnostics: diagnostics.map((d) => ({
    severity: SEVERITIES[d.severity] ?? String(d.severity),
    code: String(d.code),
    message: d.message,
    path: d.path.map(String),
  })),
};
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
