//! The Rust view model of `router.rs`: a handler trait with one method per client message
//! and RPC, and the function turning an implementation into a `twinwire_runtime::Router`.
//!
//! The template `templates/router.rs.j2` owns the file's text, laid out as rustfmt would;
//! this module computes what goes into it: method names, doc comment lines, and payload
//! types written with absolute paths, so the file can be `include!`d or used as a module
//! anywhere without imports.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens as _;
use serde::Serialize;
use twinwire::{Direction, Manifest, ManifestError};

use crate::error::Error;
use crate::templates::{self, ROUTER};

/// Rust's strict and reserved keywords (2024 edition), which cannot name a method.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Method names the trait already has.
const HOOKS: &[&str] = &["on_open", "on_close"];

#[derive(Debug, Serialize)]
struct RouterView {
    /// The header, as line comments.
    header: String,
    trait_name: String,
    trait_doc: Vec<String>,
    fn_name: String,
    fn_doc: Vec<String>,
    methods: Vec<MethodView>,
}

#[derive(Debug, Serialize)]
struct MethodView {
    name: String,
    /// Doc comment lines, each a `///` comment or a `#[doc]` attribute.
    doc: Vec<String>,
    /// The payload type, by absolute path.
    payload: String,
    /// For an RPC, the response type, by absolute path.
    response: Option<String>,
}

/// `name` in snake_case, as a valid identifier that is not a keyword: `SendMessage` →
/// `send_message`, `HTTPServer` → `http_server`, `Type` → `type_`, `r#await` → `await_`.
pub(crate) fn method_name(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j));
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_numeric())
                || (prev.is_some_and(|p| p.is_uppercase())
                    && next.is_some_and(|n| n.is_lowercase()));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    identifier(&out)
}

