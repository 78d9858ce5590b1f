//! `protocol!`: groups messages by direction, checks what the compiler can, and implements
//! `Protocol` with a manifest builder.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Result, Token, Type, Visibility, braced, bracketed};

use crate::docs::doc_string;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Client,
    Server,
    Rpc,
}

impl Section {
    fn label(self) -> &'static str {
        match self {
            Section::Client => "client",
            Section::Server => "server",
            Section::Rpc => "rpc",
        }
    }
}

pub struct ProtocolDef {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
    entries: Vec<(Section, Type)>,
}

impl Parse for ProtocolDef {
    fn parse(input: ParseStream) -> Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let name: Ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut entries = Vec::new();
        let mut seen: Vec<Section> = Vec::new();
        while !body.is_empty() {
            let key: Ident = body.parse()?;
            let section = match key.to_string().as_str() {
                "client" => Section::Client,
                "server" => Section::Server,
                "rpc" => Section::Rpc,
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        "unknown section; expected `client`, `server` or `rpc`",
                    ));
                }
            };
            if seen.contains(&section) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("the `{}` section is given twice", section.label()),
                ));
            }
            seen.push(section);
            body.parse::<Token![:]>()?;
            let list;
            bracketed!(list in body);
            for ty in Punctuated::<Type, Token![,]>::parse_terminated(&list)? {
                entries.push((section, ty));
            }
            if !body.is_empty() {
                body.parse::<Token![,]>()?;
            }
        }
        if !input.is_empty() {
            return Err(input.error("expected the end of the protocol declaration"));
        }
        Ok(ProtocolDef {
            attrs,
            vis,
            name,
            entries,
        })
    }
}

fn type_key(ty: &Type) -> String {
    quote!(#ty).to_string()
}

pub fn expand(def: ProtocolDef) -> Result<TokenStream> {
    let ProtocolDef {
        attrs,
        vis,
        name,
        entries,
    } = def;

    // The same type listed twice is visible in the tokens; say which mistake it is.
    let mut errors: Option<syn::Error> = None;
    for (i, (section, ty)) in entries.iter().enumerate() {
        let earlier = entries[..i]
            .iter()
            .find(|(_, other)| type_key(other) == type_key(ty));
        if let Some((earlier_section, _)) = earlier {
            let message = if *earlier_section == *section {
                format!(
                    "`{}` is listed twice in `{}`",
                    type_key(ty).replace(' ', ""),
                    section.label()
                )
            } else {
                format!(
                    "`{}` is declared in both `{}` and `{}`; a message has one direction",
                    type_key(ty).replace(' ', ""),
                    earlier_section.label(),
                    section.label()
                )
            };
            let e = syn::Error::new(ty.span(), message);
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }

    let doc = doc_string(&attrs);
    let name_str = name.to_string();
    let adds = entries.iter().map(|(section, ty)| {
        let call = match section {
            Section::Client => quote!(client),
            Section::Server => quote!(server),
            Section::Rpc => quote!(rpc),
        };
        quote_spanned!(ty.span()=> __builder.#call::<#ty>();)
    });

    // Wire types are constants of other items, so duplicates can only be found by
    // evaluating them: a const block that fails to compile, pointing at the second type.
    // (`rpc` entries are held to `Rpc` by the builder call above.)
    let type_exprs = entries
        .iter()
        .map(|(_, ty)| quote_spanned!(ty.span()=> <#ty as ::twinwire::Message>::WIRE_TYPE));
    let rpc_checks = entries
        .iter()
        .filter(|(section, _)| *section == Section::Rpc)
        .map(|(_, ty)| {
            quote_spanned!(ty.span()=>
                const _: ::core::marker::PhantomData<<#ty as ::twinwire::Rpc>::Response> =
                    ::core::marker::PhantomData;
            )
        });
    // Direction typing: the runtime sends only `ServerMessage`s. Each type appears once
    // (checked above), so each marker is implemented once per protocol.
    let server_markers = entries
        .iter()
        .filter(|(section, _)| *section == Section::Server)
        .map(|(_, ty)| {
            quote_spanned!(ty.span()=>
                #[automatically_derived]
                impl ::twinwire::ServerMessage for #ty {}
            )
        });
    let count = entries.len();
    let asserts = entries.iter().enumerate().map(|(i, (_, ty))| {
        let message = format!(
            "`{}` has the same wire `type` as a message listed before it in this protocol",
            type_key(ty).replace(' ', "")
        );
        quote_spanned!(ty.span()=> ::core::assert!(__DUPLICATE != #i, #message);)
    });

    Ok(quote! {
        #(#attrs)*
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
        #vis struct #name;

        impl ::twinwire::Protocol for #name {
            const NAME: &'static str = #name_str;

            fn manifest() -> ::core::result::Result<::twinwire::Manifest, ::twinwire::ManifestError> {
                let mut __builder = ::twinwire::__private::ManifestBuilder::new(
                    #name_str,
                    #doc,
                    ::core::concat!(::core::module_path!(), "::", #name_str),
                );
                #(#adds)*
                __builder.finish()
            }
        }

        #(#server_markers)*

        const _: () = {
            const __TYPES: [&str; #count] = [#(#type_exprs),*];
            const __DUPLICATE: usize = ::twinwire::__private::first_duplicate(&__TYPES);
            #(#asserts)*
            #(#rpc_checks)*
        };
    })
}
