//! The layout of `protocol.ts`: the payload types first, then the message descriptors, the
//! envelope unions and RPC map, the protocol and its client factory, and last the
//! validators with what they share.
//!
//! Everything here is text around names the view model computed; no schema is inspected
//! except to hand it to the validator writer.

use std::fmt::{self, Write as _};

use super::helpers::Helper;
use super::names::{guard, validator};
use super::validate::{Body, Support, check_function};
use super::view::{Declaration, EnvelopeView, ProtocolFile};

/// What every `protocol.ts` imports from the client: under `$` names, so a protocol's own
/// names never shadow them.
const IMPORTS: &str = r#"import {
  TwinwireClient as $TwinwireClient,
  type ClientOptions as $ClientOptions,
  type Issue as $Issue,
  type Meta as $Meta,
  type MessageDescriptor as $MessageDescriptor,
  type RpcDescriptor as $RpcDescriptor,
  type ProtocolDescriptor as $ProtocolDescriptor,
} from "./twinwire-client.js";

// The client's types and errors, so an app imports everything from here. A protocol name
// that equals one of them wins: local exports shadow `export *`.
export * from "./twinwire-client.js";
"#;

impl ProtocolFile<'_> {
    /// The file's text.
    pub(super) fn write(&self) -> String {
        let mut out = String::new();
        // Writing into a `String` cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) -> fmt::Result {
        let mut support = Support::default();
        let mut checks = String::new();
        for t in &self.types {
            let body = Body::new(&mut support, self.defs).finish(&t.node);
            write!(
                checks,
                "\nfunction {}(value: unknown, path: string, issues: $Issue[]): void {{\n{body}}}\n",
                check_function(&t.ident),
            )?;
        }
        if self.messages.iter().any(|m| m.payload_type.is_none()) {
            support.use_helper(Helper::NoPayload);
        }

        out.push_str(&self.header);
        out.push('\n');
        out.push_str(IMPORTS);
        self.payload_types(out)?;
        self.descriptors(out)?;
        self.envelopes(out)?;
        self.protocol(out)?;
        self.validators(out)?;
        section(out, "Validator internals")?;
        out.push_str(
            "// One `$check_*` function per payload type appends the issues of `value`, found at JSON\n\
             // pointer `path`, to `issues`. Names starting with `$` are the generator's own.\n",
        );
        out.push_str(&support.declarations());
        out.push_str(&checks);
        Ok(())
    }

    fn payload_types(&self, out: &mut String) -> fmt::Result {
        section(out, "Payload types")?;
        for t in &self.types {
            out.push('\n');
            out.push_str(&t.doc);
            match &t.declaration {
                Declaration::Interface(body) => {
                    writeln!(out, "export interface {} {body}", t.ident)?;
                }
                Declaration::Alias(alias) => writeln!(out, "export type {} ={alias};", t.ident)?,
            }
        }
        Ok(())
    }

    fn descriptors(&self, out: &mut String) -> fmt::Result {
        section(out, "Message descriptors")?;
        out.push_str(
            "// Server messages come first: an RPC descriptor refers to its response's.\n",
        );
        for m in &self.messages {
            let payload = m.payload_type.as_deref().unwrap_or("undefined");
            out.push('\n');
            out.push_str(&m.doc);
            // The meta type parameter is written only when declared, so a protocol without
            // typed meta generates what it did before.
            let meta = m
                .meta_type
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default();
            match &m.response {
                Some(response) => writeln!(
                    out,
                    "export const {}: $RpcDescriptor<{}, {payload}, typeof {response}{meta}> = {{",
                    m.ident, m.type_literal
                )?,
                None => writeln!(
                    out,
                    "export const {}: $MessageDescriptor<{}, \"{}\", {payload}{meta}> = {{",
                    m.ident, m.type_literal, m.direction
                )?,
            }
            let validate = match &m.payload_type {
                Some(t) => validator(t),
                None => Helper::NoPayload.name().to_owned(),
            };
            writeln!(out, "  type: {},", m.type_literal)?;
            writeln!(out, "  direction: \"{}\",", m.direction)?;
            writeln!(out, "  hasPayload: {},", m.payload_type.is_some())?;
            writeln!(out, "  validate: {validate},")?;
            if let Some(meta) = &m.meta_type {
                writeln!(out, "  validateMeta: {},", validator(meta))?;
            }
            if let Some(response) = &m.response {
                writeln!(out, "  response: {response},")?;
            }
            out.push_str("};\n");
        }
        Ok(())
    }

    fn envelopes(&self, out: &mut String) -> fmt::Result {
        section(out, "Envelopes and RPCs")?;
        out.push_str("\n/** Every frame a client sends, discriminated by `type`. */\n");
        envelope_union(out, "ClientEnvelope", &self.client_envelopes)?;
        out.push_str(
            "\n/** Every frame a server sends for this protocol, discriminated by `type`. */\n",
        );
        envelope_union(out, "ServerEnvelope", &self.server_envelopes)?;
        out.push_str(
            "\n/** Request and response payload of each RPC, by the request's wire type. */\n",
        );
        out.push_str("export interface RpcMap {\n");
        for r in &self.rpcs {
            writeln!(
                out,
                "  {}: {{ request: {}; response: {} }};",
                r.key, r.request, r.response
            )?;
        }
        out.push_str("}\n");
        Ok(())
    }

    fn protocol(&self, out: &mut String) -> fmt::Result {
        let ident = &self.protocol_ident;
        section(out, "The protocol and its client")?;
        out.push('\n');
        out.push_str(&self.protocol_doc);
        writeln!(out, "export const {ident} = {{")?;
        writeln!(out, "  name: {},", self.protocol_name)?;
        writeln!(out, "  fingerprint: {},", self.fingerprint)?;
        writeln!(out, "  messages: [{}],", self.protocol_messages.join(", "))?;
        out.push_str("} as const satisfies $ProtocolDescriptor;\n");
        write!(
            out,
            "\n/**\n * Creates a client speaking {{@link {ident}}}: `send` takes client messages, `on` listens to\n * server messages, `request` calls an RPC and resolves with its response's payload.\n */\n\
             export function {}(options: $ClientOptions): $TwinwireClient<typeof {ident}> {{\n  return new $TwinwireClient({ident}, options);\n}}\n",
            self.factory
        )
    }

    fn validators(&self, out: &mut String) -> fmt::Result {
        section(out, "Validators")?;
        out.push_str(
            "// What the server would say about a payload: the same issue codes at the same JSON-pointer\n\
             // paths. A message descriptor's `validate` is its payload type's validator.\n",
        );
        for t in &self.types {
            let (ident, validate) = (&t.ident, validator(&t.ident));
            write!(
                out,
                "\n/** Checks a value against {{@link {ident}}}: every issue, with its JSON-pointer path; `[]` when valid. */\n\
                 export function {validate}(value: unknown): $Issue[] {{\n  const issues: $Issue[] = [];\n  {}(value, \"\", issues);\n  return issues;\n}}\n\
                 \n/** Whether a value is a valid {{@link {ident}}}. */\n\
                 export function {}(value: unknown): value is {ident} {{\n  return {validate}(value).length === 0;\n}}\n",
                check_function(ident),
                guard(ident),
            )?;
        }
        Ok(())
    }
}

/// A section heading, after a blank line.
fn section(out: &mut String, title: &str) -> fmt::Result {
    writeln!(
        out,
        "\n// ───────────────────────────── {title} ─────────────────────────────"
    )
}

fn envelope_union(out: &mut String, name: &str, variants: &[EnvelopeView]) -> fmt::Result {
    write!(out, "export type {name} =")?;
    if variants.is_empty() {
        out.push_str(" never");
    }
    for e in variants {
        match &e.meta {
            None => write!(out, "\n  | {{ type: {}; meta?: $Meta", e.type_literal)?,
            Some((meta, required)) => write!(
                out,
                "\n  | {{ type: {}; meta{}: $Meta & {meta}",
                e.type_literal,
                if *required { "" } else { "?" }
            )?,
        }
        if let Some(payload) = &e.payload {
            write!(out, "; payload: {payload}")?;
        }
        out.push_str(" }");
    }
    out.push_str(";\n");
    Ok(())
}