/// A valid, non-keyword identifier: invalid characters become `_`, a keyword gets a `_`.
pub(crate) fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if unicode_ident::is_xid_continue(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out
        .chars()
        .next()
        .is_some_and(|c| c == '_' || unicode_ident::is_xid_start(c))
    {
        out.insert(0, '_');
    }
    if out == "_" {
        out.push_str("message");
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Doc comment lines for `doc`: `/// text`, or a `#[doc = "…"]` attribute for a line a
/// comment cannot hold (a carriage return).
fn doc_lines(doc: &str) -> Vec<String> {
    doc.lines()
        .map(|line| {
            let text = format!(" {line}");
            let text = text.trim_end_matches(' ');
            if text.contains('\r') {
                format!("#[doc = {text:?}]")
            } else {
                format!("///{text}")
            }
        })
        .collect()
}

/// The Rust type at `path` (a message's `rust_path`), written so it resolves from any
/// module: every multi-segment path gets a leading `::`, and `alloc::` paths (which
/// `std::any::type_name` reports for generic arguments) become `std::`.
fn absolute_type(path: &str, kind: &str) -> Result<String, Error> {
    let mut ty: syn::Type = syn::parse_str(path).map_err(|e| {
        Error::Manifest(ManifestError::Inconsistent(format!(
            "the Rust path `{path}` of message `{kind}` is not a Rust type: {e}"
        )))
    })?;
    absolutize(&mut ty);
    let mut text = String::new();
    write_tokens(ty.to_token_stream(), &mut text);
    Ok(text)
}

/// Writes tokens as Rust source spaced the way rustfmt spaces a type: words apart,
/// punctuation tight, and a space after `,` and `;`, around `=`, `+` and `->`, and between
/// a lifetime or a keyword such as `mut` and the type after it (`&'a [u8]`, `&mut (A, B)`,
/// `<A as ::m::T>`).
fn write_tokens(tokens: TokenStream, out: &mut String) {
    /// What was written last, as far as spacing cares.
    enum Last {
        Other,
        /// An identifier or literal; `spaced` when a bracket after it needs a space.
        Word {
            spaced: bool,
        },
    }
    let mut last = Last::Other;
    let mut operator = String::new();
    let mut in_lifetime = false;
    for token in tokens {
        if let TokenTree::Punct(punct) = &token {
            let c = punct.as_char();
            if operator.is_empty()
                && matches!(last, Last::Word { spaced: true })
                && matches!(c, ':' | '&' | '*' | '<' | '!')
            {
                // A type after `as`, `dyn`, `mut` or a lifetime: `as ::m::T`, `&'a &str`.
                out.push(' ');
            }
            operator.push(c);
            if punct.spacing() == Spacing::Alone {
                push_operator(&operator, out);
                operator.clear();
            }
            last = Last::Other;
            continue;
        }
        if !operator.is_empty() {
            // A joint punctuation before a word: a lifetime's `'`.
            in_lifetime = operator.ends_with('\'');
            push_operator(&operator, out);
            operator.clear();
        }
        match token {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if matches!(last, Last::Word { .. }) {
                    out.push(' ');
                }
                let word = token.to_string();
                let spaced =
                    in_lifetime || matches!(word.as_str(), "mut" | "const" | "dyn" | "impl" | "as");
                out.push_str(&word);
                last = Last::Word { spaced };
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                if matches!(last, Last::Word { spaced: true }) {
                    out.push(' ');
                }
                out.push_str(open);
                write_tokens(group.stream(), out);
                if out.ends_with(' ') && !close.starts_with(' ') {
                    out.pop();
                }
                out.push_str(close);
                last = Last::Other;
            }
            TokenTree::Punct(_) => {}
        }
        in_lifetime = false;
    }
    push_operator(&operator, out);
}

fn push_operator(operator: &str, out: &mut String) {
    match operator {
        "" => {}
        "," | ";" | ":" => {
            out.push_str(operator);
            out.push(' ');
        }
        "=" | "+" | "->" => {
            out.push(' ');
            out.push_str(operator);
            out.push(' ');
        }
        _ => out.push_str(operator),
    }
}

fn absolutize(ty: &mut syn::Type) {
    match ty {
        syn::Type::Path(p) => {
            if let Some(qself) = &mut p.qself {
                absolutize(&mut qself.ty);
            }
            absolutize_path(&mut p.path);
        }
        syn::Type::Reference(r) => absolutize(&mut r.elem),
        syn::Type::Slice(s) => absolutize(&mut s.elem),
        syn::Type::Array(a) => absolutize(&mut a.elem),
        syn::Type::Ptr(p) => absolutize(&mut p.elem),
        syn::Type::Paren(p) => absolutize(&mut p.elem),
        syn::Type::Group(g) => absolutize(&mut g.elem),
        syn::Type::Tuple(t) => t.elems.iter_mut().for_each(absolutize),
        _ => {}
    }
}

fn absolutize_path(path: &mut syn::Path) {
    if path.segments.len() >= 2 && path.leading_colon.is_none() {
        path.leading_colon = Some(Default::default());
        if let Some(first) = path.segments.first_mut()
            && first.ident == "alloc"
        {
            first.ident = syn::Ident::new("std", first.ident.span());
        }
    }
    for segment in &mut path.segments {
        if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
            for arg in &mut args.args {
                if let syn::GenericArgument::Type(t) = arg {
                    absolutize(t);
                }
            }
        }
    }
}

