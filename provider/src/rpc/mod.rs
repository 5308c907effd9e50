//! The gRPC face of the provider: the tonic service, the wire encoding of
//! property values, the engine log, and the mapping of failures to statuses.
//! Everything it serves is decided in the `xpander` library below it.

pub mod codec;
pub mod engine_log;
pub mod errors;
pub mod server;
pub mod values;
