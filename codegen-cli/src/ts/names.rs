//! TypeScript identifier, literal and comment rules.
//!
//! Names the generator invents for itself start with `$`, which no Rust or schemars name
//! contains, so they never collide with a user's type. User names are made valid
//! identifiers; reserved words get a trailing `_`.

use serde_json::Value;

/// Words that cannot name a TypeScript type or a `const` in a module (reserved words,
/// strict-mode restrictions, predefined type names), plus `globalThis`, which generated
/// validators use to reach the built-ins whatever the protocol's names shadow.
const RESERVED: &[&str] = &[
    // ECMAScript reserved words.
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    // Reserved in strict mode and modules.
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "await",
    "arguments",
    "eval",
    // Names TypeScript refuses for a type alias or an interface.
    "any",
    "unknown",
    "never",
    "number",
    "string",
    "boolean",
    "symbol",
    "object",
    "bigint",
    "undefined",
    "type",
    "as",
    "is",
    "keyof",
    "infer",
    "readonly",
    "asserts",
    "satisfies",
    "intrinsic",
    // Used by the generated code.
    "globalThis",
];

/// Whether `word` is reserved for a binding or type name.
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

fn is_start(c: char) -> bool {
    c == '_' || c == '$' || unicode_ident::is_xid_start(c)
}

fn is_continue(c: char) -> bool {
    c == '$' || c == '\u{200c}' || c == '\u{200d}' || unicode_ident::is_xid_continue(c)
}

/// Whether `name` is an IdentifierName (which may be a reserved word: fine as a property).
pub(crate) fn is_identifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_start) && chars.all(is_continue)
}

/// A TypeScript identifier for a user's name: a Rust raw-identifier prefix is dropped, `$`
/// and other characters no identifier may hold become `_`, a leading digit gets a `_`
/// before it, and a reserved word gets a `_` after it.
pub(crate) fn identifier(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut out: String = name
        .chars()
        .map(|c| if c != '$' && is_continue(c) { c } else { '_' })
        .collect();
    if !out.chars().next().is_some_and(is_start) {
        out.insert(0, '_');
    }
    if is_reserved(&out) {
        out.push('_');
    }
    out
}

/// A string literal (JSON's escaping is valid TypeScript).
pub(crate) fn string_literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// A JSON value as a TypeScript literal, valid both as an expression and as a type.
pub(crate) fn json_literal(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| String::from("null"))
}

/// A property key: bare when it is an identifier name, quoted otherwise.
pub(crate) fn property_key(name: &str) -> String {
    if is_identifier_name(name) {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

/// A TSDoc block for `doc`, indented by `indent`; empty when there is no documentation.
/// A `*/` in the text would end the comment early, so it is written `*\/` (TSDoc renders
/// the backslash escape as the two characters).
pub(crate) fn doc_comment(doc: &str, indent: &str) -> String {
    let doc = doc.trim_matches('\n');
    if doc.trim().is_empty() {
        return String::new();
    }
    let lines: Vec<String> = doc
        .lines()
        .map(|line| line.trim_end().replace("*/", "*\\/"))
        .collect();
    if let [line] = lines.as_slice() {
        return format!("{indent}/** {line} */\n");
    }
    let mut out = format!("{indent}/**\n");
    for line in lines {
        if line.is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {line}\n"));
        }
    }
    out.push_str(&format!("{indent} */\n"));
    out
}

/// A line comment safe for any text: one `//` per line.
pub(crate) fn line_comment(text: &str) -> String {
    text.lines().map(|l| format!("// {l}\n")).collect()
}

/// The exported validator of payload type `ident`.
pub(crate) fn validator(ident: &str) -> String {
    format!("validate{ident}")
}

/// The exported type guard of payload type `ident`.
pub(crate) fn guard(ident: &str) -> String {
    format!("is{ident}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_are_valid_and_not_reserved() {
        assert_eq!(identifier("SendMessage"), "SendMessage");
        assert_eq!(identifier("delete"), "delete_");
        assert_eq!(identifier("r#await"), "await_");
        assert_eq!(identifier("r#match"), "match");
        assert_eq!(identifier("string"), "string_");
        assert_eq!(identifier("globalThis"), "globalThis_");
        assert_eq!(identifier("Größe"), "Größe");
        assert_eq!(identifier("Wrapper<u32>"), "Wrapper_u32_");
        assert_eq!(identifier("9lives"), "_9lives");
        assert_eq!(identifier("a$b"), "a_b");
        assert_eq!(identifier(""), "_");
        assert_eq!(identifier("with space"), "with_space");
    }

    #[test]
    fn property_keys_are_quoted_only_when_needed() {
        assert_eq!(property_key("roomId"), "roomId");
        assert_eq!(property_key("type"), "type");
        assert_eq!(property_key("größe"), "größe");
        assert_eq!(property_key("with-dash"), "\"with-dash\"");
        assert_eq!(property_key("123start"), "\"123start\"");
        assert_eq!(property_key(""), "\"\"");
        assert_eq!(property_key("a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn doc_comments_cannot_be_closed_by_their_text() {
        assert_eq!(doc_comment("", "  "), "");
        assert_eq!(doc_comment("One line.", ""), "/** One line. */\n");
        assert_eq!(
            doc_comment("Ends */ early.\n\nSecond `x` {{ y }}.", "  "),
            "  /**\n   * Ends *\\/ early.\n   *\n   * Second `x` {{ y }}.\n   */\n"
        );
    }

    #[test]
    fn literals_are_json() {
        assert_eq!(string_literal("a\"b\n\u{2028}"), "\"a\\\"b\\n\u{2028}\"");
        assert_eq!(json_literal(&json!({"a": [1, null]})), r#"{"a":[1,null]}"#);
        assert_eq!(line_comment("a\nb"), "// a\n// b\n");
    }
}
