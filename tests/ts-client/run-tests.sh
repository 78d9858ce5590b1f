#!/usr/bin/env bash
# Tests of the TypeScript client codegen-cli/ts/twinwire-client.ts (called by scripts/test.sh):
# type-checks the client in three environments (no environment types, Node types, browser
# types) plus the type-level tests, compiles the behaviour tests to a scratch folder and runs
# them with node --test. Any failure exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tsc="$root/node_modules/.bin/tsc"
if [ ! -x "$tsc" ]; then
  echo "run-tests.sh: $tsc is missing; run 'npm ci' at the repository root (scripts/test.sh does)" >&2
  exit 1
fi

echo "-- tsc --noEmit: client alone, no DOM and no Node types (codegen-cli/ts/tsconfig.json)"
"$tsc" -p "$root/codegen-cli/ts/tsconfig.json"
echo "-- tsc --noEmit: client with Node's types, behaviour tests, type-level tests (types.test-d.ts)"
"$tsc" -p "$here/tsconfig.json"
echo "-- tsc --noEmit: client with the browser's types (dom.test-d.ts)"
"$tsc" -p "$here/tsconfig.dom.json"

# Under target/ (git-ignored) so the compiled tests resolve `ws` from the root node_modules
# and load as ES modules through the root package.json ("type": "module").
mkdir -p "$root/target"
out="$(mktemp -d "$root/target/ts-client-tests.XXXXXX")"
trap 'rm -rf "$out"' EXIT
echo "-- tsc: compile the behaviour tests to ${out#"$root"/}"
"$tsc" -p "$here/tsconfig.build.json" --outDir "$out"

echo "-- node --test"
shopt -s nullglob
tests=("$out"/tests/ts-client/*.test.js)
if [ "${#tests[@]}" -eq 0 ]; then
  echo "run-tests.sh: no compiled tests found in $out/tests/ts-client" >&2
  exit 1
fi
# A client bug tends to show as a promise that never settles: fail such a test, don't hang.
node --test --test-reporter=spec --test-timeout=60000 "${tests[@]}"
