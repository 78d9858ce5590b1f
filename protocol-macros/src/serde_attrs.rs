//! The parts of `#[serde(...)]` that decide wire names and shapes, read so validation paths
//! and payload checks agree with what serde does. Everything else is left to serde.

use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Fields, LitStr, Result, Type};

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
    /// `skip`, `skip_serializing` or `skip_serializing_if`: the user decides when the field
    /// is written.
    pub skip_serializing: bool,
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
                out.skip_serializing |= p.is_ident("skip");
                skip_value(&meta)?;
            } else if p.is_ident("skip_serializing") || p.is_ident("skip_serializing_if") {
                out.skip_serializing = true;
                skip_value(&meta)?;
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

/// The field attribute that keeps an `Option` field's explicit `null` (see [`omit_none`]).
const KEEP_NULL: &str = "keep_null";

/// The schema keyword by which a field's schema tells the manifest builder that `None` is
/// left out rather than written as `null`, so the server-side schema drops `null` (the
/// builder removes the keyword; it never reaches a manifest).
const OMIT_NONE_MARKER: &str = "x-twinwire-omit-none";

/// The `T` of a field typed `Option<T>` (also written `std::option::Option<T>` or
/// `core::option::Option<T>`). The macros see tokens, not types, so an alias of `Option` is
/// not recognised; the README says so.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// Option on the wire: `None` is left out of what serde writes (`skip_serializing_if`), so
/// a client written the usual way (`field?: T`, zod's `.optional()`) reads every frame.
/// Reading is unchanged: a missing field and `null` are both `None`. `keep_nulls` (the type's
/// opt-out) or `#[keep_null]` on a field keeps the explicit `null`; a field whose
/// serialization the user already controls (`skip…`, `flatten`) is left alone. Removes every
/// `#[keep_null]` attribute, which is not a real attribute.
pub fn omit_none(fields: &mut Fields, keep_nulls: bool) -> Result<()> {
    let named = matches!(fields, Fields::Named(_));
    for field in fields.iter_mut() {
        let mut marked = None;
        field.attrs.retain(|attr| {
            if !attr.path().is_ident(KEEP_NULL) {
                return true;
            }
            marked.get_or_insert(attr.clone());
            false
        });
        let inner = option_inner(&field.ty);
        if let Some(attr) = marked.as_ref() {
            let why = if !matches!(attr.meta, syn::Meta::Path(_)) {
                Some("`#[keep_null]` takes no arguments")
            } else if !named {
                Some("`#[keep_null]` applies to named fields: a tuple position is always written")
            } else if inner.is_none() {
                Some("`#[keep_null]` applies to `Option` fields only")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(syn::Error::new_spanned(attr, why));
            }
        }
        let Some(inner) = inner else { continue };
        if keep_nulls || marked.is_some() || !named {
            continue;
        }
        let member = member(&field.attrs)?;
        if member.skip_serializing || member.flatten {
            continue;
        }
        field.attrs.push(syn::parse_quote!(
            #[serde(skip_serializing_if = "::core::option::Option::is_none")]
        ));
        // `Option<Option<T>>` still writes `null` for `Some(None)`: only a plain `Option`
        // loses `null` in the server-side schema.
        if option_inner(inner).is_none() {
            let marker = quote!(#[schemars(extend(#OMIT_NONE_MARKER = true))]);
            field
                .attrs
                .extend(syn::parse::Parser::parse2(Attribute::parse_outer, marker)?);
        }
    }
    Ok(())
}
