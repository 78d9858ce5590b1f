#!/usr/bin/env bash
# The fuzz step of scripts/test.sh (fuzz/README.md). Where cargo-fuzz is installed, fuzzes every
# target for FUZZ_SECONDS (default 30) from a scratch copy of its seeds; elsewhere replays the
# seeds through the same target code with `cargo test` and says why it did not fuzz.
# A missing tool never fails this step; a crash (or a broken seed) always does.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-30}"
targets=(envelope dispatch chat_payloads manifest_codegen websocket)

# libFuzzer's input size bound per target (README.md, "Long runs"): 4096 is its default;
# manifest_codegen reads manifests up to 16 KiB (MAX_MANIFEST in src/targets.rs).
max_len() {
  case "$1" in
    manifest_codegen) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

printf '\n== fuzz targets (fuzz/ci.sh)\n'

# The fuzz crate is its own workspace, outside the root's fmt and clippy steps.
cargo fmt -- --check
cargo clippy --all-targets --locked --quiet -- -D warnings

skip_reason=""
if ! cargo fuzz --version >/dev/null 2>&1; then
  skip_reason="cargo-fuzz is not installed (cargo install cargo-fuzz --locked)"
# cargo-fuzz passes nightly flags (-Z); a stable rustc takes them with RUSTC_BOOTSTRAP=1.
elif ! RUSTC_BOOTSTRAP=1 rustc -Z help >/dev/null 2>&1; then
  skip_reason="the Rust toolchain accepts no -Z flags, even with RUSTC_BOOTSTRAP=1"
fi
if [ -n "$skip_reason" ]; then
  echo "fuzzing skipped: $skip_reason; replaying the seeds instead"
  cargo test --locked --quiet
  exit 0
fi

export RUSTC_BOOTSTRAP=1
# AddressSanitizer where its runtime links; twinwire forbids unsafe code, so without it a run
# still catches every panic, overflow (debug assertions are on) and hang.
sanitizer=address
if ! cargo fuzz build --debug-assertions --sanitizer "$sanitizer" >/dev/null 2>&1; then
  echo "the AddressSanitizer build failed; fuzzing without a sanitizer"
  sanitizer=none
  cargo fuzz build --debug-assertions --sanitizer "$sanitizer"
fi

# The known false leak reports (see the file); every other leak still fails the run.
export LSAN_OPTIONS="suppressions=$PWD/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  echo "-- $target: ${seconds} s"
  mkdir -p "$scratch/$target"
  cp seeds/"$target"/* "$scratch/$target/"
  # libFuzzer's own progress lines are long; keep the last few and its final figures.
  if ! cargo fuzz run --debug-assertions --sanitizer "$sanitizer" "$target" "$scratch/$target" -- \
    -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=60 -print_final_stats=1 \
    >"$scratch/$target.log" 2>&1; then
    # The report (panic message, sanitizer stack), then libFuzzer's last lines.
    report_line="$(grep -n -m1 -E '==[0-9]+==ERROR|panicked at|^ERROR: libFuzzer|^ALARM' "$scratch/$target.log" | cut -d: -f1)"
    if [ -n "$report_line" ]; then
      tail -n "+$report_line" "$scratch/$target.log" | head -n 120
    else
      tail -n 60 "$scratch/$target.log"
    fi
    echo "fuzz target $target failed: the crashing input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
    "$scratch/$target.log" || true
done
