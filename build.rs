//! Generates `include/asyncop.h` from `src/ffi` with cbindgen (pinned in
//! Cargo.toml). The header is checked in; it is rewritten only when its bytes
//! change, so an unchanged header does not re-trigger this script, and CI's
//! `git diff --exit-code include/asyncop.h` catches a stale one.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("read cbindgen.toml");
    let version = |part: &str| std::env::var(format!("CARGO_PKG_VERSION_{part}")).expect(part);
    let (major, minor, patch) = (version("MAJOR"), version("MINOR"), version("PATCH"));
    config.after_includes = Some(format!(
        "\n/* Version of this header; asyncop_version() gives the library's. */\n\
         #define ASYNCOP_VERSION_MAJOR {major}\n\
         #define ASYNCOP_VERSION_MINOR {minor}\n\
         #define ASYNCOP_VERSION_PATCH {patch}\n\
         /* MAJOR * 10000 + MINOR * 100 + PATCH */\n\
         #define ASYNCOP_VERSION_NUMBER ({major} * 10000 + {minor} * 100 + {patch})\n\
         \n\
         /* A status that must be checked (close/free functions are exempt). */\n\
         #if defined(__GNUC__) || defined(__clang__)\n\
         #define ASYNCOP_MUST_USE __attribute__((warn_unused_result))\n\
         #else\n\
         #define ASYNCOP_MUST_USE\n\
         #endif\n"
    ));
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate include/asyncop.h")
        .write(&mut generated);
    let header = dir.join("include").join("asyncop.h");
    if std::fs::read(&header).ok().as_deref() != Some(generated.as_slice()) {
        std::fs::create_dir_all(dir.join("include")).expect("create include/");
        std::fs::write(&header, &generated).expect("write include/asyncop.h");
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
}
