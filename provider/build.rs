// Compiles our own Pulumi protocol files with protox (pure Rust), so neither a
// system protoc nor checked-in generated code is needed.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let files = [
        "pulumi/provider.proto",
        "pulumi/plugin.proto",
        "pulumi/engine.proto",
        "pulumi/alias.proto",
        "google/rpc/status.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::compile(files, [&root])?;
    tonic_prost_build::configure()
        .codec_path("crate::rpc::codec::WireCodec")
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
