//! `twinwire breaking`: where the old manifest comes from and how the report is printed.

use std::path::Path;
use std::process::{Command, ExitCode};

use serde::Serialize;
use twinwire::Manifest;
use twinwire_codegen::{Allow, Error};

/// Where `--against` reads the old manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Against {
    /// A manifest file.
    File(std::path::PathBuf),
    /// The committed manifest file (`[output] manifest`) at a git revision.
    Git(String),
}

impl Against {
    /// `git:REF` or a file path.
    pub fn parse(text: &str) -> Self {
        match text.strip_prefix("git:") {
            Some(reference) => Self::Git(reference.to_owned()),
            None => Self::File(text.into()),
        }
    }

    /// The old manifest's JSON. `manifest_file` is the configured manifest output, which
    /// `git:REF` reads at that revision.
    pub fn read(&self, manifest_file: Option<&Path>) -> Result<String, Error> {
        match self {
            Self::File(path) => std::fs::read_to_string(path).map_err(|e| Error::io(path, e)),
            Self::Git(reference) => {
                let file = manifest_file.ok_or_else(|| {
                    Error::Usage(
                        "`--against git:REF` reads the committed manifest: set `[output] manifest` \
                         in the configuration (and commit what `twinwire generate` writes there)"
                            .into(),
                    )
                })?;
                git_show(reference, file)
            }
        }
    }
}

/// `git show REF:<file>`, with the file's path relative to the repository's root.
fn git_show(reference: &str, file: &Path) -> Result<String, Error> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = file
        .file_name()
        .ok_or_else(|| Error::Usage(format!("`{}` is not a file name", file.display())))?;
    let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
    let path = format!("{}{}", prefix.trim_end(), name.to_string_lossy());
    git(dir, &["show", &format!("{reference}:{path}")])
}

fn git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Error::io("git", e))?;
    if !output.status.success() {
        return Err(Error::Usage(format!(
            "`git {}` (in {}) failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| Error::Usage(format!("`git {}` printed non-UTF-8 text", args.join(" "))))
}

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per change, grouped by wire type.
    Text,
    /// One JSON document: `{"breaking", "changes", "unusedAllows"}`.
    Json,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    breaking: bool,
    old_fingerprint: String,
    new_fingerprint: String,
    changes: &'a [twinwire_codegen::Change],
    unused_allows: Vec<&'a Allow>,
}

/// Compares, prints, and chooses the exit code: 0 compatible (or every break allowed), 1
/// breaking.
pub fn breaking(
    old_json: &str,
    new: &Manifest,
    allow: &[Allow],
    format: Format,
) -> Result<ExitCode, Error> {
    let old = Manifest::from_json(old_json)?;
    let mut report = twinwire_codegen::compare(&old, new);
    let unused = report.allow(allow);
    let breaking = report.is_breaking();
    match format {
        Format::Text => {
            print!("{report}");
            for entry in &unused {
                println!(
                    "note: `[[breaking.allow]]` {} {} matches no change; remove it",
                    entry.rule, entry.path
                );
            }
            println!(
                "{}",
                if breaking {
                    "verdict: breaking"
                } else {
                    "verdict: compatible"
                }
            );
        }
        Format::Json => {
            let json = JsonReport {
                breaking,
                old_fingerprint: old.fingerprint(),
                new_fingerprint: new.fingerprint(),
                changes: &report.changes,
                unused_allows: unused,
            };
            let text = serde_json::to_string_pretty(&json)
                .map_err(|e| Error::Usage(format!("cannot print the report: {e}")))?;
            println!("{text}");
        }
    }
    Ok(if breaking {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn against_reads_git_refs_and_files() {
        assert_eq!(Against::parse("git:HEAD~1"), Against::Git("HEAD~1".into()));
        assert_eq!(
            Against::parse("old/manifest.json"),
            Against::File("old/manifest.json".into())
        );
    }
}
