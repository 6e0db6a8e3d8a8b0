//! Attribute macros for `wampkit`: write a WAMP service once, as a Rust trait, and get the
//! callee registration and the typed caller from it.
//!
//! Use them through `wampkit`, which re-exports them: `#[wampkit::service]` and
//! `#[derive(wampkit::ApplicationError)]`. The `wampkit::service` documentation describes
//! the attributes and shows complete examples; its section "How arguments travel" is the one
//! place that says how parameters map to WAMP's positional and keyword arguments (a struct
//! parameter is one positional argument unless marked `#[wamp(kwargs)]`), and so how a peer in
//! another language calls a service.
//!
//! Layout: `attr` parses the attributes, `model` turns the trait into a checked model,
//! `expand/` generates one item per file, `app_error` is the derive.
//!
//! Mistakes are compile errors at the tokens they are about, all of them in one compile, in
//! source order. When a `#[service]` trait has errors, the trait itself is still emitted (without
//! the `#[wamp]` attributes), so its `impl`s do not add errors of their own.
//!
//! # Debugging
//! Set the environment variable `WAMP_MACROS_DEBUG` (to any value) while compiling to print the
//! code `#[service]` generates on standard error, e.g.
//! `WAMP_MACROS_DEBUG=1 cargo build 2> expanded.rs`. `cargo expand` shows it too.

mod app_error;
mod attr;
mod ctxt;
mod expand;
mod model;
mod uri;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

/// Turns a trait into a WAMP service contract. See `wampkit::service` for the documentation.
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    let tokens = expand_service(args.into(), item.into());
    if std::env::var_os("WAMP_MACROS_DEBUG").is_some() {
        eprintln!("{tokens}");
    }
    tokens.into()
}

fn expand_service(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let args = attr::parse_service_args(args);
    let item = syn::parse2::<syn::ItemTrait>(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`#[service]` goes on a trait: `#[service(prefix = \"com.example\")] pub trait Calc { async fn add(&self, a: i64, b: i64) -> i64; }`",
        )
    });
    let (args, item) = match (args, item) {
        (Ok(args), Ok(item)) => (args, item),
        (Err(error), Ok(item)) => return with_fallback(&item, error),
        (Ok(_), Err(error)) => return error.to_compile_error(),
        (Err(mut error), Err(other)) => {
            error.combine(other);
            return error.to_compile_error();
        }
    };
    let cx = ctxt::Ctxt::default();
    let service = model::ServiceDef::from_item(&cx, args, &item);
    match cx.check() {
        Ok(()) => expand::expand(&service),
        Err(error) => with_fallback(&item, error),
    }
}

/// The errors, and the trait as written so that nothing else fails because of them.
fn with_fallback(item: &syn::ItemTrait, error: syn::Error) -> TokenStream2 {
    let fallback = expand::fallback(item);
    let errors = error.to_compile_error();
    quote! {
        #fallback
        #errors
    }
}

/// Derives `wampkit::ApplicationError` for an error enum. See `wampkit::ApplicationError`.
#[proc_macro_derive(ApplicationError, attributes(wamp))]
pub fn derive_application_error(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    ctxt::into_tokens(app_error::expand(&input)).into()
}
