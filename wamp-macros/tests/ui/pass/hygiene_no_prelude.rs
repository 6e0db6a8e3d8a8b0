//! The generated code names everything by absolute path and calls trait methods through their
//! trait (`<T as From<_>>::from`, `Clone::clone`): it compiles in a module without the prelude,
//! where `Option`, `Result`, `Vec`, `String`, `Send`, `Debug`, `Clone`, `From`... are not in scope.
#![deny(warnings)]

#[allow(dead_code)]
mod hygiene {
    #![no_implicit_prelude]

    /// Errors of the service.
    #[derive(::core::fmt::Debug, ::wampkit::ApplicationError)]
    pub enum HygieneError {
        /// A unit variant with a message.
        #[wamp(uri = "com.example.hygiene.error.unit", message = "unit")]
        Unit,
        /// A tuple variant.
        #[wamp(uri = "com.example.hygiene.error.tuple")]
        Tuple(::std::string::String, u32),
        /// A struct variant.
        #[wamp(uri = "com.example.hygiene.error.named")]
        Named {
            /// A field.
            field: ::std::vec::Vec<u8>,
        },
    }

    /// Keyword arguments.
    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub struct Kwargs {
        /// A field.
        pub value: u32,
    }

    /// A service declared without the prelude.
    #[::wampkit::service(prefix = "com.example.hygiene")]
    pub trait Hygiene {
        /// Positional.
        async fn add(&self, a: i64, b: i64) -> i64;
        /// Keyword arguments, details and a result.
        #[wamp(kwargs)]
        async fn fallible(
            &self,
            text: ::std::string::String,
            limit: ::core::option::Option<u32>,
            details: ::wampkit::InvocationDetails,
        ) -> ::core::result::Result<::std::vec::Vec<u8>, HygieneError>;
        /// A keyword struct.
        async fn with_struct(&self, #[wamp(kwargs)] kwargs: Kwargs);
        /// An event with details and a result.
        #[wamp(event)]
        async fn happened(
            &self,
            what: ::std::string::String,
            details: ::wampkit::EventDetails,
        ) -> ::core::result::Result<(), HygieneError>;
        /// An event with a keyword struct.
        #[wamp(topic = "com.example.hygiene.other")]
        async fn other(&self, #[wamp(kwargs)] kwargs: Kwargs);
    }

    struct Impl;

    impl Hygiene for Impl {
        async fn add(&self, a: i64, b: i64) -> i64 {
            a + b
        }
        async fn fallible(
            &self,
            _text: ::std::string::String,
            _limit: ::core::option::Option<u32>,
            _details: ::wampkit::InvocationDetails,
        ) -> ::core::result::Result<::std::vec::Vec<u8>, HygieneError> {
            ::core::result::Result::Err(HygieneError::Unit)
        }
        async fn with_struct(&self, _kwargs: Kwargs) {}
        async fn happened(
            &self,
            _what: ::std::string::String,
            _details: ::wampkit::EventDetails,
        ) -> ::core::result::Result<(), HygieneError> {
            ::core::result::Result::Ok(())
        }
        async fn other(&self, _kwargs: Kwargs) {}
    }

    pub async fn use_it(session: &::wampkit::Session) -> ::wampkit::Result<()> {
        let _registration = HygieneService::register(session, Impl).await?;
        let client = HygieneClient::new(session);
        let _ = client.add(1, 2).await;
        let _ = client
            .fallible(::std::string::String::new(), ::core::option::Option::None)
            .await;
        let _ = client.with_struct(Kwargs { value: 1 }).await;
        let _ = client.happened(::std::string::String::new()).await;
        let _ = client.other(Kwargs { value: 1 }).await;
        ::core::result::Result::Ok(())
    }
}

fn main() {
    let _never_run = hygiene::use_it;
}
