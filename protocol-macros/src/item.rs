//! `#[message]`, `#[rpc]` and `#[data]`: add the serde/schemars derives, translate field
//! constraints, and implement `Validate` (and `Message` / `Rpc`).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Field, Fields, Item, LitStr, Result, Token, Type};

use crate::case::{RenameRule, screaming_snake_from_type_name};
use crate::constraint;
use crate::docs::doc_string;
use crate::serde_attrs::{self, ContainerAttrs};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Message,
    Rpc,
    Data,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Message => "#[twinwire::message]",
            Kind::Rpc => "#[twinwire::rpc]",
            Kind::Data => "#[twinwire::data]",
        }
    }
}

/// The attribute's arguments: `"TYPE"`, `response = T`, `allow_unknown_fields`, `no_debug`,
/// `keep_nulls`, and `meta = T` (a message's typed meta) or `meta` (a data type usable as one).
#[derive(Default)]
pub struct Args {
    wire: Option<LitStr>,
    response: Option<Type>,
    allow_unknown_fields: bool,
    keep_nulls: bool,
    no_debug: bool,
    meta_type: Option<Type>,
    meta_flag: Option<syn::Ident>,
}

enum Arg {
    Wire(LitStr),
    Response(Box<Type>),
    AllowUnknownFields,
    KeepNulls,
    NoDebug,
    MetaType(Box<Type>),
    MetaFlag(syn::Ident),
}

/// Meta keys typed meta cannot declare: a copy of `twinwire::envelope::UNDECLARABLE_META_KEYS`
/// (this crate cannot depend on `twinwire`; `protocol/tests/ui/meta_reserved_key.rs` keeps
/// the two in step).
const UNDECLARABLE_META_KEYS: [&str; 4] = ["timestamp", "correlationId", "clientId", "receivedAt"];

impl Parse for Arg {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(LitStr) {
            return Ok(Arg::Wire(input.parse()?));
        }
        let ident: syn::Ident = input.parse()?;
        if ident == "response" {
            input.parse::<Token![=]>()?;
            Ok(Arg::Response(Box::new(input.parse()?)))
        } else if ident == "allow_unknown_fields" {
            Ok(Arg::AllowUnknownFields)
        } else if ident == "keep_nulls" {
            Ok(Arg::KeepNulls)
        } else if ident == "no_debug" {
            Ok(Arg::NoDebug)
        } else if ident == "meta" && input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(Arg::MetaType(Box::new(input.parse()?)))
        } else if ident == "meta" {
            Ok(Arg::MetaFlag(ident))
        } else {
            Err(syn::Error::new(
                ident.span(),
                "unknown argument; expected a wire type string, `response = Type`, `meta = Type`, `meta`, `allow_unknown_fields`, `keep_nulls` or `no_debug`",
            ))
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut args = Args::default();
        for arg in Punctuated::<Arg, Token![,]>::parse_terminated(input)? {
            match arg {
                Arg::Wire(lit) if args.wire.is_some() => {
                    return Err(syn::Error::new(lit.span(), "the wire type is given twice"));
                }
                Arg::Wire(lit) => args.wire = Some(lit),
                Arg::Response(ty) => args.response = Some(*ty),
                Arg::AllowUnknownFields => args.allow_unknown_fields = true,
                Arg::KeepNulls => args.keep_nulls = true,
                Arg::NoDebug => args.no_debug = true,
                Arg::MetaType(ty) => args.meta_type = Some(*ty),
                Arg::MetaFlag(ident) => args.meta_flag = Some(ident),
            }
        }
        Ok(args)
    }
}

/// Why a wire type is refused, mirroring `twinwire::envelope::check_type_name`.
fn wire_type_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("a wire type must not be empty".into())
    } else if name.starts_with('$') {
        Some(format!(
            "wire type `{name}` starts with `$`, which is reserved for the wire protocol's own frames (such as `$ws:rpc-progress`)"
        ))
    } else if name.starts_with("__") {
        Some(format!(
            "wire type `{name}` starts with `__`, which is reserved for the wire protocol's own frames (such as `__heartbeat`)"
        ))
    } else if matches!(name, "ERROR" | "RPC_ERROR") {
        Some(format!(
            "wire type `{name}` is reserved for the wire protocol's error frames"
        ))
    } else if name.chars().any(char::is_control) {
        Some("a wire type must not contain control characters".into())
    } else {
        None
    }
}

