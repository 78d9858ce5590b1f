#!/usr/bin/env bash
# The one test command (README.md): installs what the tests need, then runs every check.
# Safe to run on a fresh machine and in CI; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Rust tests that need a tool besides Rust (node and the npm packages, redis-server) skip with
# a printed reason on a machine without it, so `cargo test --workspace` passes with only Rust
# (tests/support). This command installs every tool, so here a skip means something is
# broken: TWINWIRE_REQUIRE_ALL=1 makes every such skip a failure.
export TWINWIRE_REQUIRE_ALL=1

step() { printf '\n== %s\n' "$*"; }

# Debian packages the tests need, installed only when missing. Non-interactive so a fresh CI
# machine never stops at a debconf prompt; sudo only when not already root.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    command -v "${pkg%%:*}" >/dev/null || missing+=("${pkg#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

step "npm tooling (typescript, ajv, ws, esbuild, playwright-core) from package-lock.json"
if [ ! -x node_modules/.bin/tsc ] || ! cmp -s package-lock.json node_modules/.package-lock.json.src 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.src
fi

step "Python jsonschema (the round-trip tests' second JSON Schema validator) into target/py-jsonschema"
# Pinned in codegen-cli/tests/support/requirements.txt. Debian's python3-jsonschema lacks the
# date-time and uri format checkers (rfc3339-validator is not packaged), so pip installs them
# into a virtual environment, which needs Debian's python3-venv.
py_env=target/py-jsonschema
py_reqs=codegen-cli/tests/support/requirements.txt
if ! cmp -s "$py_reqs" "$py_env/requirements.txt.src" 2>/dev/null; then
  apt_install python3:python3
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install "python3-venv-missing:python3-venv"
  fi
  rm -rf "$py_env"
  python3 -m venv "$py_env"
  "$py_env/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$py_reqs"
  cp "$py_reqs" "$py_env/requirements.txt.src"
fi

step "redis-server for the Redis pub/sub tests (runtime-redis/tests, examples/chat/server/tests/redis.rs)"
apt_install redis-server:redis-server

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (workspace)"
# Snapshots are compared, never written: a changed snapshot fails (codegen-cli/tests/snapshots.rs
# also fails on snapshot files no output produces). The chat example's outputs are checked by
# `twinwire check` below instead: examples/chat/generated/ is their only copy.
INSTA_UPDATE=no cargo test --workspace --locked

step "generated chat outputs are fresh (twinwire check), and no change breaks deployed peers (twinwire breaking)"
cargo run --quiet --locked -p twinwire-codegen -- check --config examples/chat/twinwire.toml
# Against the manifest committed at HEAD: a protocol change not yet committed is judged
# against the last committed version. CI of a pull request sets
# TWINWIRE_BREAKING_AGAINST=git:origin/main (the version deployed); outside a git checkout the
# manifest file itself is the baseline.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  against="${TWINWIRE_BREAKING_AGAINST:-git:HEAD}"
else
  against="${TWINWIRE_BREAKING_AGAINST:-examples/chat/generated/protocol.manifest.json}"
fi
cargo run --quiet --locked -p twinwire-codegen -- breaking --config examples/chat/twinwire.toml --against "$against"

step "TypeScript client tests (tests/ts-client, node --test)"
bash tests/ts-client/run-tests.sh

step "chat example in headless Chromium (examples/chat/web/test/browser.test.mjs)"
apt_install chromium:chromium
node_modules/.bin/tsc -p examples/chat/web
node_modules/.bin/tsc -p examples/chat/web/test
node examples/chat/web/build.mjs
cargo build --quiet --locked -p chat-server
node --test --test-reporter=spec examples/chat/web/test/browser.test.mjs

step "TypeScript client end to end: the Rust e2e server and WS-Kit 0.10 on Bun (tests/e2e)"
# Builds twinwire-e2e-server and installs Bun and WS-Kit from tests/e2e/wskit/package-lock.json.
bash tests/e2e/run.sh

bash fuzz/ci.sh  # fuzz targets: 30 s each where cargo-fuzz is installed, else a seed replay

step "all checks passed"
