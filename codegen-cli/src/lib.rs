//! Code generation from a twinwire manifest: the Rust router stubs, JSON Schemas and
//! TypeScript both sides of a protocol need, and on request an AsyncAPI 3.0 document
//! describing the protocol (JSON built as data, like the JSON Schemas).
//!
//! The pipeline is manifest → a view model per output (names, types, docs and escapes
//! resolved in Rust) → text → files. `router.rs` is a minijinja template embedded from the
//! repository's `templates/` folder, `protocol.ts` is written by Rust code (its validators
//! follow the schemas recursively), and the JSON Schemas are serialized with serde_json; the
//! repository's ARCHITECTURE.md ("Code generation") explains the split. Output is
//! deterministic: the same manifest gives byte-identical files, with no timestamps.
//!
//! The `twinwire` binary wraps this library; a downstream crate's `build.rs` can use it
//! directly, with the protocol crate as a build-dependency. Such a crate needs neither the
//! command line nor `twinwire.toml`, so it can leave out the default `cli` feature (and
//! with it clap and toml): `twinwire-codegen = { version = "…", default-features = false }`.
//!
//! ```no_run
//! // build.rs
//! use twinwire::Protocol;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let manifest = chat_protocol::Chat::manifest()?;
//!     let report = twinwire_codegen::Generator::new(manifest)
//!         .rust("src/generated/router.rs")
//!         .typescript("web/src/generated")
//!         .schema("schema")
//!         .write()?;
//!     println!("cargo::rerun-if-changed=build.rs");
//!     let _ = report;
//!     Ok(())
//! }
//! ```
//!
//! [`Generator::write`] only touches files whose contents changed, so it does not cause
//! rebuild loops; [`Generator::check`] compares instead of writing.

mod asyncapi;
mod breaking;
#[cfg(feature = "cli")]
mod config;
mod error;
mod files;
mod jsonschema;
mod rust;
mod schema;
#[cfg(feature = "cli")]
mod source;
mod templates;
mod ts;

use std::path::PathBuf;

use twinwire::Manifest;

#[cfg(feature = "cli")]
pub use asyncapi::ConfigAsyncApi;
pub use asyncapi::{ASYNCAPI_VERSION, AsyncApiOptions};
pub use breaking::{Breakage, Category, Change, Report, Rule, compare};
#[cfg(feature = "cli")]
pub use config::{Config, ConfigInput, ConfigOutput};
pub use error::Error;
pub use files::{CheckReport, GeneratedFile, Output, Staleness, WriteReport};
use files::{MARKER, OwnedDir, fnv1a};
#[cfg(feature = "cli")]
pub use source::{Source, load_manifest};

/// The protocol-independent TypeScript client, emitted byte for byte as
/// `twinwire-client.ts` beside `protocol.ts`.
const TS_CLIENT: &str = include_str!("../ts/twinwire-client.ts");

/// File name of the generated TypeScript protocol module.
const TS_PROTOCOL_FILE: &str = "protocol.ts";
/// File name of the verbatim TypeScript client.
const TS_CLIENT_FILE: &str = "twinwire-client.ts";
/// File name of the JSON Schema bundle.
const SCHEMA_BUNDLE_FILE: &str = "protocol.schema.json";
/// File name ending of every JSON Schema file.
const SCHEMA_SUFFIX: &str = ".schema.json";

/// The header line of a generated file.
fn header(manifest: &Manifest) -> String {
    format!(
        "{MARKER} {} from `{}`. Do not edit.",
        env!("CARGO_PKG_VERSION"),
        manifest.rust_path.replace(['\n', '\r'], " ")
    )
}

/// The JSON Schema files by file name: one envelope schema per message
/// (`<TYPE>.schema.json`, the type made file-name safe) and the bundle
/// [`SCHEMA_BUNDLE_FILE`]. Sorted by file name.
///
/// # Errors
/// [`Error::Names`] when a definition uses a name reserved for the envelopes.
fn json_schemas(manifest: &Manifest) -> Result<Vec<(String, String)>, Error> {
    let comment = header(manifest);
    let mut files = vec![(
        SCHEMA_BUNDLE_FILE.to_owned(),
        jsonschema::to_text(&jsonschema::bundle(manifest, &comment)?),
    )];
    let names = schema_file_names(manifest);
    for (m, name) in manifest.messages.iter().zip(names) {
        files.push((
            name,
            jsonschema::to_text(&jsonschema::message(manifest, m, &comment)?),
        ));
    }
    files.sort();
    Ok(files)
}

/// A message's schema file name: its wire type where that is a safe, portable file name;
/// otherwise (or when two names would only differ in case) the type made safe, shortened,
/// and followed by a hash of the original, so every message keeps a distinct file.
fn schema_file_names(manifest: &Manifest) -> Vec<String> {
    let safe: Vec<(String, bool)> = manifest
        .messages
        .iter()
        .map(|m| {
            let cleaned: String = m
                .wire_type
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let plain = cleaned == m.wire_type
                && cleaned.len() <= 100
                && !cleaned.eq_ignore_ascii_case("protocol");
            (cleaned, plain)
        })
        .collect();
    // File systems may ignore case, so names equal but for case share one file.
    let mut uses: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (cleaned, _) in &safe {
        *uses.entry(cleaned.to_ascii_lowercase()).or_default() += 1;
    }
    manifest
        .messages
        .iter()
        .zip(&safe)
        .map(|(m, (cleaned, plain))| {
            let clash = uses
                .get(&cleaned.to_ascii_lowercase())
                .is_some_and(|&n| n > 1);
            if *plain && !clash {
                format!("{cleaned}{SCHEMA_SUFFIX}")
            } else {
                let short: String = cleaned.chars().take(80).collect();
                format!(
                    "{short}-{:016x}{SCHEMA_SUFFIX}",
                    fnv1a(m.wire_type.as_bytes())
                )
            }
        })
        .collect()
}

