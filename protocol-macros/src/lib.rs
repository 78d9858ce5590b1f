// Module layers, leaves first; a module uses only modules of earlier layers:
// 1. `case`, `constraint`, `docs`
// 2. `serde_attrs` (`case`), `protocol` (`docs`)
// 3. `item` (`case`, `constraint`, `docs`, `serde_attrs`)
// This file holds only the macro entry points, which Rust requires at the crate root; each
// hands its input to `item` or `protocol`.

//! Procedural macros of twinwire. Use them through the `twinwire` crate, which re-exports
//! them and the crates their expansions need.

mod case;
mod constraint;
mod docs;
mod item;
mod protocol;
mod serde_attrs;

use proc_macro::TokenStream;

fn finish(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Marks a struct or tagged enum as a protocol message. See `twinwire::message`.
#[proc_macro_attribute]
pub fn message(args: TokenStream, input: TokenStream) -> TokenStream {
    finish(item::expand(item::Kind::Message, args.into(), input.into()))
}

/// Marks a struct as an RPC request bound to its response. See `twinwire::rpc`.
#[proc_macro_attribute]
pub fn rpc(args: TokenStream, input: TokenStream) -> TokenStream {
    finish(item::expand(item::Kind::Rpc, args.into(), input.into()))
}

/// Marks a type used inside payloads. See `twinwire::data`.
#[proc_macro_attribute]
pub fn data(args: TokenStream, input: TokenStream) -> TokenStream {
    finish(item::expand(item::Kind::Data, args.into(), input.into()))
}

/// Declares a protocol. See `twinwire::protocol!`.
#[proc_macro]
pub fn protocol(input: TokenStream) -> TokenStream {
    finish(syn::parse(input).and_then(protocol::expand))
}
