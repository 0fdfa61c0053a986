//! STYLE.md "What may import what", checked mechanically over every file of the pure modules (new
//! files are picked up by themselves): `flow`, `gates`, `protocol` and the badge-reader protocol
//! (`devices/badge`) import only std, serde and small pure crates plus the crate's plain types, and
//! never touch a clock, randomness, files, the network or a serial port.

use std::path::{Path, PathBuf};

const PURE_MODULES: &[&str] = &["src/flow", "src/gates", "src/protocol", "src/devices/badge"];

const ALLOWED_ROOTS: &[&str] = &[
    "std",
    "core",
    "serde",
    "serde_json",
    "thiserror",
    "zeroize",
    "argon2",
    "hmac",
    "sha1",
    "sha2",
    "unicode_normalization",
    "zxcvbn",
    "proptest",
    "super",
];
/// Crate modules the pure core may use: plain types and other pure modules.
const ALLOWED_CRATE_MODULES: &[&str] = &[
    "secret",
    "config",
    "directory",
    "gates",
    "flow",
    "protocol",
    "mask",
];
const FORBIDDEN: &[&str] = &[
    "SystemTime::now",
    "Instant::now",
    "Instant",
    "SystemTime",
    "thread_rng",
    "rand::",
    "OsRng",
    "getrandom",
    "std::fs",
    "std::net",
    "std::process",
    "std::thread",
    "tokio",
    "rusqlite",
    "ldap3",
    "slint",
    "serialport",
    "directory::ldap",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn pure_modules_import_only_pure_things() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for module in PURE_MODULES {
        rust_files(&root.join(module), &mut files);
    }
    assert!(
        files.len() > 20,
        "expected the pure modules' files, found {files:?}"
    );
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        for line in source.lines().map(str::trim) {
            let Some(path) = line
                .strip_prefix("use ")
                .or_else(|| line.strip_prefix("pub use "))
            else {
                continue;
            };
            let mut segments = path.split("::");
            let first = segments.next().unwrap_or_default().trim_end_matches(';');
            let parent = file.parent().unwrap();
            let own_submodule =
                parent.join(format!("{first}.rs")).exists() || parent.join(first).is_dir();
            if first == "self" || first.starts_with(char::is_uppercase) || own_submodule {
                continue;
            }
            if first == "crate" {
                let module = segments.next().unwrap_or_default().trim_end_matches(';');
                let module = module
                    .trim_start_matches('{')
                    .split([',', '}'])
                    .next()
                    .unwrap_or_default();
                assert!(
                    ALLOWED_CRATE_MODULES.contains(&module),
                    "{name}: `{line}` is not a pure module"
                );
            } else {
                assert!(
                    ALLOWED_ROOTS.contains(&first),
                    "{name}: `{line}` is not a pure dependency"
                );
            }
        }
        let code: Vec<&str> = source
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("//"))
            .collect();
        for token in FORBIDDEN {
            let hit = code.iter().find(|l| l.contains(token));
            assert!(hit.is_none(), "{name} uses `{token}`: {hit:?}");
        }
    }
}
