//! Generated protocol types: `pulumirpc` (provider, engine, plugin) and `google.rpc`.

#[allow(clippy::all, clippy::pedantic)]
pub mod pulumirpc {
    tonic::include_proto!("pulumirpc");
}

#[allow(clippy::all, clippy::pedantic)]
pub mod google_rpc {
    tonic::include_proto!("google.rpc");
}
