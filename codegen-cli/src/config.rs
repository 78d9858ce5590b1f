//! `twinwire.toml`: where the manifest comes from and where the outputs go.
//!
//! ```toml
//! [input]
//! crate = "protocol"                 # the protocol crate's folder...
//! protocol = "chat_protocol::Chat"   # ...and the protocol type in it
//! # manifest = "chat.manifest.json"  # or a manifest file instead
//!
//! [output]
//! rust = "generated/router.rs"
//! schema = "generated/schema"
//! typescript = "generated/ts"
//! manifest = "generated/protocol.manifest.json"  # optional: for `twinwire breaking`
//!
//! [output.asyncapi]                   # optional, see `ConfigAsyncApi`
//! path = "generated/asyncapi.json"
//! server_url = "ws://127.0.0.1:8080/ws"
//!
//! [[breaking.allow]]                  # optional: breaks accepted by `twinwire breaking`
//! rule = "field-removed"
//! path = "CHAT_MESSAGE/payload/legacyId"
//! reason = "no client has read it since 2.3"
//! ```
//!
//! A zod module for WS-Kit apps is one more `[output]` key (before any `[output.…]` table):
//! `zod = "generated/zod/protocol.zod.ts"`.
//!
//! Relative paths are relative to the folder of the configuration file.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::asyncapi::{AsyncApiOptions, check_server_url};
use crate::breaking::Allow;
use crate::error::Error;

/// A parsed configuration with paths resolved against its folder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the manifest comes from.
    #[serde(default)]
    pub input: ConfigInput,
    /// Where the outputs go.
    #[serde(default)]
    pub output: ConfigOutput,
    /// `[breaking]`: settings of `twinwire breaking`.
    #[serde(default)]
    pub breaking: ConfigBreaking,
}

/// `[breaking]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigBreaking {
    /// `[[breaking.allow]]`: accepted breaks, each with a reason.
    #[serde(default)]
    pub allow: Vec<Allow>,
}

/// `[input]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigInput {
    /// A manifest JSON file.
    pub manifest: Option<PathBuf>,
    /// The protocol crate's folder.
    #[serde(rename = "crate")]
    pub crate_dir: Option<PathBuf>,
    /// The protocol type's path, e.g. `chat_protocol::Chat`.
    pub protocol: Option<String>,
}

/// `[output]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigOutput {
    /// The Rust router file.
    pub rust: Option<PathBuf>,
    /// The TypeScript folder.
    pub typescript: Option<PathBuf>,
    /// The JSON Schema folder.
    pub schema: Option<PathBuf>,
    /// `[output.asyncapi]`: the AsyncAPI document and its settings.
    pub asyncapi: Option<ConfigAsyncApi>,
    /// The zod module for WS-Kit apps (`protocol.zod.ts`).
    pub zod: Option<PathBuf>,
    /// The manifest file (pretty JSON with its fingerprint), for `twinwire breaking`.
    pub manifest: Option<PathBuf>,
}

/// `[output.asyncapi]` in `twinwire.toml`:
///
/// ```toml
/// [output.asyncapi]
/// path = "generated/asyncapi.json"        # the document
/// server_url = "wss://chat.example.com/ws" # optional: the `ws` server
/// version = "1.2.0"                        # optional: info.version, default "0.0.0"
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigAsyncApi {
    /// The document's file (resolved against the configuration's folder).
    pub path: PathBuf,
    /// See [`AsyncApiOptions::server_url`].
    pub server_url: Option<String>,
    /// See [`AsyncApiOptions::version`].
    pub version: Option<String>,
}

impl ConfigAsyncApi {
    /// The generator options these settings give.
    pub fn options(&self) -> AsyncApiOptions {
        AsyncApiOptions {
            server_url: self.server_url.clone(),
            version: self.version.clone(),
        }
    }
}

impl Config {
    /// Reads `path`, resolving its relative paths against its folder.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read, [`Error::Config`] when it is not valid.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, base).map_err(|message| Error::Config {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses configuration text, resolving relative paths against `base`.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(text: &str, base: &Path) -> Result<Self, String> {
        let mut config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        let input = &mut config.input;
        if input.manifest.is_some() && input.crate_dir.is_some() {
            return Err("`[input]` gives both `manifest` and `crate`; choose one".into());
        }
        if input.crate_dir.is_some() != input.protocol.is_some() {
            return Err(
                "`[input]` needs `crate` and `protocol` together (the crate's folder and the \
                 protocol type's path, e.g. `chat_protocol::Chat`)"
                    .into(),
            );
        }
        for path in [&mut input.manifest, &mut input.crate_dir]
            .into_iter()
            .chain([
                &mut config.output.rust,
                &mut config.output.typescript,
                &mut config.output.schema,
                &mut config.output.zod,
                &mut config.output.manifest,
            ])
            .flatten()
        {
            *path = resolve(base, path);
        }
        for allow in &config.breaking.allow {
            allow
                .check()
                .map_err(|e| format!("`[[breaking.allow]]`: {e}"))?;
        }
        if let Some(asyncapi) = &mut config.output.asyncapi {
            asyncapi.path = resolve(base, &asyncapi.path);
            if let Some(url) = &asyncapi.server_url {
                check_server_url(url).map_err(|e| format!("`[output.asyncapi]`: {e}"))?;
            }
        }
        Ok(config)
    }
}

