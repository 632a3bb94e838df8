"""Builds the package: ``bindings/python/build-dist`` (wheel + sdist), or ``pip install ./bindings/python``.

Why setuptools-rust with ``Binding.NoBinding``: asyncop's Python API is a pure
ctypes wrapper over the C ABI (``include/asyncop.h``), so the package needs the
crate's plain ``cdylib``, not a CPython extension module. NoBinding is
setuptools-rust's "bare library" mode: it runs ``cargo rustc --release
--crate-type cdylib`` on the crate's Cargo.toml (no PyO3, no generated glue, no
second copy of the ABI to keep in sync) and copies the result into the package,
so ``import asyncop`` works after ``pip install`` with no environment variables.
maturin's equivalents need the crate to carry Python metadata (``cdylib``) or
generate a cffi module (``cffi``); a hand-written build hook would re-implement
what setuptools-rust already does (finding the artifact in cargo's JSON
messages, platform tags, atomic copy).

Three adjustments, each a small command subclass below:

- ``build_rust``: setuptools-rust names the file like an extension module
  (``libasyncop.cpython-311-x86_64-linux-gnu.so``). It is not one, and Python
  must never import it, so it is installed as ``asyncop/libasyncop.so``, the
  name ``asyncop/_native.py`` loads.
- ``bdist_wheel``: the wheel is tagged ``py3-none-<platform>``. ctypes needs no
  CPython ABI, so one wheel serves every CPython >= 3.11; only the platform
  tag stays (the library is native). ``build-dist`` then runs ``auditwheel
  repair``, which checks the library's symbol versions and renames the
  platform ``linux_x86_64`` to the manylinux tag they allow.
- ``sdist``: the crate lives at the repository root, outside this directory,
  so the sdist carries a copy of it under ``rust/`` (Cargo.toml without the
  workspace's other members and benches, Cargo.lock pruned to the library's
  dependencies with their pinned versions unchanged, ``src/``). Building from
  the unpacked sdist uses that copy; building from a checkout uses ``../../``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension, build_rust

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
# An unpacked sdist carries the crate in rust/; a checkout has it at the repository root.
BUNDLED_CRATE = os.path.join(HERE, "rust")
CRATE_DIR = BUNDLED_CRATE if os.path.exists(os.path.join(BUNDLED_CRATE, "Cargo.toml")) else REPO
CARGO_TOML = os.path.relpath(os.path.join(CRATE_DIR, "Cargo.toml"))
LIBRARY_FILE = {"darwin": "libasyncop.dylib", "win32": "asyncop.dll"}.get(sys.platform, "libasyncop.so")
# Cargo.toml tables the sdist's copy drops: the workspace (its other members are not
# shipped) and the benches (their sources are not shipped).
DROPPED_TABLES = ("[workspace]", "[[bench]]")


class build_rust_plain_name(build_rust):  # noqa: N801 - setuptools command naming
    """setuptools-rust's build_rust, installing the cdylib as ``asyncop/libasyncop.so``."""

    def get_dylib_ext_path(self, ext: RustExtension, target_fname: str) -> str:
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), LIBRARY_FILE)


class bdist_wheel_any_python(bdist_wheel):  # noqa: N801 - setuptools command naming
    """A ``py3-none-<platform>`` wheel: any CPython 3, no ABI, this platform."""

    def get_tag(self) -> tuple[str, str, str]:
        _, _, plat = super().get_tag()
        return "py3", "none", plat


def standalone_manifest(text: str) -> str:
    """The root Cargo.toml without the tables naming files the sdist does not ship,
    and with an empty ``[workspace]`` so the copy is its own workspace."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            dropping = stripped in DROPPED_TABLES
        if not dropping:
            kept.append(line)
    return "\n".join(kept).rstrip() + "\n\n# The crate alone, as shipped in the Python sdist.\n[workspace]\n"


class sdist_with_crate(sdist):  # noqa: N801 - setuptools command naming
    """The sdist, plus the crate's sources under ``rust/`` so it builds from source."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        dest = os.path.join(base_dir, "rust")
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.makedirs(dest)
        shutil.copytree(os.path.join(CRATE_DIR, "src"), os.path.join(dest, "src"))
        shutil.copy2(os.path.join(CRATE_DIR, "Cargo.lock"), os.path.join(dest, "Cargo.lock"))
        with open(os.path.join(CRATE_DIR, "Cargo.toml"), encoding="utf-8") as f:
            manifest = standalone_manifest(f.read())
        with open(os.path.join(dest, "Cargo.toml"), "w", encoding="utf-8") as f:
            f.write(manifest)
        # Resolving the copy rewrites its Cargo.lock without the other members' packages;
        # the versions of what stays are the pinned ones (--offline: nothing is upgraded).
        subprocess.run(
            ["cargo", "metadata", "--offline", "--quiet", "--format-version", "1"],
            cwd=dest,
            check=True,
            stdout=subprocess.DEVNULL,
        )


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
    cmdclass={
        "build_rust": build_rust_plain_name,
        "bdist_wheel": bdist_wheel_any_python,
        "sdist": sdist_with_crate,
    },
    zip_safe=False,
)
