//! `#[validate(...)]` on fields: parsed once, turned into run-time checks and into the
//! `#[schemars(...)]` attributes that put the same constraint in the JSON Schema.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, LitStr, Result, UnOp};

/// One constraint, with the span of its keyword for error reporting.
pub enum Constraint {
    Length {
        span: Span,
        min: Option<syn::LitInt>,
        max: Option<syn::LitInt>,
    },
    Range {
        span: Span,
        min: Option<Box<Expr>>,
        max: Option<Box<Expr>>,
    },
    Pattern {
        span: Span,
        pattern: LitStr,
    },
    Email(Span),
    Url(Span),
    Uuid(Span),
}

/// All `#[validate]` settings of one field.
#[derive(Default)]
pub struct FieldConstraints {
    pub constraints: Vec<Constraint>,
    /// `#[validate(skip)]`: the field's type need not implement `Validate`.
    pub skip: bool,
}

fn numeric_literal(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse::<f64>().ok(),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => numeric_literal(expr).map(|n| -n),
        _ => None,
    }
}

/// Parses and removes every `#[validate(...)]` attribute of a field.
pub fn take(attrs: &mut Vec<Attribute>) -> Result<FieldConstraints> {
    let mut out = FieldConstraints::default();
    let mut errors: Option<syn::Error> = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("validate") {
            return true;
        }
        if let Err(e) = parse_one(attr, &mut out) {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
        false
    });
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn parse_one(attr: &Attribute, out: &mut FieldConstraints) -> Result<()> {
    attr.parse_nested_meta(|meta| {
        let span = meta.path.span();
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match name.as_str() {
            "length" => {
                let (mut min, mut max) = (None, None);
                meta.parse_nested_meta(|m| {
                    let lit: syn::LitInt = m.value()?.parse()?;
                    lit.base10_parse::<usize>()?;
                    if m.path.is_ident("min") {
                        min = Some(lit);
                    } else if m.path.is_ident("max") {
                        max = Some(lit);
                    } else if m.path.is_ident("equal") {
                        min = Some(lit.clone());
                        max = Some(lit);
                    } else {
                        return Err(m.error("expected `min`, `max` or `equal`"));
                    }
                    Ok(())
                })?;
                check_order(span, &min, &max, |l| l.base10_parse::<f64>().ok())?;
                if min.is_none() && max.is_none() {
                    return Err(syn::Error::new(
                        span,
                        "`length` needs `min`, `max` or `equal`",
                    ));
                }
                out.constraints.push(Constraint::Length { span, min, max });
            }
            "non_empty" => out.constraints.push(Constraint::Length {
                span,
                min: Some(syn::LitInt::new("1", span)),
                max: None,
            }),
            "range" => {
                let (mut min, mut max) = (None, None);
                meta.parse_nested_meta(|m| {
                    let expr: Expr = m.value()?.parse()?;
                    if numeric_literal(&expr).is_none() {
                        return Err(syn::Error::new(
                            expr.span(),
                            "`range` bounds must be number literals",
                        ));
                    }
                    if m.path.is_ident("min") {
                        min = Some(Box::new(expr));
                    } else if m.path.is_ident("max") {
                        max = Some(Box::new(expr));
                    } else {
                        return Err(m.error("expected `min` or `max`"));
                    }
                    Ok(())
                })?;
                check_order(span, &min, &max, |e| numeric_literal(e))?;
                if min.is_none() && max.is_none() {
                    return Err(syn::Error::new(span, "`range` needs `min` or `max`"));
                }
                out.constraints.push(Constraint::Range { span, min, max });
            }
            "pattern" | "regex" => {
                let pattern: LitStr = meta.value()?.parse()?;
                if let Err(e) = regex_syntax::Parser::new().parse(&pattern.value()) {
                    return Err(syn::Error::new(
                        pattern.span(),
                        format!("invalid regular expression: {e}"),
                    ));
                }
                out.constraints.push(Constraint::Pattern { span, pattern });
            }
            "email" => out.constraints.push(Constraint::Email(span)),
            "url" => out.constraints.push(Constraint::Url(span)),
            "uuid" => out.constraints.push(Constraint::Uuid(span)),
            "skip" => out.skip = true,
            _ => {
                return Err(meta.error(
                    "unknown constraint; expected one of `length`, `non_empty`, `range`, \
                     `pattern`, `email`, `url`, `uuid`, `skip`",
                ));
            }
        }
        Ok(())
    })
}

