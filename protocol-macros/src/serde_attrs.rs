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
    /// `other`: the unit variant serde reads for any tag it does not know.
    pub other: bool,
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
            } else if p.is_ident("other") {
                out.other = true;
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

/// The schema name schemars' own derive gave a generic type before 1.0, `Page_for_A` or
/// `Pair_for_A_and_B`, as a `#[schemars(rename)]` format string: schemars 1 names every
/// instantiation `Page` and numbers the second `Page2`, which the manifest refuses as a
/// clash. `None` when the type has no type or const parameter, or names itself (a `rename`
/// in `#[serde]` or `#[schemars]`, which schemars honours).
pub fn generic_schema_name(
    ident: &syn::Ident,
    generics: &syn::Generics,
    attrs: &[Attribute],
) -> Option<Attribute> {
    let params: Vec<String> = generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.to_string()),
            syn::GenericParam::Const(c) => Some(c.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    if params.is_empty() {
        return None;
    }
    let mut named = false;
    for attr in attrs
        .iter()
        .filter(|a| a.path().is_ident("serde") || a.path().is_ident("schemars"))
    {
        // schemars' own arguments need not parse as nested meta (`extend("key" = …)`);
        // serde and schemars report anything malformed themselves.
        let _ = attr.parse_nested_meta(|meta| {
            named |= meta.path.is_ident("rename");
            skip_value(&meta)
        });
    }
    if named {
        return None;
    }
    let placeholders: Vec<String> = params.iter().map(|p| format!("{{{p}}}")).collect();
    let name = format!("{ident}_for_{}", placeholders.join("_and_"));
    Some(syn::parse_quote!(#[schemars(rename = #name)]))
}

/// The schema keyword by which an externally tagged enum lists the wire names of its unit
/// variants, which serde also reads as `{"Name": null}`; the manifest builder adds that form
/// to the client-side schema and removes the keyword (it never reaches a manifest).
const UNIT_VARIANTS_MARKER: &str = "x-twinwire-unit-variants";

/// For an externally tagged enum (serde's default) with unit variants, the container
/// attribute carrying [`UNIT_VARIANTS_MARKER`]: serde reads a unit variant written as a
/// string or as a one-key object whose value is `null`, and a client may send either.
pub fn unit_variants_marker(
    e: &syn::ItemEnum,
    container: &ContainerAttrs,
) -> Result<Option<Attribute>> {
    if container.tag.is_some() || container.untagged {
        return Ok(None);
    }
    let mut names = Vec::new();
    for variant in &e.variants {
        let attrs = member(&variant.attrs)?;
        if !matches!(variant.fields, Fields::Unit) || attrs.skip || attrs.untagged {
            continue;
        }
        let name = variant.ident.to_string();
        names.push(attrs.rename.unwrap_or_else(|| {
            container
                .rename_all
                .map_or(name.clone(), |r| r.apply_to_variant(&name))
        }));
    }
    if names.is_empty() {
        return Ok(None);
    }
    let marker = quote!(#[schemars(extend(#UNIT_VARIANTS_MARKER = [#(#names),*]))]);
    let mut parsed = syn::parse::Parser::parse2(Attribute::parse_outer, marker)?;
    Ok(parsed.pop())
}

/// The schema keyword by which an enum with a `#[serde(other)]` variant tells the manifest
/// builder which variant catches unknown tags, the tag property (internally or adjacently
/// tagged) and every declared wire name; the builder adds a catch-all to the client-side
/// schema and removes the keyword (it never reaches a manifest).
const OTHER_MARKER: &str = "x-twinwire-other";

/// For an enum with a `#[serde(other)]` unit variant, the container attribute carrying
/// [`OTHER_MARKER`]: serde reads any tag it does not know as that variant, and a client may
/// send one.
pub fn other_marker(e: &syn::ItemEnum, container: &ContainerAttrs) -> Result<Option<Attribute>> {
    let mut other = None;
    let mut declared = Vec::new();
    for variant in &e.variants {
        let attrs = member(&variant.attrs)?;
        if attrs.skip {
            continue;
        }
        let name = variant.ident.to_string();
        let wire = attrs.rename.unwrap_or_else(|| {
            container
                .rename_all
                .map_or(name.clone(), |r| r.apply_to_variant(&name))
        });
        if attrs.other {
            other = Some(wire.clone());
        }
        declared.push(wire);
    }
    let Some(other) = other else {
        return Ok(None);
    };
    let tag = container.tag.as_deref().unwrap_or_default();
    let marker = quote!(#[schemars(extend(#OTHER_MARKER = {
        "variant": #other,
        "tag": #tag,
        "declared": [#(#declared),*]
    }))]);
    let mut parsed = syn::parse::Parser::parse2(Attribute::parse_outer, marker)?;
    Ok(parsed.pop())
}

/// For each `#[serde(flatten)]` field, the container attribute that restores what schemars
/// loses when it flattens a strict variant of an internally tagged enum (see
/// `twinwire::__private::close_flattened`).
pub fn close_flattened(fields: &Fields) -> Result<Vec<Attribute>> {
    let mut attrs = Vec::new();
    for field in fields {
        if !member(&field.attrs)?.flatten {
            continue;
        }
        let ty = &field.ty;
        let attr = quote!(#[schemars(transform = ::twinwire::__private::close_flattened::<#ty>)]);
        attrs.extend(syn::parse::Parser::parse2(Attribute::parse_outer, attr)?);
    }
    Ok(attrs)
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