/// `path` relative to `base` unless it is absolute.
fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_config_folder() {
        let config = Config::parse(
            "[input]\ncrate = \"protocol\"\nprotocol = \"chat_protocol::Chat\"\n\n[output]\nrust = \"gen/router.rs\"\ntypescript = \"/abs/ts\"\n",
            Path::new("examples/chat"),
        )
        .unwrap();
        assert_eq!(
            config.input.crate_dir.as_deref(),
            Some(Path::new("examples/chat/protocol"))
        );
        assert_eq!(
            config.input.protocol.as_deref(),
            Some("chat_protocol::Chat")
        );
        assert_eq!(
            config.output.rust.as_deref(),
            Some(Path::new("examples/chat/gen/router.rs"))
        );
        assert_eq!(
            config.output.typescript.as_deref(),
            Some(Path::new("/abs/ts"))
        );
        assert_eq!(config.output.schema, None);
    }

    #[test]
    fn mistakes_are_explained() {
        let base = Path::new(".");
        let err = Config::parse("[input]\ncrate = \"x\"\n", base).unwrap_err();
        assert!(err.contains("`protocol`"), "{err}");
        let err = Config::parse(
            "[input]\nmanifest = \"m.json\"\ncrate = \"x\"\nprotocol = \"p\"\n",
            base,
        )
        .unwrap_err();
        assert!(err.contains("choose one"), "{err}");
        let err = Config::parse("[output]\nrsut = \"x\"\n", base).unwrap_err();
        assert!(err.contains("rsut"), "{err}");
        let err = Config::parse(
            "[output.asyncapi]\npath = \"a.json\"\nserver_url = \"http://x/ws\"\n",
            base,
        )
        .unwrap_err();
        assert!(
            err.contains("`[output.asyncapi]`") && err.contains("ws://"),
            "{err}"
        );
        let err =
            Config::parse("[output.asyncapi]\nserver_url = \"ws://x/ws\"\n", base).unwrap_err();
        assert!(err.contains("path"), "{err}");
    }

    #[test]
    fn allowances_need_a_known_rule_and_a_reason() {
        let base = Path::new(".");
        let ok = Config::parse(
            "[output]\nmanifest = \"m.json\"\n[[breaking.allow]]\nrule = \"field-removed\"\npath = \"A/payload/x\"\nreason = \"unused\"\n",
            base,
        )
        .unwrap();
        assert_eq!(ok.breaking.allow.len(), 1);
        assert_eq!(ok.output.manifest.as_deref(), Some(Path::new("./m.json")));
        let err = Config::parse(
            "[[breaking.allow]]\nrule = \"field-removed\"\npath = \"A/payload/x\"\n",
            base,
        )
        .unwrap_err();
        assert!(err.contains("reason"), "{err}");
        let err = Config::parse(
            "[[breaking.allow]]\nrule = \"field-removed\"\npath = \"A\"\nreason = \" \"\n",
            base,
        )
        .unwrap_err();
        assert!(err.contains("needs a `reason`"), "{err}");
        let err = Config::parse(
            "[[breaking.allow]]\nrule = \"field-gone\"\npath = \"A\"\nreason = \"r\"\n",
            base,
        )
        .unwrap_err();
        assert!(err.contains("field-gone"), "{err}");
    }

    #[test]
    fn the_asyncapi_table_gives_a_path_and_options() {
        let config = Config::parse(
            "[output.asyncapi]\npath = \"gen/asyncapi.json\"\nserver_url = \"wss://h/ws\"\nversion = \"1.2.0\"\n",
            Path::new("examples/chat"),
        )
        .unwrap();
        let asyncapi = config.output.asyncapi.unwrap();
        assert_eq!(asyncapi.path, Path::new("examples/chat/gen/asyncapi.json"));
        let options = asyncapi.options();
        assert_eq!(options.server_url.as_deref(), Some("wss://h/ws"));
        assert_eq!(options.version.as_deref(), Some("1.2.0"));
    }
}
