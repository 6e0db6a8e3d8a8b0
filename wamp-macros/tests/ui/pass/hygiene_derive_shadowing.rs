//! Like `hygiene_shadowing.rs`, and the derive macros `Debug` and `Clone` are shadowed too: the
//! generated derives are absolute (`#[derive(::core::fmt::Debug, ...)]`), so they do not derive
//! serde's traits instead.
#![deny(warnings)]
#![allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    unused_imports,
    unused_macros
)]

mod shadowing {
    struct Result;
    struct Option;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct Vec;
    struct String;
    struct Box;
    struct Arc;
    trait Send {}
    trait Sync {}
    trait Future {}
    // Derive macros too: a bare `#[derive(Debug)]` in generated code would derive these.
    use ::serde::Deserialize as Clone;
    use ::serde::Serialize as Debug;
    trait Default {}
    trait Copy {}
    trait Serialize {}
    trait Deserialize {}
    struct Session;
    struct Value;
    struct Dict;
    struct WampError;
    struct Error;
    struct Id;
    struct CallError;
    struct NoError;
    struct Arguments;
    struct Invocation;
    struct Event;
    struct InvocationDetails;
    struct EventDetails;
    struct ServiceRegistration;
    trait ApplicationError {}
    mod core {}
    mod std {}
    mod serde {}
    mod wampkit {}
    mod __private {}
    macro_rules! vec {
        ($($t:tt)*) => {
            compile_error!("the generated code used the caller's `vec!`")
        };
    }
    macro_rules! format {
        ($($t:tt)*) => {
            compile_error!("the generated code used the caller's `format!`")
        };
    }

    /// Errors.
    #[derive(::core::fmt::Debug, ::wampkit::ApplicationError)]
    pub enum ShadowError {
        /// Unit.
        #[wamp(uri = "com.example.shadow.error.unit", message = "unit")]
        Unit,
        /// Tuple.
        #[wamp(uri = "com.example.shadow.error.tuple")]
        Tuple(u32, bool),
        /// Named.
        #[wamp(uri = "com.example.shadow.error.named")]
        Named {
            /// A field.
            field: u32,
        },
    }

    /// Keyword arguments.
    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub struct Kwargs {
        /// A field.
        pub value: u32,
    }

    /// A service among shadowing names.
    #[::wampkit::service(prefix = "com.example.shadow")]
    pub trait Shadow {
        /// Positional.
        async fn add(&self, a: i64, b: i64) -> i64;
        /// Keyword arguments, details and a result.
        #[wamp(kwargs)]
        async fn fallible(
            &self,
            a: u32,
            details: ::wampkit::InvocationDetails,
        ) -> ::core::result::Result<u32, ShadowError>;
        /// A keyword struct.
        async fn with_struct(&self, #[wamp(kwargs)] kwargs: Kwargs);
        /// An event with details and a result.
        #[wamp(event)]
        async fn happened(
            &self,
            what: u32,
            details: ::wampkit::EventDetails,
        ) -> ::core::result::Result<(), ShadowError>;
    }

    struct Impl;

    impl Shadow for Impl {
        async fn add(&self, a: i64, b: i64) -> i64 {
            a + b
        }
        async fn fallible(
            &self,
            a: u32,
            _details: ::wampkit::InvocationDetails,
        ) -> ::core::result::Result<u32, ShadowError> {
            ::core::result::Result::Ok(a)
        }
        async fn with_struct(&self, _kwargs: Kwargs) {}
        async fn happened(
            &self,
            _what: u32,
            _details: ::wampkit::EventDetails,
        ) -> ::core::result::Result<(), ShadowError> {
            ::core::result::Result::Err(ShadowError::Tuple(1, true))
        }
    }

    pub async fn use_it(session: &::wampkit::Session) -> ::wampkit::Result<()> {
        let _registration = ShadowService::register(session, Impl).await?;
        let client = ShadowClient::new(session);
        let _ = client.add(1, 2).await;
        let _ = client.fallible(1).await;
        let _ = client.with_struct(Kwargs { value: 1 }).await;
        let _ = client.happened(1).await;
        ::core::result::Result::Ok(())
    }
}

fn main() {
    let _never_run = shadowing::use_it;
}