/// Generates a protocol's outputs into chosen places.
///
/// Each output is optional: [`rust`](Self::rust) names the router file,
/// [`typescript`](Self::typescript) the folder of `protocol.ts` and `twinwire-client.ts`,
/// [`schema`](Self::schema) the folder of the JSON Schemas, [`asyncapi`](Self::asyncapi)
/// the AsyncAPI document (the names match the `[output]` keys of `twinwire.toml` and the
/// command line's flags). The generator owns the files
/// it writes; in those folders, a file carrying the generated-file marker that is no longer
/// generated is stale ([`write`](Self::write) removes it, [`check`](Self::check) reports it).
#[derive(Clone, Debug)]
pub struct Generator {
    manifest: Manifest,
    rust: Option<PathBuf>,
    typescript: Option<PathBuf>,
    schema: Option<PathBuf>,
    asyncapi: Option<(PathBuf, AsyncApiOptions)>,
}

impl Generator {
    /// A generator for `manifest` with no outputs chosen yet.
    pub fn new(manifest: Manifest) -> Self {
        Self {
            manifest,
            rust: None,
            typescript: None,
            schema: None,
            asyncapi: None,
        }
    }

    /// A generator for a manifest in JSON (as `twinwire manifest` prints it).
    ///
    /// # Errors
    /// [`Error::Manifest`] for malformed JSON, a newer manifest format, or an inconsistent
    /// manifest.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Ok(Self::new(Manifest::from_json(json)?))
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Writes the Rust router (the handler trait and the router function) to `path`.
    #[must_use]
    pub fn rust(mut self, path: impl Into<PathBuf>) -> Self {
        self.rust = Some(path.into());
        self
    }

    /// Writes `protocol.ts` and `twinwire-client.ts` into folder `dir`.
    #[must_use]
    pub fn typescript(mut self, dir: impl Into<PathBuf>) -> Self {
        self.typescript = Some(dir.into());
        self
    }

    /// Writes the JSON Schemas into folder `dir`: one envelope schema per message
    /// (`<TYPE>.schema.json`) and the bundle `protocol.schema.json`.
    #[must_use]
    pub fn schema(mut self, dir: impl Into<PathBuf>) -> Self {
        self.schema = Some(dir.into());
        self
    }

    /// Writes an AsyncAPI 3.0 document (JSON) describing the protocol to `path`.
    #[must_use]
    pub fn asyncapi(mut self, path: impl Into<PathBuf>, options: AsyncApiOptions) -> Self {
        self.asyncapi = Some((path.into(), options));
        self
    }

    /// Every chosen output, rendered in memory.
    ///
    /// # Errors
    /// [`Error::Manifest`] for a message whose Rust path is not a type, [`Error::Schema`]
    /// for a schema the TypeScript output cannot read, [`Error::Names`] when generated
    /// names collide or a definition uses a name reserved for the envelope schemas.
    pub fn output(&self) -> Result<Output, Error> {
        let mut out = Output::default();
        let header = header(&self.manifest);
        if let Some(path) = &self.rust {
            out.files.push(GeneratedFile {
                path: path.clone(),
                contents: rust::router(&self.manifest, &header)?,
            });
        }
        if let Some(dir) = &self.typescript {
            out.files.push(GeneratedFile {
                path: dir.join(TS_PROTOCOL_FILE),
                contents: ts::protocol_ts(&self.manifest, &header)?,
            });
            out.files.push(GeneratedFile {
                path: dir.join(TS_CLIENT_FILE),
                contents: TS_CLIENT.to_owned(),
            });
            out.owned.push(OwnedDir {
                path: dir.clone(),
                suffix: ".ts",
            });
        }
        if let Some(dir) = &self.schema {
            for (name, contents) in json_schemas(&self.manifest)? {
                out.files.push(GeneratedFile {
                    path: dir.join(name),
                    contents,
                });
            }
            out.owned.push(OwnedDir {
                path: dir.clone(),
                suffix: SCHEMA_SUFFIX,
            });
        }
        if let Some((path, options)) = &self.asyncapi {
            out.files.push(GeneratedFile {
                path: path.clone(),
                contents: asyncapi::document(&self.manifest, options, &header)?,
            });
        }
        Ok(out)
    }

    /// Writes the outputs that changed and removes stale generated files.
    ///
    /// # Errors
    /// [`Error::Usage`] when no output was chosen; rendering and I/O errors.
    pub fn write(&self) -> Result<WriteReport, Error> {
        self.require_output()?;
        self.output()?.write()
    }

    /// Compares the files on disk with what would be generated.
    ///
    /// # Errors
    /// [`Error::Usage`] when no output was chosen; rendering and I/O errors.
    pub fn check(&self) -> Result<CheckReport, Error> {
        self.require_output()?;
        self.output()?.check()
    }

    fn require_output(&self) -> Result<(), Error> {
        if self.rust.is_none()
            && self.typescript.is_none()
            && self.schema.is_none()
            && self.asyncapi.is_none()
        {
            return Err(Error::Usage(
                "no output chosen: give a Rust router path, a TypeScript folder, a schema folder \
                 or an AsyncAPI file"
                    .into(),
            ));
        }
        Ok(())
    }
}
