//! Attribute macros for `wamp-client`: write a WAMP service once, as a Rust trait, and get the
//! callee registration and the typed caller from it.
//!
//! Use them through `wamp-client`, which re-exports them: `#[wamp_client::service]` and
//! `#[derive(wamp_client::ApplicationError)]`. The `wamp_client::service` documentation describes
//! the attributes and shows complete examples.
//!
//! Layout: `attr` parses the attributes, `model` turns the trait into a checked model,
//! `expand/` generates one item per file, `app_error` is the derive.

mod app_error;
mod attr;
mod ctxt;
mod expand;
mod model;
mod uri;

use proc_macro::TokenStream;

/// Turns a trait into a WAMP service contract. See `wamp_client::service` for the documentation.
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    ctxt::into_tokens(expand_service(args.into(), item.into())).into()
}

fn expand_service(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let args = attr::parse_service_args(args)?;
    let item: syn::ItemTrait = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`#[service]` goes on a trait: `#[service(prefix = \"com.example\")] pub trait Calc { async fn add(&self, a: i64, b: i64) -> i64; }`",
        )
    })?;
    let cx = ctxt::Ctxt::default();
    let service = model::ServiceDef::from_item(&cx, args, &item);
    model::check_duplicates(&cx, &service);
    cx.check()?;
    let tokens = expand::expand(&service);
    if std::env::var_os("WAMP_MACROS_DEBUG").is_some() {
        eprintln!("{tokens}");
    }
    Ok(tokens)
}

/// Derives `wamp_client::ApplicationError` for an error enum. See `wamp_client::ApplicationError`.
#[proc_macro_derive(ApplicationError, attributes(wamp))]
pub fn derive_application_error(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    ctxt::into_tokens(app_error::expand(&input)).into()
}
