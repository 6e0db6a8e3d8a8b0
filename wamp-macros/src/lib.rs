//! Attribute macros for `wamp-client`.
