//! Doc comments as plain text, for `Message::DOC` and the manifest.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The `///` lines of an item joined with newlines, one leading space stripped from each
/// (rustdoc's convention), surrounding blank lines removed.
pub fn doc_string(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|chunk| chunk.lines().map(str::to_owned).collect::<Vec<_>>())
        .map(|line| line.strip_prefix(' ').map(str::to_owned).unwrap_or(line))
        .map(|line| line.trim_end().to_owned())
        .collect();
    lines.join("\n").trim_matches('\n').to_owned()
}
