// Driver of codegen-cli/tests/meta_roundtrip.rs (run by the Rust test; not on its own).
//
// Usage: node meta_roundtrip.mjs <work dir>
// The work dir holds `schema/*.schema.json`, `js/protocol.js`, `js/protocol.zod.js` and
// `samples.json` ([{ id, type, meta?, payload?, zod }]). For every sample this prints whether
// ajv accepts the whole envelope against the message's own schema file and the bundle, the
// issues of the descriptor's `validateMeta` (under `/meta`, as the client reports them), and
// whether the typed meta's zod schema (`zod`, a name in the zod module) accepts `meta`.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const dir = process.argv[2];
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
for (const format of ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float", "double"]) {
  ajv.addFormat(format, { type: "number", validate: () => true });
}
const byTitle = {};
let bundle;
const metaErrors = {};
for (const file of readdirSync(join(dir, "schema")).sort()) {
  const schema = JSON.parse(readFileSync(join(dir, "schema", file), "utf8"));
  if (!ajv.validateSchema(schema)) {
    metaErrors[file] = ajv.errorsText(ajv.errors);
    continue;
  }
  const compiled = ajv.compile(schema);
  if (file === "protocol.schema.json") bundle = compiled;
  else byTitle[schema.title] = compiled;
}

const protocol = await import(pathToFileURL(join(dir, "js", "protocol.js")).href);
const zod = await import(pathToFileURL(join(dir, "js", "protocol.zod.js")).href);
const byType = new Map();
for (const value of Object.values(protocol)) {
  if (value && typeof value === "object" && typeof value.type === "string" && typeof value.validate === "function") {
    byType.set(value.type, value);
  }
}

const samples = JSON.parse(readFileSync(join(dir, "samples.json"), "utf8"));
const results = samples.map((sample) => {
  const envelope = { type: sample.type };
  if ("meta" in sample) envelope.meta = sample.meta;
  if ("payload" in sample) envelope.payload = sample.payload;
  const own = byTitle[sample.type];
  const descriptor = byType.get(sample.type);
  const validateMeta = descriptor?.validateMeta;
  const issues = validateMeta ? validateMeta(sample.meta ?? {}).map((i) => ({ ...i, path: `/meta${i.path}` })) : null;
  const zodSchema = zod[sample.zod];
  const zodResult = zodSchema ? zodSchema.safeParse(sample.meta ?? {}) : null;
  return {
    id: sample.id,
    ownSchema: own ? own(envelope) : null,
    ownErrors: own && own.errors ? ajv.errorsText(own.errors) : "",
    bundle: bundle ? bundle(envelope) : null,
    issues,
    zod: zodResult ? zodResult.success : null,
  };
});
process.stdout.write(JSON.stringify({ metaErrors, results }));
