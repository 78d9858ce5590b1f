//! Scenario (d): code generation for a large synthetic protocol, through the
//! `twinwire-codegen` library (the same calls the `twinwire generate` command makes after
//! it has the manifest).
//!
//! The synthetic manifest has `messages` one-way messages (half client, half server) and
//! `rpcs` RPCs on top, each adding a request and a response message, so 1,000 + 100 means
//! 1,200 messages. Payloads mix what real protocols use: constrained strings, formats,
//! bounded integers, nullable fields, arrays and maps, `$ref`s to shared definitions, a
//! string enum, an optional nested object and regex patterns.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use twinwire_codegen::Generator;

use crate::Error;

/// The size of a synthetic protocol.
#[derive(Clone, Copy, Debug)]
pub struct Synthetic {
    /// One-way messages.
    pub messages: usize,
    /// RPCs (each a request and a response message).
    pub rpcs: usize,
}

/// One generation, timed.
#[derive(Clone, Copy, Debug)]
pub struct CodegenRun {
    /// From manifest JSON to every output rendered in memory.
    pub render: Duration,
    /// The same, plus writing the files into an empty folder (on tmpfs where available).
    pub generate: Duration,
    /// Files written.
    pub files: usize,
    /// Bytes generated.
    pub bytes: usize,
}

/// Builds the synthetic manifest as JSON, the form `twinwire manifest` prints.
pub fn manifest_json(size: Synthetic) -> String {
    let mut messages = Vec::new();
    let mut defs = shared_defs();
    for i in 0..size.messages {
        let client = i < size.messages / 2;
        let name = format!("Event{i:04}");
        defs.insert(name.clone(), payload_def(i, client));
        messages.push(message_spec(&format!("EVENT_{i:04}"), &name, client));
    }
    let mut rpcs = Vec::new();
    for i in 0..size.rpcs {
        let (request, response) = (format!("Query{i:03}"), format!("QueryResult{i:03}"));
        let (request_type, response_type) =
            (format!("QUERY_{i:03}"), format!("QUERY_RESULT_{i:03}"));
        defs.insert(request.clone(), payload_def(i + 7, true));
        defs.insert(response.clone(), payload_def(i + 11, false));
        messages.push(message_spec(&request_type, &request, true));
        messages.push(message_spec(&response_type, &response, false));
        rpcs.push(json!({ "request": request_type, "response": response_type }));
    }
    let manifest = json!({
        "format": 1,
        "generator": "twinwire-bench (synthetic)",
        "name": "Synthetic",
        "doc": "A synthetic protocol for the code generation benchmark.",
        "rustPath": "synthetic::Synthetic",
        "messages": messages,
        "rpcs": rpcs,
        "defs": defs,
    });
    manifest.to_string()
}

fn message_spec(wire_type: &str, name: &str, client: bool) -> Value {
    json!({
        "type": wire_type,
        "rustName": name,
        "rustPath": format!("synthetic::{name}"),
        "direction": if client { "client" } else { "server" },
        "doc": format!("The synthetic message `{wire_type}`."),
        "payload": { "$ref": format!("#/$defs/{name}") },
    })
}

fn shared_defs() -> Map<String, Value> {
    let mut defs = Map::new();
    defs.insert(
        "Item".into(),
        json!({
            "type": "object",
            "description": "A line item.",
            "additionalProperties": false,
            "properties": {
                "sku": { "type": "string", "description": "Stock keeping unit.", "pattern": "^[A-Z0-9]{8}$" },
                "quantity": { "type": "integer", "format": "uint32", "minimum": 1, "maximum": 999, "description": "How many." },
                "price": { "type": "number", "format": "double", "description": "Unit price." }
            },
            "required": ["sku", "quantity", "price"]
        }),
    );
    defs.insert(
        "Status".into(),
        json!({
            "type": "string",
            "description": "Where something stands.",
            "enum": ["active", "paused", "closed"]
        }),
    );
    defs.insert(
        "Address".into(),
        json!({
            "type": "object",
            "description": "A postal address.",
            "additionalProperties": false,
            "properties": {
                "street": { "type": "string", "minLength": 1, "maxLength": 200, "description": "Street and number." },
                "city": { "type": "string", "minLength": 1, "maxLength": 100, "description": "City." },
                "email": { "type": "string", "format": "email", "description": "Contact address." }
            },
            "required": ["street", "city", "email"]
        }),
    );
    defs
}

