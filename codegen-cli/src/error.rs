//! Errors of the generator, each saying what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

use twinwire::ManifestError;

/// Why generating, checking or loading failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The manifest is malformed, from a newer twinwire, or inconsistent.
    Manifest(ManifestError),
    /// A schema in the manifest cannot be read.
    Schema {
        /// Where: `definition `Foo``, `the payload of `BAR``.
        context: String,
        /// What is wrong.
        message: String,
    },
    /// Two generated names collide.
    Names(String),
    /// A template failed to render (a bug in twinwire-codegen).
    Template {
        /// The template's name.
        template: &'static str,
        /// minijinja's error.
        source: minijinja::Error,
    },
    /// Reading or writing a file failed.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The configuration file is unusable.
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The command line or configuration does not say what to do.
    Usage(String),
    /// Building or running the helper program that prints a crate's manifest failed.
    Helper {
        /// What failed.
        message: String,
        /// The helper's (or cargo's) error output.
        stderr: String,
    },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manifest(e) => write!(f, "{e}"),
            Self::Schema { context, message } => {
                write!(f, "cannot read the JSON Schema of {context}: {message}")
            }
            Self::Names(message) => f.write_str(message),
            Self::Template { template, source } => write!(
                f,
                "rendering `{template}` failed (a bug in twinwire-codegen, please report it): {source:#}"
            ),
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Config { path, message } => write!(f, "{}: {message}", path.display()),
            Self::Usage(message) => f.write_str(message),
            Self::Helper { message, stderr } => {
                write!(f, "{message}")?;
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    write!(f, "\n{stderr}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Manifest(e) => Some(e),
            Self::Template { source, .. } => Some(source),
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ManifestError> for Error {
    fn from(e: ManifestError) -> Self {
        Self::Manifest(e)
    }
}
