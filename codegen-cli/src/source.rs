//! Where a manifest comes from: a JSON file, or a protocol crate.
//!
//! For a crate, a tiny helper package is written into the crate's target folder. It depends
//! on the protocol crate (and on the same `twinwire`) by path, and its `main` prints
//! `<Protocol as twinwire::Protocol>::manifest()` as JSON. It is built with the crate
//! workspace's `Cargo.lock` and target folder, so dependencies are shared with the
//! workspace's own builds and a second run only relinks or reuses the helper. (A crate's own
//! `build.rs` cannot call the derive impls of that crate, and parsing source text cannot
//! resolve serde's attributes, hence a program; see ARCHITECTURE.md, "Code generation".)

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use twinwire::Manifest;

use crate::error::Error;
use crate::files::fnv1a;

/// `twinwire-codegen <version>`, naming the generator in the manifest helper it writes.
const GENERATOR: &str = concat!("twinwire-codegen ", env!("CARGO_PKG_VERSION"));

/// Where to get a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A manifest JSON file (as `twinwire manifest` writes it).
    File(PathBuf),
    /// A protocol crate and the path of its protocol type (`chat_protocol::Chat`).
    Crate {
        /// The crate's folder (holding its `Cargo.toml`).
        dir: PathBuf,
        /// The protocol type's path; a path without the crate's name is taken to be in the
        /// crate's root.
        protocol: String,
    },
}