/// Message `i`'s payload: six common fields plus some that appear every third, fifth or
/// seventh message. Client payloads may omit nullable fields, server payloads always send
/// them (as serde does).
fn payload_def(i: usize, client: bool) -> Value {
    let mut properties = Map::new();
    let mut required = vec!["id", "name", "count", "status", "items"];
    properties.insert(
        "id".into(),
        json!({ "type": "string", "format": "uuid", "description": "Unique id." }),
    );
    properties.insert(
        "name".into(),
        json!({ "type": "string", "minLength": 1, "maxLength": 64, "description": "Display name." }),
    );
    properties.insert(
        "count".into(),
        json!({ "type": "integer", "format": "uint32", "minimum": 0, "maximum": 1000, "description": "A bounded count." }),
    );
    properties.insert(
        "note".into(),
        json!({ "type": ["string", "null"], "maxLength": 500, "description": "An optional note." }),
    );
    properties.insert(
        "status".into(),
        json!({ "$ref": "#/$defs/Status", "description": "Its status." }),
    );
    properties.insert(
        "items".into(),
        json!({ "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": 100, "description": "Line items." }),
    );
    if !client {
        required.push("note");
    }
    if i.is_multiple_of(3) {
        properties.insert(
            "address".into(),
            json!({ "anyOf": [{ "$ref": "#/$defs/Address" }, { "type": "null" }], "description": "Where to deliver." }),
        );
        if !client {
            required.push("address");
        }
    }
    if i.is_multiple_of(5) {
        properties.insert(
            "tags".into(),
            json!({ "type": "object", "additionalProperties": { "type": "string" }, "description": "Free-form tags." }),
        );
        required.push("tags");
    }
    if i.is_multiple_of(7) {
        properties.insert(
            "code".into(),
            json!({ "type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$", "description": "A booking code." }),
        );
        required.push("code");
    }
    json!({
        "type": "object",
        "description": format!("Payload of synthetic message {i}."),
        "additionalProperties": false,
        "properties": properties,
        "required": required,
    })
}

/// Generates every output (Rust router, TypeScript, JSON Schemas) for `manifest_json`,
/// first in memory, then into a fresh temporary folder.
///
/// # Errors
/// The manifest is refused or generation fails: either is a bug worth reporting.
pub fn run(manifest_json: &str) -> Result<CodegenRun, Error> {
    let started = Instant::now();
    let output = generator(manifest_json, std::path::Path::new("out"))?.output()?;
    let render = started.elapsed();
    let bytes = output.files.iter().map(|f| f.contents.len()).sum();

    let dir = scratch_dir()?;
    let started = Instant::now();
    let report = generator(manifest_json, dir.path())?.write()?;
    let generate = started.elapsed();
    if report.written.len() != output.files.len() {
        return Err(format!(
            "{} files were generated but {} written",
            output.files.len(),
            report.written.len()
        )
        .into());
    }
    Ok(CodegenRun {
        render,
        generate,
        files: report.written.len(),
        bytes,
    })
}

/// An empty folder for the outputs, on tmpfs (`/dev/shm`) where there is one: the figure
/// is about twinwire, not the disk (on ext4, creating a thousand files right after deleting
/// the last run's thousand varies by several hundred milliseconds).
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::tempdir()
}

fn generator(manifest_json: &str, dir: &std::path::Path) -> Result<Generator, Error> {
    Ok(Generator::from_json(manifest_json)?
        .rust(dir.join("router.rs"))
        .typescript(dir.join("ts"))
        .schema(dir.join("schema")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_manifest_is_accepted_and_generates_every_output() {
        let json = manifest_json(Synthetic {
            messages: 20,
            rpcs: 3,
        });
        let manifest = twinwire::Manifest::from_json(&json).unwrap();
        assert_eq!(manifest.messages.len(), 26);
        assert_eq!(manifest.rpcs.len(), 3);
        let run = run(&json).unwrap();
        // 26 message schemas and the bundle, router.rs, protocol.ts, twinwire-client.ts.
        assert_eq!(run.files, 30);
        assert!(run.bytes > 0);
    }
}
