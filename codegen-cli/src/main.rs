//! The `twinwire` command line: generate, check and inspect a protocol's outputs, and
//! check a change of the protocol for breaks.

mod cli;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use twinwire_codegen::{Config, Error, Generator, Source, load_manifest};

/// Generate Rust router stubs, JSON Schemas and TypeScript from a twinwire protocol.
#[derive(Debug, Parser)]
#[command(name = "twinwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes every configured output (only files whose contents changed), and removes
    /// generated files that are no longer generated.
    Generate {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Exits with 1 and prints a unified diff when any output on disk is stale (changed,
    /// missing, or no longer generated); 0 when everything is fresh.
    Check {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Prints the manifest (the IR every output is generated from) as JSON.
    Manifest {
        #[command(flatten)]
        input: InputArgs,
        /// Write it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Compares the protocol (the new version) with an old manifest and prints every change
    /// with its rule, path, who it breaks and a fix. Exits 0 when compatible (or every break
    /// is allowed by `[[breaking.allow]]`), 1 when breaking, 2 on an error.
    Breaking {
        #[command(flatten)]
        input: InputArgs,
        /// The old version: a manifest file, or `git:REF` for the configured
        /// `[output] manifest` as committed at REF (e.g. `git:HEAD`, `git:origin/main`).
        #[arg(long, value_name = "FILE | git:REF")]
        against: String,
        /// `text` (default) or `json`.
        #[arg(long, value_enum, default_value_t = cli::Format::Text)]
        format: cli::Format,
    },
    /// Writes the JSON Schemas only (to `--out`, or to the configured schema folder).
    Schema {
        #[command(flatten)]
        input: InputArgs,
        /// The folder to write them to.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct InputArgs {
    /// The configuration file; `./twinwire.toml` is used when it exists and no input flag is
    /// given. Flags override its settings.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Read the manifest from this JSON file.
    #[arg(long, value_name = "FILE", conflicts_with = "crate_dir")]
    manifest: Option<PathBuf>,
    /// Build the manifest from the protocol crate in this folder (with `--protocol`).
    #[arg(long = "crate", value_name = "DIR", requires = "protocol")]
    crate_dir: Option<PathBuf>,
    /// The protocol type's path in that crate, e.g. `chat_protocol::Chat`.
    #[arg(long, value_name = "PATH", requires = "crate_dir")]
    protocol: Option<String>,
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// The Rust router file.
    #[arg(long, value_name = "FILE")]
    rust: Option<PathBuf>,
    /// The folder of `protocol.ts` and `twinwire-client.ts`.
    #[arg(long, value_name = "DIR")]
    typescript: Option<PathBuf>,
    /// The folder of the JSON Schemas.
    #[arg(long, value_name = "DIR")]
    schema: Option<PathBuf>,
    /// The AsyncAPI document (server URL and version come from `[output.asyncapi]`).
    #[arg(long, value_name = "FILE")]
    asyncapi: Option<PathBuf>,
    /// The zod module for WS-Kit apps (`protocol.zod.ts`; needs zod 4 and @ws-kit/zod 0.10).
    #[arg(long, value_name = "FILE")]
    zod: Option<PathBuf>,
}

impl InputArgs {
    /// The configuration in effect: the named file, `./twinwire.toml` when no input flag is
    /// given, or nothing.
    fn config(&self) -> Result<Config, Error> {
        if let Some(path) = &self.config {
            return Config::load(path);
        }
        let default = Path::new("twinwire.toml");
        if self.manifest.is_none() && self.crate_dir.is_none() && default.is_file() {
            return Config::load(default);
        }
        Ok(Config::default())
    }

    fn source(&self, config: &Config) -> Result<Source, Error> {
        if let Some(path) = &self.manifest {
            return Ok(Source::File(path.clone()));
        }
        if let (Some(dir), Some(protocol)) = (&self.crate_dir, &self.protocol) {
            return Ok(Source::Crate {
                dir: dir.clone(),
                protocol: protocol.clone(),
            });
        }
        let input = &config.input;
        if let Some(path) = &input.manifest {
            return Ok(Source::File(path.clone()));
        }
        if let (Some(dir), Some(protocol)) = (&input.crate_dir, &input.protocol) {
            return Ok(Source::Crate {
                dir: dir.clone(),
                protocol: protocol.clone(),
            });
        }
        Err(Error::Usage(
            "no input: give `--manifest <FILE>`, or `--crate <DIR> --protocol <PATH>`, or a \
             `--config` file (or a `twinwire.toml` here) with an `[input]` section"
                .into(),
        ))
    }
}

fn generator(input: &InputArgs, output: &OutputArgs) -> Result<Generator, Error> {
    let config = input.config()?;
    let manifest = load_manifest(&input.source(&config)?)?;
    let mut generator = Generator::new(manifest);
    if let Some(path) = output.rust.as_ref().or(config.output.rust.as_ref()) {
        generator = generator.rust(path);
    }
    if let Some(dir) = output
        .typescript
        .as_ref()
        .or(config.output.typescript.as_ref())
    {
        generator = generator.typescript(dir);
    }
    if let Some(dir) = output.schema.as_ref().or(config.output.schema.as_ref()) {
        generator = generator.schema(dir);
    }
    let asyncapi = config.output.asyncapi.as_ref();
    if let Some(path) = output.asyncapi.as_ref().or(asyncapi.map(|a| &a.path)) {
        let options = asyncapi.map(|a| a.options()).unwrap_or_default();
        generator = generator.asyncapi(path, options);
    }
    if let Some(path) = output.zod.as_ref().or(config.output.zod.as_ref()) {
        generator = generator.zod(path);
    }
    if let Some(path) = &config.output.manifest {
        generator = generator.manifest_file(path);
    }
    Ok(generator)
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Generate { input, output } => {
            let report = generator(&input, &output)?.write()?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { input, output } => {
            let report = generator(&input, &output)?.check()?;
            if report.is_fresh() {
                println!("{report}");
                Ok(ExitCode::SUCCESS)
            } else {
                // The diff goes to stdout (it is the command's output), the verdict too.
                println!("{report}");
                Ok(ExitCode::from(1))
            }
        }
        Command::Manifest { input, out } => {
            let config = input.config()?;
            let manifest = load_manifest(&input.source(&config)?)?;
            let json = manifest.to_pretty_json();
            match out {
                Some(path) => std::fs::write(&path, json).map_err(|e| Error::io(path, e))?,
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(json.as_bytes())
                        .map_err(|e| Error::io("<stdout>", e))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Breaking {
            input,
            against,
            format,
        } => {
            let config = input.config()?;
            let new = load_manifest(&input.source(&config)?)?;
            let old = cli::Against::parse(&against).read(config.output.manifest.as_deref())?;
            cli::breaking(&old, &new, &config.breaking.allow, format)
        }
        Command::Schema { input, out } => {
            let config = input.config()?;
            let dir = out.or(config.output.schema.clone()).ok_or_else(|| {
                Error::Usage(
                    "no schema folder: give `--out <DIR>` or set `[output] schema` in the configuration"
                        .into(),
                )
            })?;
            let manifest = load_manifest(&input.source(&config)?)?;
            let report = Generator::new(manifest).schema(dir).write()?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
