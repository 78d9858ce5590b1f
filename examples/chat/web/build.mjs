// Builds the chat page into examples/chat/web/dist/ (served by chat-server): bundles
// src/main.ts with esbuild and copies public/. esbuild does not type-check; the test
// command runs `tsc -p examples/chat/web` for that. Usage: node examples/chat/web/build.mjs
import { cp, mkdir, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(dist, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  sourcemap: "linked",
  logLevel: "warning",
});
await cp(join(here, "public"), dist, { recursive: true });
console.log(`chat page built into ${relative(process.cwd(), dist) || "."}`);
