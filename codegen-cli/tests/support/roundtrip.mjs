// Round-trip driver for codegen-cli/tests/roundtrip.rs (run by the Rust test; not on its own).
//
// Usage: node roundtrip.mjs <work dir>
// The work dir holds `schema/*.schema.json` (generated), `js/protocol.js` (the generated
// protocol.ts compiled by tsc) and `samples.json` ([{ id, type, payload? }]). For every
// sample this prints whether ajv (JSON Schema 2020-12, an independent validator) accepts
// its envelope against the message's own schema file and against the bundle, and which
// issues the generated TypeScript validator reports, and whether the generated zod schema
// (js/protocol.zod.js) accepts the payload. The Rust test compares all of it with
// what serde and `Validate` say.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node roundtrip.mjs <work dir>");
  process.exit(2);
}

// Strict mode: unknown keywords, ambiguous types or loose tuples in a schema are errors.
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
// schemars names the Rust number type in `format`; the ranges themselves are
// `minimum`/`maximum`, which ajv checks. Registered so strict mode accepts them.
for (const format of [
  "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
  "int128", "uint128", "int", "uint", "float", "double",
]) {
  ajv.addFormat(format, { type: "number", validate: () => true });
}

const schemaDir = join(dir, "schema");
const schemas = {};
const byTitle = {};
const metaErrors = {};
for (const file of readdirSync(schemaDir).sort()) {
  const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8"));
  if (!ajv.validateSchema(schema)) {
    metaErrors[file] = ajv.errorsText(ajv.errors);
    continue;
  }
  try {
    schemas[file] = ajv.compile(schema);
    if (file !== "protocol.schema.json") byTitle[schema.title] = schemas[file];
  } catch (error) {
    metaErrors[file] = String(error);
  }
}

const protocol = await import(pathToFileURL(join(dir, "js", "protocol.js")).href);
const byType = new Map();
for (const name of Object.keys(protocol)) {
  const value = protocol[name];
  if (value && typeof value === "object" && typeof value.type === "string" && typeof value.validate === "function") {
    byType.set(value.type, value);
  }
}

// The generated zod module: each payload against its message's schema.
const zod = await import(pathToFileURL(join(dir, "js", "protocol.zod.js")).href);

const samples = JSON.parse(readFileSync(join(dir, "samples.json"), "utf8"));
const results = samples.map((sample) => {
  const envelope = "payload" in sample ? { type: sample.type, payload: sample.payload } : { type: sample.type };
  // Each message's own file is titled with its wire type.
  const own = byTitle[sample.type];
  const bundle = schemas["protocol.schema.json"];
  const descriptor = byType.get(sample.type);
  const issues = descriptor ? descriptor.validate(sample.payload) : null;
  const zodSchema = zod.payloadSchemas[sample.type];
  const zodResult = zodSchema ? zodSchema.safeParse(sample.payload) : null;
  return {
    id: sample.id,
    zod: zodResult ? zodResult.success : null,
    zodIssues: zodResult && !zodResult.success ? zodResult.error.issues : [],
    ownSchema: own ? own(envelope) : null,
    ownErrors: own && own.errors ? ajv.errorsText(own.errors) : "",
    bundle: bundle ? bundle(envelope) : null,
    issues,
  };
});

process.stdout.write(JSON.stringify({ metaErrors, descriptors: [...byType.keys()].sort(), results }));
