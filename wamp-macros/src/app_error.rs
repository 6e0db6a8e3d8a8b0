//! `#[derive(ApplicationError)]`: each enum variant is one WAMP error URI. Tuple fields travel as
//! positional arguments, named fields as keyword arguments.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::attr;
use crate::ctxt::Ctxt;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let krate = attr::enum_args(&cx, &input.attrs)
        .crate_path
        .unwrap_or_else(|| syn::parse_quote!(::wampkit));
    let Data::Enum(data) = &input.data else {
        let mut error = syn::Error::new_spanned(
            &input.ident,
            "`ApplicationError` can only be derived for an enum whose variants are the error cases, each with `#[wamp(uri = \"...\")]`",
        );
        if let Err(attr_errors) = cx.check() {
            error.combine(attr_errors);
        }
        return Err(error);
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &input.generics,
            "`ApplicationError` cannot be derived for a generic enum: an error received from a peer is decoded into concrete types; use concrete field types",
        );
    }
    let ident = &input.ident;
    let mut to_arms = Vec::new();
    let mut from_arms = Vec::new();
    let mut seen: Vec<(String, syn::Ident)> = Vec::new();
    for variant in &data.variants {
        let args = attr::variant_args(&cx, &variant.attrs);
        let name = &variant.ident;
        let Some(uri) = args.uri else {
            cx.error_spanned_by(
                name,
                format!(
                    "variant `{name}` needs its error URI: `#[wamp(uri = \"com.example.error.{}\")]`",
                    crate::uri::to_snake(&name.to_string())
                ),
            );
            continue;
        };
        if let Some(problem) = crate::uri::problem_with_suggestion(&uri.value) {
            cx.syn_error(syn::Error::new(
                uri.span,
                format!("invalid error URI: {problem}"),
            ));
        }
        if let Some((_, first)) = seen.iter().find(|(u, _)| *u == uri.value) {
            cx.syn_error(syn::Error::new(
                uri.span,
                format!(
                    "`{first}` and `{name}` both use `{}`; each variant needs its own URI",
                    uri.value
                ),
            ));
        }
        seen.push((uri.value.clone(), name.clone()));
        let uri = uri.value;
        match &variant.fields {
            Fields::Unit => {
                let message = match &args.message {
                    Some(message) => {
                        let text = &message.value;
                        quote! {
                            __wamp_error.args.push(
                                <#krate::Value as ::core::convert::From<&str>>::from(#text),
                            );
                        }
                    }
                    None => quote!(),
                };
                to_arms.push(quote! {
                    Self::#name => {
                        let mut __wamp_error = #krate::WampError::new(#uri);
                        #message
                        __wamp_error
                    }
                });
                from_arms.push(quote!(#uri => ::core::option::Option::Some(Self::#name),));
            }
            Fields::Unnamed(fields) => {
                if let Some(message) = &args.message {
                    cx.syn_error(syn::Error::new(message.span, "`message` is only for variants without fields; a tuple variant's fields are its arguments"));
                }
                let bindings: Vec<_> = (0..fields.unnamed.len())
                    .map(|i| format_ident!("__wamp_field{i}"))
                    .collect();
                // Each conversion names the field's type and is spanned at it: a field that
                // cannot be sent or received is reported there.
                let values = fields
                    .unnamed
                    .iter()
                    .zip(&bindings)
                    .map(|(field, binding)| {
                        let ty = &field.ty;
                        quote_spanned!(ty.span()=> #krate::__private::error_value::<#ty>(#binding))
                    });
                let decoded = fields.unnamed.iter().enumerate().map(|(index, field)| {
                    let ty = &field.ty;
                    quote_spanned!(ty.span()=> #krate::__private::error_arg::<#ty>(&error.args, #index)?)
                });
                to_arms.push(quote! {
                    Self::#name(#(#bindings),*) => {
                        let mut __wamp_error = #krate::WampError::new(#uri);
                        __wamp_error.args = ::std::vec![#(#values),*];
                        __wamp_error
                    }
                });
                from_arms.push(quote! {
                    #uri => ::core::option::Option::Some(Self::#name(#(#decoded),*)),
                });
            }
            Fields::Named(fields) => {
                if let Some(message) = &args.message {
                    cx.syn_error(syn::Error::new(
                        message.span,
                        "`message` is only for variants without fields; a struct variant's fields are its keyword arguments",
                    ));
                }
                let names: Vec<_> = fields
                    .named
                    .iter()
                    .filter_map(|f| f.ident.clone())
                    .collect();
                let inserts = fields.named.iter().filter_map(|field| {
                    let (name, ty) = (field.ident.as_ref()?, &field.ty);
                    let key = key_of(name);
                    Some(quote_spanned! {ty.span()=>
                        __wamp_error.kwargs.insert(
                            <::std::string::String as ::core::convert::From<&str>>::from(#key),
                            #krate::__private::error_value::<#ty>(#name),
                        );
                    })
                });
                let decoded = fields.named.iter().filter_map(|field| {
                    let (name, ty) = (field.ident.as_ref()?, &field.ty);
                    let key = key_of(name);
                    Some(quote_spanned! {ty.span()=>
                        #name: #krate::__private::error_kwarg::<#ty>(&error.kwargs, #key)?
                    })
                });
                to_arms.push(quote! {
                    Self::#name { #(#names),* } => {
                        let mut __wamp_error = #krate::WampError::new(#uri);
                        #(#inserts)*
                        __wamp_error
                    }
                });
                from_arms.push(quote! {
                    #uri => ::core::option::Option::Some(Self::#name { #(#decoded),* }),
                });
            }
        }
    }
    cx.check()?;
    let to_body = if to_arms.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#to_arms)* })
    };
    Ok(quote! {
        #[automatically_derived]
        impl #krate::ApplicationError for #ident {
            fn to_wamp_error(&self) -> #krate::WampError {
                #to_body
            }

            fn from_wamp_error(error: &#krate::WampError) -> ::core::option::Option<Self> {
                match error.uri.as_str() {
                    #(#from_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}

/// The keyword of a named field (raw identifiers lose their `r#`).
fn key_of(name: &syn::Ident) -> String {
    let name = name.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}