pub fn expand(kind: Kind, args: TokenStream, input: TokenStream) -> Result<TokenStream> {
    let args: Args = syn::parse2(args)?;
    let mut item: Item = syn::parse2(input)?;

    if kind == Kind::Data
        && let Some(wire) = &args.wire
    {
        return Err(syn::Error::new(
            wire.span(),
            "`#[twinwire::data]` types have no wire type; use `#[twinwire::message(\"TYPE\")]` for a message",
        ));
    }
    match (&args.meta_type, &args.meta_flag, kind) {
        (Some(ty), _, Kind::Data) => {
            return Err(syn::Error::new(
                ty.span(),
                "`meta = Type` declares a message's typed meta; on the meta type itself, write `#[twinwire::data(meta)]`",
            ));
        }
        (_, Some(flag), Kind::Message | Kind::Rpc) => {
            return Err(syn::Error::new(
                flag.span(),
                "name the meta type: `meta = TraceMeta`, where `TraceMeta` is a `#[twinwire::data(meta)]` struct",
            ));
        }
        _ => {}
    }
    match (&args.response, kind) {
        (None, Kind::Rpc) => {
            return Err(syn::Error::new(
                Span::call_site(),
                "an RPC needs its response: `#[twinwire::rpc(\"TYPE\", response = Response)]`",
            ));
        }
        (Some(ty), Kind::Message | Kind::Data) => {
            return Err(syn::Error::new(
                ty.span(),
                "only `#[twinwire::rpc]` takes a `response`",
            ));
        }
        _ => {}
    }

    let (ident, generics, attrs) = match &mut item {
        Item::Struct(s) => (s.ident.clone(), s.generics.clone(), &s.attrs),
        Item::Enum(e) => (e.ident.clone(), e.generics.clone(), &e.attrs),
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!("{} applies to structs and enums", kind.attribute()),
            ));
        }
    };
    let container = serde_attrs::container(attrs)?;
    let generic_name = serde_attrs::generic_schema_name(&ident, &generics, attrs);
    let doc = doc_string(attrs);

    let wire = match (&args.wire, kind) {
        (_, Kind::Data) => None,
        (Some(lit), _) => {
            if let Some(problem) = wire_type_problem(&lit.value()) {
                return Err(syn::Error::new(lit.span(), problem));
            }
            Some(lit.value())
        }
        (None, _) if !generics.params.is_empty() => {
            return Err(syn::Error::new(
                generics.span(),
                format!(
                    "generic wire types need an explicit wire type, e.g. `{}(\"{}\")`: \
                     every instantiation would otherwise share the name derived from `{ident}`",
                    kind.attribute().trim_end_matches(']'),
                    screaming_snake_from_type_name(&ident.to_string())
                ),
            ));
        }
        (None, _) => {
            let wire = screaming_snake_from_type_name(&ident.to_string());
            // The README promises a compile error for a reserved wire type however it is
            // given, and a struct named `Error` is the likeliest way to hit one.
            if let Some(problem) = wire_type_problem(&wire) {
                return Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "{problem} (`{wire}` is derived from the name `{ident}`); rename the \
                         type, or give it a wire type of its own: `{}(\"APP_{wire}\"{})]`",
                        kind.attribute().trim_end_matches(']'),
                        if kind == Kind::Rpc {
                            ", response = …"
                        } else {
                            ""
                        },
                    ),
                ));
            }
            Some(wire)
        }
    };

    let mut extra_attrs = Vec::new();
    let has_payload;
    let validate_body;
    match &mut item {
        Item::Struct(s) => {
            if kind != Kind::Data
                && matches!(s.fields, Fields::Unnamed(_))
                && !container.transparent
            {
                return Err(syn::Error::new(
                    s.fields.span(),
                    "a message payload is a JSON object: use named fields, or a unit struct for a message without payload",
                ));
            }
            has_payload = !matches!(s.fields, Fields::Unit);
            let named = matches!(s.fields, Fields::Named(_));
            // A transparent struct is its field: there is no key to leave out.
            serde_attrs::omit_none(&mut s.fields, args.keep_nulls || container.transparent)?;
            if named && !container.has_rename_all {
                extra_attrs.push(quote!(#[serde(rename_all = "camelCase")]));
            }
            let rule = if container.has_rename_all {
                container.rename_all
            } else {
                Some(RenameRule::Camel)
            };
            for attr in serde_attrs::close_flattened(&s.fields)? {
                extra_attrs.push(quote!(#attr));
            }
            let flattens = s
                .fields
                .iter()
                .map(|f| serde_attrs::member(&f.attrs).map(|m| m.flatten))
                .collect::<Result<Vec<_>>>()?;
            if let Some(flag) = &args.meta_flag {
                check_meta_struct(flag, s, &container, rule)?;
            }
            if named
                && args.meta_flag.is_none()
                && !args.allow_unknown_fields
                && !container.deny_unknown_fields
                && !container.transparent
                && !flattens.contains(&true)
            {
                // Strict by default: a misspelt field is an error, not silently dropped.
                extra_attrs.push(quote!(#[serde(deny_unknown_fields)]));
            }
            // A transparent struct is its single field on the wire: no path segment.
            let (_, checks) = fields_validation(
                &mut s.fields,
                rule,
                !container.transparent,
                |i, f| match &f.ident {
                    Some(id) => quote!(&self.#id),
                    None => {
                        let idx = syn::Index::from(i);
                        quote!(&self.#idx)
                    }
                },
            )?;
            validate_body = checks;
        }
        Item::Enum(e) => {
            if let Some(flag) = &args.meta_flag {
                return Err(syn::Error::new(
                    flag.span(),
                    "typed meta is a JSON object of named keys: `#[twinwire::data(meta)]` applies to structs with named fields",
                ));
            }
            if kind != Kind::Data {
                let tagged_object = container.tag.is_some() && !container.untagged;
                if !tagged_object {
                    return Err(syn::Error::new(
                        e.ident.span(),
                        "a message payload is a JSON object, so a message enum must be tagged: \
                         add `#[serde(tag = \"kind\")]` (or `tag` and `content`)",
                    ));
                }
            }
            has_payload = true;
            for variant in &mut e.variants {
                serde_attrs::omit_none(&mut variant.fields, args.keep_nulls)?;
            }
            if let Some(marker) = serde_attrs::unit_variants_marker(e, &container)? {
                extra_attrs.push(quote!(#marker));
            }
            if let Some(marker) = serde_attrs::other_marker(e, &container)? {
                extra_attrs.push(quote!(#marker));
            }
            if !container.has_rename_all_fields {
                extra_attrs.push(quote!(#[serde(rename_all_fields = "camelCase")]));
            }
            validate_body = enum_validation(e, &container)?;
        }
        _ => unreachable!("checked above"),
    }

    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let mut validate_where = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    for param in generics.type_params() {
        let id = &param.ident;
        validate_where
            .predicates
            .push(syn::parse_quote!(#id: ::twinwire::Validate));
    }

    // `Debug` too, unless the item derives it already or implements it by hand (`no_debug`).
    let debug =
        (!args.no_debug && !derives_debug(attrs_of(&item))).then(|| quote!(::core::fmt::Debug,));
    let derives = quote! {
        #[derive(
            #debug
            ::twinwire::__private::serde::Serialize,
            ::twinwire::__private::serde::Deserialize,
            ::twinwire::__private::schemars::JsonSchema
        )]
        #[serde(crate = "::twinwire::__private::serde")]
        #[schemars(crate = "::twinwire::__private::schemars")]
        #generic_name
        #(#extra_attrs)*
    };

    let validate_impl = quote! {
        #[automatically_derived]
        impl #impl_generics ::twinwire::Validate for #ident #ty_generics #validate_where {
            #[allow(unused_variables)]
            fn validate_into(&self, __v: &mut ::twinwire::Validator) {
                #validate_body
            }
        }
    };

    let meta_impl = args.meta_flag.as_ref().map(|_| {
        let mut meta_where = where_clause
            .cloned()
            .unwrap_or_else(|| syn::parse_quote!(where));
        if !generics.params.is_empty() {
            meta_where.predicates.push(syn::parse_quote!(
                Self: ::twinwire::__private::serde::Serialize
                    + ::twinwire::__private::serde::de::DeserializeOwned
                    + ::twinwire::__private::schemars::JsonSchema
                    + ::twinwire::Validate
                    + ::core::marker::Send
                    + ::core::marker::Sync
                    + 'static
            ));
        }
        quote! {
            #[automatically_derived]
            impl #impl_generics ::twinwire::MetaFields for #ident #ty_generics #meta_where {
                const DECLARED: bool = true;
            }
        }
    });

    let meta_assoc = match &args.meta_type {
        // Spanned at the user's type, so a type that is not a meta type is reported there.
        Some(ty) => quote_spanned!(ty.span()=> type Meta = #ty;),
        None => quote!(
            type Meta = ();
        ),
    };

    let message_impl = wire.map(|wire| {
        let mut message_where =
            where_clause.cloned().unwrap_or_else(|| syn::parse_quote!(where));
        if !generics.params.is_empty() {
            message_where.predicates.push(syn::parse_quote!(
                Self: ::twinwire::__private::serde::Serialize
                    + ::twinwire::__private::serde::de::DeserializeOwned
                    + ::twinwire::__private::schemars::JsonSchema
                    + ::twinwire::Validate
                    + ::core::marker::Send
                    + ::core::marker::Sync
                    + 'static
            ));
        }
        let name = ident.to_string();
        quote! {
            #[automatically_derived]
            impl #impl_generics ::twinwire::Message for #ident #ty_generics #message_where {
                const WIRE_TYPE: &'static str = #wire;
                const HAS_PAYLOAD: bool = #has_payload;
                const DOC: &'static str = #doc;
                const RUST_NAME: &'static str = #name;
                const RUST_PATH: &'static str = ::core::concat!(::core::module_path!(), "::", #name);
                #meta_assoc
            }
        }
    });

    let rpc_impl = args.response.as_ref().map(|response| {
        let assoc = quote_spanned!(response.span()=> type Response = #response;);
        quote! {
            #[automatically_derived]
            impl #impl_generics ::twinwire::Rpc for #ident #ty_generics #where_clause {
                #assoc
            }
        }
    });

    // `Validate` comes first: rustc reports errors in item order, and a field type that is
    // not a twinwire type should first meet twinwire's own error (which names the fix), not
    // serde's advice to derive `Serialize`.
    Ok(quote! {
        #validate_impl
        #meta_impl
        #message_impl
        #rpc_impl
        #derives
        #item
    })
}

fn attrs_of(item: &Item) -> &[syn::Attribute] {
    match item {
        Item::Struct(s) => &s.attrs,
        Item::Enum(e) => &e.attrs,
        _ => &[],
    }
}

/// Whether the item carries `#[derive(.., Debug, ..)]` (under any path ending in `Debug`),
/// which a second derive would conflict with.
fn derives_debug(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .is_ok_and(|paths| {
                    paths
                        .iter()
                        .any(|p| p.segments.last().is_some_and(|s| s.ident == "Debug"))
                })
        })
}

/// What `#[twinwire::data(meta)]` requires of a struct: named fields, none flattened (its keys
/// could not be checked), no `deny_unknown_fields` (the `meta` object is shared with the
/// standard keys and untyped extras), and no wire name the protocol reserves.
fn check_meta_struct(
    flag: &syn::Ident,
    s: &syn::ItemStruct,
    container: &ContainerAttrs,
    rule: Option<RenameRule>,
) -> Result<()> {
    let Fields::Named(fields) = &s.fields else {
        return Err(syn::Error::new(
            flag.span(),
            "typed meta is a JSON object of named keys: `#[twinwire::data(meta)]` applies to structs with named fields",
        ));
    };
    if container.deny_unknown_fields || container.transparent {
        return Err(syn::Error::new(
            flag.span(),
            "a meta type shares the envelope's `meta` object with `timestamp`, `correlationId` and \
             untyped extras, so it cannot be `deny_unknown_fields` or `transparent`",
        ));
    }
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for field in &fields.named {
        let member = serde_attrs::member(&field.attrs)?;
        let ident_span = field
            .ident
            .as_ref()
            .map_or_else(|| field.span(), |i| i.span());
        if member.flatten {
            push(syn::Error::new(
                ident_span,
                "a meta field cannot be `#[serde(flatten)]`: its keys would escape the check for reserved meta keys",
            ));
            continue;
        }
        let ident = field
            .ident
            .as_ref()
            .map(|i| syn::ext::IdentExt::unraw(i).to_string())
            .unwrap_or_default();
        let ruled = rule.map_or(ident.clone(), |r| r.apply_to_field(&ident));
        // Explicit names first, so an error points at the string that chose the name.
        let mut names: Vec<(String, Span)> = serde_attrs::explicit_names(&field.attrs)?
            .into_iter()
            .map(|lit| (lit.value(), lit.span()))
            .collect();
        names.push((member.rename.unwrap_or(ruled), ident_span));
        if let Some((name, span)) = names
            .into_iter()
            .find(|(name, _)| UNDECLARABLE_META_KEYS.contains(&name.as_str()))
        {
            push(syn::Error::new(
                span,
                format!(
                    "meta key `{name}` belongs to the wire protocol ({}), so typed meta cannot declare it; \
                     rename the field (e.g. `#[serde(rename = \"app{}\")]`)",
                    UNDECLARABLE_META_KEYS.map(|k| format!("`{k}`")).join(", "),
                    upper_first(&name),
                ),
            ));
        }
    }
    errors.map_or(Ok(()), Err)
}

fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Checks for a set of fields. `value_of` gives the expression for a field's reference.
/// Returns the binding pattern (for enum variants) and the checks.
fn fields_validation(
    fields: &mut Fields,
    rule: Option<RenameRule>,
    name_segments: bool,
    value_of: impl Fn(usize, &Field) -> TokenStream,
) -> Result<(TokenStream, TokenStream)> {
    let mut checks = Vec::new();
    let mut bindings = Vec::new();
    let named = matches!(fields, Fields::Named(_));
    let count = fields.len();
    let mut errors: Option<syn::Error> = None;
    for (i, field) in fields.iter_mut().enumerate() {
        let constraints = match constraint::take(&mut field.attrs) {
            Ok(c) => c,
            Err(e) => {
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
                continue;
            }
        };
        let member = serde_attrs::member(&field.attrs)?;
        let schemars_attrs = constraints.schemars_attrs();
        if !schemars_attrs.is_empty() {
            let parsed: Vec<syn::Attribute> =
                syn::parse::Parser::parse2(syn::Attribute::parse_outer, schemars_attrs)?;
            field.attrs.extend(parsed);
        }
        let value = value_of(i, field);
        bindings.push(match &field.ident {
            Some(id) => quote!(#id),
            None => {
                let b = format_ident!("__f{}", i);
                quote!(#b)
            }
        });
        if member.skip {
            continue;
        }
        let ty = &field.ty;
        let constraint_checks = constraints.checks(&value, ty);
        // `__v` keeps the call-site span (see `FieldConstraints::checks`).
        let v = format_ident!("__v");
        // Named through the field's type, so that a type without `Validate` (one not marked
        // `#[data]`) is reported once, at the field's type.
        let recurse = (!constraints.skip).then(
            || quote_spanned!(ty.span()=> <#ty as ::twinwire::Validate>::validate_into(#value, #v);),
        );
        let body = quote!(#constraint_checks #recurse);
        let wrapped = if member.flatten || !name_segments {
            body
        } else if named {
            let ident = field
                .ident
                .as_ref()
                .map(|i| syn::ext::IdentExt::unraw(i).to_string());
            let ident = ident.unwrap_or_default();
            let wire = member
                .rename
                .clone()
                .unwrap_or_else(|| rule.map_or(ident.clone(), |r| r.apply_to_field(&ident)));
            quote!(__v.enter(#wire, |__v| { #body });)
        } else if count == 1 {
            // A newtype is its inner value on the wire.
            body
        } else {
            quote!(__v.enter_index(#i, |__v| { #body });)
        };
        checks.push(wrapped);
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let pattern = match fields {
        Fields::Named(_) => quote!({ #(#bindings,)* .. }),
        Fields::Unnamed(_) => quote!(( #(#bindings,)* )),
        Fields::Unit => quote!(),
    };
    Ok((pattern, quote!(#(#checks)*)))
}

fn enum_validation(e: &mut syn::ItemEnum, container: &ContainerAttrs) -> Result<TokenStream> {
    let field_rule_default = if container.has_rename_all_fields {
        container.rename_all_fields
    } else {
        Some(RenameRule::Camel)
    };
    let mut arms = Vec::new();
    for variant in &mut e.variants {
        let member = serde_attrs::member(&variant.attrs)?;
        let vident = &variant.ident;
        let wire_name = member.rename.clone().unwrap_or_else(|| {
            let name = vident.to_string();
            container
                .rename_all
                .map_or(name.clone(), |r| r.apply_to_variant(&name))
        });
        let field_rule = member.rename_all.or(field_rule_default);
        let (pattern, checks) =
            fields_validation(&mut variant.fields, field_rule, true, |i, f| {
                match &f.ident {
                    Some(id) => quote!(#id),
                    None => {
                        let b = format_ident!("__f{}", i);
                        quote!(#b)
                    }
                }
            })?;
        if member.skip {
            arms.push(quote!(Self::#vident #pattern => {}));
            continue;
        }
        // Untagged and internally tagged variants hold their fields at the enum's own
        // path; adjacently tagged ones under `content`; external ones under their name.
        let at_own_path = container.untagged
            || member.untagged
            || (container.tag.is_some() && container.content.is_none())
            || matches!(variant.fields, Fields::Unit);
        let wrapped = if at_own_path {
            checks
        } else if let Some(content) = &container.content {
            quote!(__v.enter(#content, |__v| { #checks });)
        } else {
            quote!(__v.enter(#wire_name, |__v| { #checks });)
        };
        arms.push(quote!(Self::#vident #pattern => { #wrapped }));
    }
    if arms.is_empty() {
        return Ok(quote!());
    }
    Ok(quote! {
        match self {
            #(#arms)*
        }
    })
}
