//! Tools besides Rust that some tests need, and what a test does when one is missing.
//!
//! A missing tool skips the test: [`skip`] prints `skipped: <test>: <reason>` to stderr (past
//! libtest's output capture, so a plain `cargo test` shows it) and the test returns early.
//! When [`REQUIRE_ALL`] is `1`, it panics with the reason instead.

use std::ffi::OsStr;
use std::fmt::Display;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The environment variable that turns every skip into a failure when set to `1`.
/// `scripts/test.sh` sets it, so the README's test command never skips silently.
pub const REQUIRE_ALL: &str = "TWINWIRE_REQUIRE_ALL";

/// The repository root: the npm tooling (`node_modules`, `package.json`) lives there.
fn repo_root() -> PathBuf {
    // This crate sits at `tests/support/`.
    let support = Path::new(env!("CARGO_MANIFEST_DIR"));
    support.ancestors().nth(2).unwrap_or(support).to_owned()
}

/// Skips the calling test because of `reason`: prints `skipped: <test>: <reason>` to stderr,
/// or panics with the reason when [`REQUIRE_ALL`] is `1`. The caller returns right after.
///
/// # Panics
///
/// When `TWINWIRE_REQUIRE_ALL=1`.
pub fn skip(reason: impl Display) {
    // libtest runs each test on a thread named after it.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    if std::env::var_os(REQUIRE_ALL).as_deref() == Some(OsStr::new("1")) {
        panic!("{test} cannot run: {reason} ({REQUIRE_ALL}=1 forbids skipping it)");
    }
    // Straight to the process's stderr: libtest captures `eprintln!` of passing tests, and a
    // skip must show in a plain `cargo test` run. One write, so parallel tests don't interleave.
    let line = format!("skipped: {test}: {reason}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The first executable file named `program` in the folders of `PATH`.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// `program` from `PATH`, or `None` after [`skip`]ping the calling test, which then returns:
///
/// ```no_run
/// let Some(_chromium) = twinwire_test_support::require_tool("chromium") else { return };
/// ```
pub fn require_tool(program: &str) -> Option<PathBuf> {
    let found = find_on_path(program);
    if found.is_none() {
        skip(format_args!("`{program}` is not on PATH"));
    }
    found
}

/// Node and the repository's npm dev tooling (installed by `npm ci` from `package-lock.json`).
#[derive(Clone, Debug)]
pub struct NpmTooling {
    /// The `node` executable.
    pub node: PathBuf,
    /// The repository's `node_modules` folder.
    pub node_modules: PathBuf,
}

impl NpmTooling {
    /// An executable an installed package provides, e.g. `tsc`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.node_modules.join(".bin").join(name)
    }
}

/// `node` on `PATH` and every npm package of `packages` in the repository's `node_modules`,
/// or `None` after [`skip`]ping the calling test, which then returns.
pub fn require_npm_tooling(packages: &[&str]) -> Option<NpmTooling> {
    let Some(node) = find_on_path("node") else {
        skip("`node` (Node 20) is not on PATH");
        return None;
    };
    let node_modules = repo_root().join("node_modules");
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !node_modules.join(package).join("package.json").is_file())
        .collect();
    if !missing.is_empty() {
        skip(format_args!(
            "npm packages {} are not installed: run `npm ci` at the repository root \
             (scripts/test.sh does)",
            missing.join(", ")
        ));
        return None;
    }
    Some(NpmTooling { node, node_modules })
}

/// The environment variable naming a Python interpreter with `jsonschema` and its format
/// checkers; without it, [`require_python_jsonschema`] uses the virtual environment
/// `scripts/test.sh` creates, then `python3` from `PATH`.
pub const PYTHON: &str = "TWINWIRE_PYTHON";

/// The modules the round-trip tests' second JSON Schema validator needs
/// (`codegen-cli/tests/support/requirements.txt`).
const PYTHON_MODULES: &str = "import jsonschema, rfc3339_validator, rfc3986_validator";

/// A Python interpreter that can import `jsonschema` with the `date-time` and `uri` format
/// checkers, or `None` after [`skip`]ping the calling test, which then returns. Looked for
/// in [`PYTHON`], then `target/py-jsonschema` (where `scripts/test.sh` installs the pinned
/// packages), then `python3` on `PATH`.
pub fn require_python_jsonschema() -> Option<PathBuf> {
    let venv = repo_root().join("target/py-jsonschema/bin/python3");
    let candidates = std::env::var_os(PYTHON)
        .map(PathBuf::from)
        .into_iter()
        .chain(is_executable(&venv).then_some(venv))
        .chain(find_on_path("python3"));
    for python in candidates {
        let imports = std::process::Command::new(&python)
            .args(["-c", PYTHON_MODULES])
            .output();
        if imports.is_ok_and(|o| o.status.success()) {
            return Some(python);
        }
    }
    skip(
        "no Python with jsonschema, rfc3339-validator and rfc3986-validator: scripts/test.sh \
         installs them into target/py-jsonschema (or set TWINWIRE_PYTHON)",
    );
    None
}