/// Loads the manifest from `source`.
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::Manifest`] for a malformed or newer
/// manifest, [`Error::Helper`] when the helper program cannot be built or fails.
pub fn load_manifest(source: &Source) -> Result<Manifest, Error> {
    match source {
        Source::File(path) => {
            let json = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            Ok(Manifest::from_json(&json)?)
        }
        Source::Crate { dir, protocol } => from_crate(dir, protocol),
    }
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// What `cargo metadata` says about the protocol crate.
struct CrateInfo {
    package: String,
    lib_name: String,
    dir: PathBuf,
    twinwire: Value,
    target_dir: PathBuf,
    lockfile: Option<PathBuf>,
}

fn helper_error(message: String) -> Error {
    Error::Helper {
        message,
        stderr: String::new(),
    }
}

fn crate_info(dir: &Path) -> Result<CrateInfo, Error> {
    let manifest_path = dir.join("Cargo.toml");
    let manifest_path = manifest_path
        .canonicalize()
        .map_err(|e| Error::io(&manifest_path, e))?;
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest_path)
        .output()
        .map_err(|e| Error::Helper {
            message: format!("cannot run `cargo metadata`: {e}"),
            stderr: String::new(),
        })?;
    if !output.status.success() {
        return Err(Error::Helper {
            message: format!("`cargo metadata` failed for {}", manifest_path.display()),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| helper_error(format!("`cargo metadata` printed invalid JSON: {e}")))?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let package = packages
        .iter()
        .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest_path.as_path()))
        .ok_or_else(|| {
            helper_error(format!(
                "{} is not a package (a virtual workspace manifest?); point `crate` at the protocol crate's folder",
                manifest_path.display()
            ))
        })?;
    let name = package["name"].as_str().unwrap_or_default().to_owned();
    let lib_name = package["targets"]
        .as_array()
        .and_then(|targets| {
            targets.iter().find(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "lib" || k == "rlib"))
            })
        })
        .and_then(|t| t["name"].as_str())
        .map(|n| n.replace('-', "_"))
        .ok_or_else(|| helper_error(format!("the crate `{name}` has no library target")))?;
    let id = package["id"].as_str().unwrap_or_default();
    let twinwire_id = metadata["resolve"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["id"] == id))
        .and_then(|node| node["deps"].as_array())
        .and_then(|deps| {
            deps.iter().find_map(|d| {
                let pkg = d["pkg"].as_str()?;
                let dep = packages.iter().find(|p| p["id"] == pkg)?;
                (dep["name"] == "twinwire").then(|| dep.clone())
            })
        })
        .ok_or_else(|| {
            helper_error(format!(
                "the crate `{name}` does not depend on `twinwire`, so it declares no protocol"
            ))
        })?;
    let twinwire = dependency_spec(&twinwire_id)?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| helper_error("`cargo metadata` gave no target directory".into()))?;
    let lockfile = metadata["workspace_root"]
        .as_str()
        .map(|root| Path::new(root).join("Cargo.lock"))
        .filter(|p| p.is_file());
    let dir = manifest_path
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default();
    Ok(CrateInfo {
        package: name,
        lib_name,
        dir,
        twinwire,
        target_dir,
        lockfile,
    })
}

/// How the helper depends on the same `twinwire` the protocol crate uses.
fn dependency_spec(package: &Value) -> Result<Value, Error> {
    let version = package["version"].as_str().unwrap_or_default();
    match package["source"].as_str() {
        None => {
            let manifest = package["manifest_path"].as_str().unwrap_or_default();
            let dir = Path::new(manifest).parent().unwrap_or(Path::new("."));
            Ok(serde_json::json!({ "path": dir.to_string_lossy() }))
        }
        Some(source) if source.starts_with("registry+") || source.starts_with("sparse+") => {
            Ok(serde_json::json!({ "version": format!("={version}") }))
        }
        Some(source) => Err(helper_error(format!(
            "the protocol crate uses `twinwire` from {source}, which the manifest helper cannot \
             depend on; write the manifest with a small program of your own and pass it with \
             `--manifest`"
        ))),
    }
}

/// The protocol path as the helper names it: absolute, starting with the crate's name.
fn protocol_path(lib_name: &str, protocol: &str) -> Result<String, Error> {
    let trimmed = protocol.trim().trim_start_matches("::");
    let path: syn::Path = syn::parse_str(trimmed).map_err(|e| {
        Error::Usage(format!(
            "`{protocol}` is not a Rust path to a protocol type (e.g. `chat_protocol::Chat`): {e}"
        ))
    })?;
    let first = path
        .segments
        .first()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    Ok(if first == lib_name {
        format!("::{trimmed}")
    } else if first == "crate" {
        format!("::{lib_name}{}", &trimmed["crate".len()..])
    } else {
        format!("::{lib_name}::{trimmed}")
    })
}

fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::write(path, contents).map_err(|e| Error::io(path, e))
}

fn from_crate(dir: &Path, protocol: &str) -> Result<Manifest, Error> {
    let info = crate_info(dir)?;
    let path = protocol_path(&info.lib_name, protocol)?;
    let key = fnv1a(format!("{}\0{path}", info.dir.display()).as_bytes());
    let name = format!("twinwire-manifest-{key:016x}");
    let helper = info.target_dir.join("twinwire-codegen").join(&name);

    let mut manifest = toml::Table::new();
    let mut package = toml::Table::new();
    package.insert("name".into(), name.clone().into());
    package.insert("version".into(), "0.0.0".into());
    package.insert("edition".into(), "2021".into());
    package.insert("publish".into(), false.into());
    manifest.insert("package".into(), package.into());
    let mut deps = toml::Table::new();
    let mut protocol_dep = toml::Table::new();
    protocol_dep.insert("package".into(), info.package.clone().into());
    protocol_dep.insert(
        "path".into(),
        info.dir.to_string_lossy().into_owned().into(),
    );
    deps.insert(info.lib_name.clone(), protocol_dep.into());
    let twinwire: toml::Value = serde_json::from_value(info.twinwire.clone())
        .map_err(|e| helper_error(format!("cannot describe the `twinwire` dependency: {e}")))?;
    deps.insert("twinwire".into(), twinwire);
    manifest.insert("dependencies".into(), deps.into());
    // Its own workspace, so the enclosing project's workspace does not claim it.
    manifest.insert("workspace".into(), toml::Table::new().into());
    let manifest = toml::to_string(&manifest)
        .map_err(|e| helper_error(format!("cannot write the helper's Cargo.toml: {e}")))?;

    let main = format!(
        "// Written by {generator}: prints the manifest of `{path}`.\n\
         fn main() {{\n    \
             match <{path} as ::twinwire::Protocol>::manifest() {{\n        \
                 Ok(manifest) => print!(\"{{}}\", manifest.to_pretty_json()),\n        \
                 Err(error) => {{\n            \
                     eprintln!(\"{{error}}\");\n            \
                     ::std::process::exit(2);\n        \
                 }}\n    \
             }}\n\
         }}\n",
        generator = GENERATOR,
    );
    write_if_changed(&helper.join("Cargo.toml"), &manifest)?;
    write_if_changed(&helper.join("src/main.rs"), &main)?;
    if let Some(lock) = &info.lockfile {
        // Start from the workspace's versions so the helper reuses what the workspace built.
        // Cargo adds the helper itself to its copy; the pristine copy beside it tells
        // whether the workspace's lock changed since.
        let text = fs::read_to_string(lock).map_err(|e| Error::io(lock, e))?;
        let pristine = helper.join("Cargo.lock.workspace");
        if fs::read_to_string(&pristine).ok().as_deref() != Some(text.as_str()) {
            write_if_changed(&helper.join("Cargo.lock"), &text)?;
            write_if_changed(&pristine, &text)?;
        }
    }

    let output = Command::new(cargo())
        .args(["run", "--quiet", "--manifest-path"])
        .arg(helper.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &info.target_dir)
        .output()
        .map_err(|e| helper_error(format!("cannot run cargo: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        let message = if output.status.code() == Some(2) && !stderr.contains("error[") {
            format!("`{path}` could not build its manifest")
        } else {
            format!(
                "building the manifest helper for `{path}` failed; is it a `twinwire::protocol!` \
                 type of the crate in {}? (helper package: {})",
                info.dir.display(),
                helper.display()
            )
        };
        return Err(Error::Helper { message, stderr });
    }
    let json = String::from_utf8(output.stdout)
        .map_err(|_| helper_error("the manifest helper printed invalid UTF-8".into()))?;
    Ok(Manifest::from_json(&json)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_paths_start_at_the_crate() {
        assert_eq!(
            protocol_path("chat_protocol", "chat_protocol::Chat").unwrap(),
            "::chat_protocol::Chat"
        );
        assert_eq!(
            protocol_path("chat_protocol", "Chat").unwrap(),
            "::chat_protocol::Chat"
        );
        assert_eq!(
            protocol_path("chat_protocol", "crate::api::Chat").unwrap(),
            "::chat_protocol::api::Chat"
        );
        assert_eq!(
            protocol_path("chat_protocol", "::chat_protocol::Chat").unwrap(),
            "::chat_protocol::Chat"
        );
        assert!(protocol_path("x", "not a path").is_err());
    }

    #[test]
    fn twinwire_dependency_follows_its_source() {
        let path = serde_json::json!({"version": "0.1.0", "source": null, "manifest_path": "/w/protocol/Cargo.toml"});
        assert_eq!(dependency_spec(&path).unwrap()["path"], "/w/protocol");
        let registry = serde_json::json!({"version": "0.1.0", "source": "registry+https://github.com/rust-lang/crates.io-index"});
        assert_eq!(dependency_spec(&registry).unwrap()["version"], "=0.1.0");
        let git = serde_json::json!({"version": "0.1.0", "source": "git+https://example.com/x"});
        assert!(dependency_spec(&git).is_err());
    }
}
