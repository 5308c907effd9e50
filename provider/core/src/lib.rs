//! pulumi-xpander's library: what the provider decides and does, with no
//! knowledge of the Pulumi wire protocol (the plugin crate above it speaks
//! gRPC). Layers, each using only those above it in this list:
//! model → iam → config → cloud → plan → context → resources → doctor →
//! functions → schema. See ARCHITECTURE.md.
pub mod cloud;
pub mod config;
pub mod context;
pub mod doctor;
pub mod functions;
pub mod iam;
pub mod model;
pub mod plan;
pub mod resources;
pub mod schema;

#[cfg(test)]
mod layering {
    /// The layers, lowest first; a module may use only those before it.
    const LAYERS: [&str; 10] = [
        "model",
        "iam",
        "config",
        "cloud",
        "plan",
        "context",
        "resources",
        "doctor",
        "functions",
        "schema",
    ];

    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// No import points back up: the structure reads top-down.
    #[test]
    fn every_module_uses_only_the_layers_below_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let mut upward = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&root).expect("under src");
            let first = relative.components().next().expect("a file");
            let own = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            let Some(rank) = LAYERS.iter().position(|l| *l == own) else {
                continue;
            };
            let text = std::fs::read_to_string(&file).expect("readable");
            assert!(
                !text.contains("crate::{"),
                "{}: name the layer in each path",
                relative.display()
            );
            for used in &LAYERS[rank + 1..] {
                if text.contains(&format!("crate::{used}::")) {
                    upward.push(format!("{} uses {used}", relative.display()));
                }
            }
        }
        assert!(upward.is_empty(), "imports pointing up: {upward:#?}");
    }
}