/// Renders `router.rs` for `manifest`; `header` is the first comment line.
///
/// # Errors
/// [`Error::Manifest`] for a message whose Rust path is not a type.
pub(crate) fn router(manifest: &Manifest, header: &str) -> Result<String, Error> {
    let protocol = identifier(manifest.name.strip_prefix("r#").unwrap_or(&manifest.name));
    let trait_name = format!("{protocol}Handlers");
    let fn_name = format!(
        "{}_router",
        method_name(&manifest.name).trim_end_matches('_')
    );
    let mut taken: Vec<String> = HOOKS.iter().map(|h| (*h).to_owned()).collect();
    let mut methods = Vec::new();
    for m in manifest
        .messages
        .iter()
        .filter(|m| m.direction == Direction::Client)
    {
        let mut name = method_name(&m.rust_name);
        if taken.contains(&name) {
            let base = format!("{}_message", name.trim_end_matches('_'));
            name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
        }
        taken.push(name.clone());
        let response = match manifest.rpc_for_request(&m.wire_type) {
            Some(rpc) => {
                let response = manifest.message(&rpc.response).ok_or_else(|| {
                    Error::Manifest(ManifestError::Inconsistent(format!(
                        "RPC `{}` answers with `{}`, which is not a message",
                        m.wire_type, rpc.response
                    )))
                })?;
                Some(absolute_type(&response.rust_path, &response.wire_type)?)
            }
            None => None,
        };
        let mut doc = if m.doc.is_empty() {
            doc_lines(&format!("Handles `{}`.", m.wire_type))
        } else {
            doc_lines(&m.doc)
        };
        if response.is_some() {
            doc.extend(doc_lines(&format!(
                "\nAn RPC (`{}`): `Ok` is the reply, `Err` an `RPC_ERROR`.",
                m.wire_type
            )));
        }
        methods.push(MethodView {
            name,
            doc,
            payload: absolute_type(&m.rust_path, &m.wire_type)?,
            response,
        });
    }
    let mut trait_doc = doc_lines(&format!(
        "Handlers of every client message of the `{}` protocol (`{}`).",
        manifest.name, manifest.rust_path
    ));
    if !manifest.doc.is_empty() {
        trait_doc.extend(doc_lines(&format!("\n{}", manifest.doc)));
    }
    trait_doc.extend(doc_lines(
        "\nImplement it and pass it to the router function; a missing method is a compile error.",
    ));
    let fn_doc = doc_lines(&format!(
        "Builds a runtime router in which every client message and RPC of `{}` is routed to \
         `handlers`.",
        manifest.name
    ));
    let view = RouterView {
        header: header
            .lines()
            .map(|line| format!("// {line}"))
            .collect::<Vec<_>>()
            .join("\n"),
        trait_name,
        trait_doc,
        fn_name,
        fn_doc,
        methods,
    };
    templates::render(ROUTER, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_snake_case_non_keyword_identifiers() {
        assert_eq!(method_name("SendMessage"), "send_message");
        assert_eq!(method_name("HTTPServer"), "http_server");
        assert_eq!(method_name("GetV2Data"), "get_v2_data");
        assert_eq!(method_name("Type"), "type_");
        assert_eq!(method_name("r#await"), "await_");
        assert_eq!(method_name("delete"), "delete");
        assert_eq!(method_name("Größe"), "größe");
        assert_eq!(method_name("OnOpen"), "on_open");
        assert_eq!(method_name("Self"), "self_");
        assert_eq!(identifier("a-b c"), "a_b_c");
        assert_eq!(identifier("9x"), "_9x");
        assert_eq!(identifier(""), "_message");
    }

    #[test]
    fn types_are_written_as_rustfmt_spaces_them() {
        for (input, written) in [
            ("&'static str", "&'static str"),
            ("&'a mut [u8; 4]", "&'a mut [u8; 4]"),
            ("(u8,)", "(u8,)"),
            ("&mut (u8, u16)", "&mut (u8, u16)"),
            ("&'a [u8]", "&'a [u8]"),
            ("&'a &'b m::X", "&'a &'b ::m::X"),
            ("&mut *const u8", "&mut *const u8"),
            ("m::X<'a, u8>", "::m::X<'a, u8>"),
            ("m::F<dyn Fn(u8) -> u8>", "::m::F<dyn Fn(u8) -> u8>"),
            ("(a::A, b::B)", "(::a::A, ::b::B)"),
            ("*const u8", "*const u8"),
            ("dyn core::fmt::Debug + Send", "dyn core::fmt::Debug + Send"),
            ("fn(u8) -> u8", "fn(u8) -> u8"),
            ("m::Iter<Item = u8>", "::m::Iter<Item = u8>"),
            ("m::Arr<3, { 1 + 2 }>", "::m::Arr<3, { 1 + 2 }>"),
            ("<a::A as m::T>::Out", "<::a::A as ::m::T>::Out"),
            ("!", "!"),
        ] {
            assert_eq!(absolute_type(input, "X").unwrap(), written, "{input}");
        }
    }

    #[test]
    fn doc_lines_are_comments_unless_a_comment_cannot_hold_them() {
        assert_eq!(
            doc_lines("First.\n\n  Indented */ `x`  "),
            ["/// First.", "///", "///   Indented */ `x`"]
        );
        assert_eq!(doc_lines("a\rb"), ["#[doc = \" a\\rb\"]"]);
    }

    #[test]
    fn paths_become_absolute() {
        assert_eq!(
            absolute_type("chat_protocol::SendMessage", "X").unwrap(),
            "::chat_protocol::SendMessage"
        );
        assert_eq!(
            absolute_type("corpus::Wrapper<alloc::vec::Vec<u32>>", "X").unwrap(),
            "::corpus::Wrapper<::std::vec::Vec<u32>>"
        );
        assert_eq!(
            absolute_type("m::hostile::r#await", "X").unwrap(),
            "::m::hostile::r#await"
        );
        assert_eq!(absolute_type("u8", "X").unwrap(), "u8");
        let err = absolute_type("not a path!", "BAD").unwrap_err();
        assert!(err.to_string().contains("`BAD`"), "{err}");
    }
}