fn check_order<T>(
    span: Span,
    min: &Option<T>,
    max: &Option<T>,
    value: impl Fn(&T) -> Option<f64>,
) -> Result<()> {
    if let (Some(lo), Some(hi)) = (min.as_ref().and_then(&value), max.as_ref().and_then(&value))
        && lo > hi
    {
        return Err(syn::Error::new(span, "`min` is greater than `max`"));
    }
    Ok(())
}

impl FieldConstraints {
    /// `#[schemars(...)]` attributes carrying the constraints into the JSON Schema.
    pub fn schemars_attrs(&self) -> TokenStream {
        self.constraints
            .iter()
            .map(|c| match c {
                Constraint::Length { min, max, .. } => {
                    let map_min = opt(min.as_ref().map(|m| quote!(#m)));
                    let map_max = opt(max.as_ref().map(|m| quote!(#m)));
                    let min = min.as_ref().map(|m| quote!(min = #m,));
                    let max = max.as_ref().map(|m| quote!(max = #m,));
                    // schemars' `length` covers strings and arrays; maps need the transform.
                    quote! {
                        #[schemars(length(#min #max))]
                        #[schemars(transform = ::twinwire::__private::constraints::MapLength {
                            min: #map_min,
                            max: #map_max,
                        })]
                    }
                }
                Constraint::Range { min, max, .. } => {
                    let min = min.as_ref().map(|m| quote!(min = #m,));
                    let max = max.as_ref().map(|m| quote!(max = #m,));
                    quote!(#[schemars(range(#min #max))])
                }
                Constraint::Pattern { pattern, .. } => {
                    quote!(#[schemars(regex(pattern = #pattern))])
                }
                Constraint::Email(_) => quote!(#[schemars(email)]),
                Constraint::Url(_) => quote!(#[schemars(url)]),
                // The marker tells the manifest builder this string takes the hyphenated
                // form only, unlike a `Uuid` field (same `format`), whose serde reads four.
                Constraint::Uuid(_) => quote!(#[schemars(extend(
                    "format" = "uuid",
                    "x-twinwire-hyphenated-uuid" = true
                ))]),
            })
            .collect()
    }

    /// Statements checking `value` (an expression of type `&FieldType`) into `__v`.
    /// Each check is spanned at its constraint, so a constraint on a type it cannot apply
    /// to is reported there.
    pub fn checks(&self, value: &TokenStream, ty: &syn::Type) -> TokenStream {
        let c = quote!(::twinwire::__private::constraints);
        // The validator variable keeps the call-site span although each check is spanned at
        // its constraint: a span from a `macro_rules!` expansion would make `__v` a
        // different (hygienic) name than the one the impl declares.
        let v = format_ident!("__v");
        let checks = self
            .constraints
            .iter()
            .enumerate()
            .map(|(i, constraint)| match constraint {
                Constraint::Length { span, min, max } => {
                    let min = opt(min.as_ref().map(|m| quote!(#m)));
                    let max = opt(max.as_ref().map(|m| quote!(#m)));
                    quote_spanned!(*span=> #c::length::<#ty>(#v, #value, #min, #max);)
                }
                Constraint::Range { span, min, max } => {
                    let min = opt(min.as_ref().map(|m| quote!((#m) as f64)));
                    let max = opt(max.as_ref().map(|m| quote!((#m) as f64)));
                    quote_spanned!(*span=> #c::range::<#ty>(#v, #value, #min, #max);)
                }
                Constraint::Pattern { span, pattern } => {
                    let name = format_ident!("__TWINWIRE_PATTERN_{}", i);
                    quote_spanned! {*span=>
                        static #name: ::twinwire::__private::LazyRegex =
                            ::twinwire::__private::LazyRegex::new(|| {
                                ::twinwire::__private::compile_pattern(#pattern)
                            });
                        #c::pattern::<#ty>(#v, #value, &#name, #pattern);
                    }
                }
                Constraint::Email(span) => quote_spanned!(*span=> #c::email::<#ty>(#v, #value);),
                Constraint::Url(span) => quote_spanned!(*span=> #c::url::<#ty>(#v, #value);),
                Constraint::Uuid(span) => quote_spanned!(*span=> #c::uuid::<#ty>(#v, #value);),
            });
        quote!(#(#checks)*)
    }
}

fn opt(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
