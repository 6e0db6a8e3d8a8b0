//! `#[derive(ApplicationError)]`: each enum variant is one WAMP error URI. Tuple fields travel as
//! positional arguments, named fields as keyword arguments.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields};

use crate::attr;
use crate::ctxt::Ctxt;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let krate = crate_path(&cx, input);
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`ApplicationError` can only be derived for an enum whose variants are the error cases, each with `#[wamp(uri = \"...\")]`",
        ));
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "`ApplicationError` cannot be derived for a generic enum",
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
                format!("variant `{name}` needs its error URI: `#[wamp(uri = \"com.example.error.{}\")]`", to_snake(&name.to_string())),
            );
            continue;
        };
        if let Some(problem) = crate::uri::strict_uri_problem(&uri.value) {
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
                        quote!(__wamp_error.args.push(#krate::Value::from(#text));)
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
                let indices = 0..fields.unnamed.len();
                to_arms.push(quote! {
                    Self::#name(#(#bindings),*) => {
                        let mut __wamp_error = #krate::WampError::new(#uri);
                        __wamp_error.args = ::std::vec![#(#krate::codegen::error_value(#bindings)),*];
                        __wamp_error
                    }
                });
                from_arms.push(quote! {
                    #uri => ::core::option::Option::Some(Self::#name(
                        #(#krate::codegen::error_arg(&error.args, #indices)?),*
                    )),
                });
            }
            Fields::Named(fields) => {
                if let Some(message) = &args.message {
                    cx.syn_error(syn::Error::new(
                        message.span,
                        "`message` is only for variants without fields",
                    ));
                }
                let names: Vec<_> = fields
                    .named
                    .iter()
                    .filter_map(|f| f.ident.clone())
                    .collect();
                let keys: Vec<String> = names.iter().map(ToString::to_string).collect();
                to_arms.push(quote! {
                    Self::#name { #(#names),* } => {
                        let mut __wamp_error = #krate::WampError::new(#uri);
                        #(
                            __wamp_error.kwargs.insert(
                                ::std::string::String::from(#keys),
                                #krate::codegen::error_value(#names),
                            );
                        )*
                        __wamp_error
                    }
                });
                from_arms.push(quote! {
                    #uri => ::core::option::Option::Some(Self::#name {
                        #(#names: #krate::codegen::error_kwarg(&error.kwargs, #keys)?),*
                    }),
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

/// `#[wamp(crate = "...")]` on the enum, or `::wamp_client`.
fn crate_path(cx: &Ctxt, input: &DeriveInput) -> syn::Path {
    let mut path = None;
    for attr in input.attrs.iter().filter(|a| attr::is_wamp(a)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                path = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown argument; expected `crate = \"...\"`"))
            }
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    path.unwrap_or_else(|| syn::parse_quote!(::wamp_client))
}

fn to_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
