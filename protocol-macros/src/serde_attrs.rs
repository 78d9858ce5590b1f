//! The parts of `#[serde(...)]` that decide wire names and shapes, read so validation paths
//! and payload checks agree with what serde does. Everything else is left to serde.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitStr, Result};

use crate::case::RenameRule;

/// Container-level serde settings.
#[derive(Default)]
pub struct ContainerAttrs {
    /// `rename_all` for the deserialize side (what inbound validation sees).
    pub rename_all: Option<RenameRule>,
    pub has_rename_all: bool,
    pub rename_all_fields: Option<RenameRule>,
    pub has_rename_all_fields: bool,
    pub tag: Option<String>,
    pub content: Option<String>,
    pub untagged: bool,
    pub deny_unknown_fields: bool,
    pub transparent: bool,
}

/// Field- or variant-level serde settings.
#[derive(Default)]
pub struct MemberAttrs {
    /// `rename` for the deserialize side.
    pub rename: Option<String>,
    pub rename_all: Option<RenameRule>,
    pub flatten: bool,
    /// `skip` or `skip_deserializing`: never comes from the wire, so never validated.
    pub skip: bool,
    pub untagged: bool,
}

fn skip_value(meta: &ParseNestedMeta) -> Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

/// `"name"` or `(serialize = "a", deserialize = "b")`: the deserialize-side string.
fn deserialize_side(meta: &ParseNestedMeta) -> Result<Option<LitStr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut found = None;
    meta.parse_nested_meta(|inner| {
        let lit: LitStr = inner.value()?.parse()?;
        if inner.path.is_ident("deserialize") {
            found = Some(lit);
        }
        Ok(())
    })?;
    Ok(found)
}

fn rule(lit: Option<LitStr>) -> Result<Option<RenameRule>> {
    lit.map(|lit| {
        RenameRule::from_name(&lit.value()).ok_or_else(|| {
            syn::Error::new(
                lit.span(),
                format!(
                    "unknown rename rule `{}`; expected one of {}",
                    lit.value(),
                    RenameRule::NAMES.join(", ")
                ),
            )
        })
    })
    .transpose()
}

fn serde_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("serde"))
}

pub fn container(attrs: &[Attribute]) -> Result<ContainerAttrs> {
    let mut out = ContainerAttrs::default();
    for attr in serde_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident("rename_all") {
                out.has_rename_all = true;
                out.rename_all = rule(deserialize_side(&meta)?)?;
            } else if p.is_ident("rename_all_fields") {
                out.has_rename_all_fields = true;
                out.rename_all_fields = rule(deserialize_side(&meta)?)?;
            } else if p.is_ident("tag") {
                out.tag = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if p.is_ident("content") {
                out.content = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if p.is_ident("untagged") {
                out.untagged = true;
            } else if p.is_ident("deny_unknown_fields") {
                out.deny_unknown_fields = true;
            } else if p.is_ident("transparent") {
                out.transparent = true;
            } else {
                skip_value(&meta)?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

pub fn member(attrs: &[Attribute]) -> Result<MemberAttrs> {
    let mut out = MemberAttrs::default();
    for attr in serde_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident("rename") {
                out.rename = deserialize_side(&meta)?.map(|l| l.value());
            } else if p.is_ident("rename_all") {
                out.rename_all = rule(deserialize_side(&meta)?)?;
            } else if p.is_ident("flatten") {
                out.flatten = true;
            } else if p.is_ident("skip") || p.is_ident("skip_deserializing") {
                out.skip = true;
            } else if p.is_ident("untagged") {
                out.untagged = true;
            } else {
                skip_value(&meta)?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Every name serde reads or writes a field under besides the one its container's rule
/// gives it: `rename` (both sides) and each `alias`. Used to keep reserved keys out of a
/// typed meta struct, where any of these names would collide.
pub fn explicit_names(attrs: &[Attribute]) -> Result<Vec<LitStr>> {
    let mut names = Vec::new();
    for attr in serde_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident("alias") {
                names.push(meta.value()?.parse::<LitStr>()?);
            } else if p.is_ident("rename") {
                if meta.input.peek(syn::Token![=]) {
                    names.push(meta.value()?.parse::<LitStr>()?);
                } else {
                    meta.parse_nested_meta(|inner| {
                        names.push(inner.value()?.parse::<LitStr>()?);
                        Ok(())
                    })?;
                }
            } else {
                skip_value(&meta)?;
            }
            Ok(())
        })?;
    }
    Ok(names)
}
