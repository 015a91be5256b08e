//! Talking to Trino: the client REST protocol for one connection (`client`), its wire
//! types (`protocol`), errors (`error`), TLS settings (`tls`) and a cached health probe
//! (`health`). Tools use `TrinoClient::run` with a `RowSink`; nothing else does HTTP.

mod client;
mod error;
mod health;
mod protocol;
mod tls;

#[doc(hidden)]
pub use client::decode_page_for_fuzzing as decode_page;
pub use client::{Call, Finished, RowSink, TrinoClient, drain_cancels};
pub use error::{ClientError, QueryFailure};
pub use health::Health;
pub use protocol::{Column, ErrorLocation, Stats};
pub use tls::install_crypto_provider;
