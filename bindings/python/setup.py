"""Builds the native library into the package: ``pip install ./bindings/python``.

Why setuptools-rust with ``Binding.NoBinding``: asyncop's Python API is a pure
ctypes wrapper over the C ABI (``include/asyncop.h``), so the package needs the
crate's plain ``cdylib``, not a CPython extension module. NoBinding is
setuptools-rust's "bare library" mode: it runs ``cargo rustc --release
--crate-type cdylib`` on the repository's Cargo.toml (no PyO3, no generated
glue, no second copy of the ABI to keep in sync) and copies the result into
the package, so ``import asyncop`` works after ``pip install`` with no
environment variables. maturin's equivalent (``bindings = "cdylib"``) would
need the crate to carry Python metadata; a hand-written build hook would
re-implement what setuptools-rust already does (finding the artifact in
cargo's JSON messages, platform tags, atomic copy).

The one adjustment: setuptools-rust names the file like an extension module
(``libasyncop.cpython-311-x86_64-linux-gnu.so``). It is not one, and Python
must never try to import it, so ``build_rust`` below installs it under the
library's own name, ``libasyncop.so``, the name ``asyncop/_native.py`` loads.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools_rust import Binding, RustExtension, build_rust

HERE = os.path.dirname(os.path.abspath(__file__))
# The crate lives two levels up, at the repository root (bindings/python/ -> ./).
CARGO_TOML = os.path.relpath(os.path.join(HERE, "..", "..", "Cargo.toml"))
LIBRARY_FILE = {"darwin": "libasyncop.dylib", "win32": "asyncop.dll"}.get(sys.platform, "libasyncop.so")


class build_rust_plain_name(build_rust):  # noqa: N801 - setuptools command naming
    """setuptools-rust's build_rust, installing the cdylib as ``asyncop/libasyncop.so``."""

    def get_dylib_ext_path(self, ext: RustExtension, target_fname: str) -> str:
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), LIBRARY_FILE)


setup(
    rust_extensions=[
        RustExtension(
            "asyncop.libasyncop",
            path=CARGO_TOML,
            binding=Binding.NoBinding,
            debug=False,  # always a release build, even for `pip install -e`
            # --locked: build exactly the dependency versions of Cargo.lock.
            cargo_manifest_args=["--locked"],
        )
    ],
    cmdclass={"build_rust": build_rust_plain_name},
    zip_safe=False,
)
