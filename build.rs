//! Gives the C library (the cdylib, `libasyncop.so`) its SONAME, `libasyncop.so.<major>`, so a
//! program linked against it records `NEEDED libasyncop.so.0` and keeps working across
//! compatible upgrades of the installed `libasyncop.so.0.x.y` (`make install`, see Makefile).
//!
//! Only the cdylib gets the flag (`rustc-cdylib-link-arg`): the rlib, the staticlib, tests and
//! the workspace's binaries link as before. The header is not generated here: scripts/gen-header
//! writes the checked-in include/asyncop.h.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // ELF targets only: macOS uses install names and Windows DLLs have no SONAME.
    if matches!(
        target_os.as_str(),
        "linux"
            | "android"
            | "freebsd"
            | "netbsd"
            | "openbsd"
            | "dragonfly"
            | "illumos"
            | "solaris"
    ) {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libasyncop.so.{major}");
    }
}
