"""The binding surface: every header function is bound with the right prototype
(or deliberately unwrapped), the library is checked when it loads."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _support import HEADER, REPO

import asyncop
from asyncop import _native
from asyncop._native import EVENT_FN, LeaseFields

needs_header = pytest.mark.skipif(not HEADER.exists(), reason="include/asyncop.h is not beside this checkout")

# C type in the header -> the ctypes type _PROTOS must use.
_P = ctypes.POINTER
_C_TYPES = {
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "asyncop_status": ctypes.c_int32,
    "asyncop_status *": _P(ctypes.c_int32),
    "const char *": ctypes.c_char_p,
    "char *": ctypes.c_char_p,
    "const uint8_t *": ctypes.c_void_p,
    "uint8_t *": ctypes.c_void_p,
    "int32_t *": _P(ctypes.c_int32),
    "const int32_t *": _P(ctypes.c_int32),
    "int64_t *": _P(ctypes.c_int64),
    "size_t *": _P(ctypes.c_size_t),
    "void *": ctypes.c_void_p,
    "asyncop_event_fn": EVENT_FN,
    "asyncop_worker_handler": ctypes.c_void_p,  # bound for the ABI check only
    # the one struct the caller owns (not a handle)
    "struct asyncop_lease_fields *": _P(LeaseFields),
}


def _ctype(c_type: str) -> object:
    c_type = " ".join(c_type.replace("*", " * ").split()).replace(" *", " *").replace("* ", "*")
    c_type = re.sub(r"\s*\*", " *", c_type).replace("* *", "**").strip()
    if c_type in _C_TYPES:
        return _C_TYPES[c_type]
    if re.fullmatch(r"(const )?struct asyncop_[a-z_]+ \*", c_type):
        return ctypes.c_void_p  # a handle
    if re.fullmatch(r"(const )?struct asyncop_[a-z_]+ \*\*", c_type) or re.fullmatch(
        r"const struct asyncop_[a-z_]+ \*const \*", c_type
    ):
        return _P(ctypes.c_void_p)  # an out-handle, or an array of handles
    return _C_TYPES[c_type]


def header_functions() -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter types]) for every function of the header.

    A declaration starts in column 0 and contains ``asyncop_name(``."""
    text = HEADER.read_text()
    lines = text.splitlines()
    names = [
        m.group(1)
        for line in lines
        if line[:1] not in ("", " ", "\t", "#", "/", "*")
        for m in [re.search(r"\b(asyncop_[a-z0-9_]+)\(", line)]
        if m
    ]
    flat = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    out = {}
    for name in names:
        m = re.search(r"([A-Za-z_][A-Za-z0-9_ ]*?\**)\s*\b" + name + r"\(([^)]*)\)\s*;", flat)
        assert m, name
        ret = m.group(1).replace("ASYNCOP_MUST_USE", "").strip()
        params = [] if m.group(2).strip() == "void" else [p.strip() for p in m.group(2).split(",")]
        # drop each parameter's name: the last identifier
        types = [re.sub(r"\b[a-z_][a-z0-9_]*$", "", p).strip() for p in params]
        out[name] = (ret, types)
    return out


@needs_header
def test_every_header_function_is_bound_or_deliberately_unwrapped() -> None:
    functions = header_functions()
    assert len(functions) >= 80
    missing = sorted(set(functions) - set(_native._PROTOS) - set(_native._UNWRAPPED))
    assert not missing, f"header functions neither in _PROTOS nor in _UNWRAPPED: {missing}"
    stale = sorted((set(_native._PROTOS) | set(_native._UNWRAPPED)) - set(functions))
    assert not stale, f"bound functions that the header no longer has: {stale}"


@needs_header
def test_prototypes_match_the_header() -> None:
    for name, (ret, params) in header_functions().items():
        if name not in _native._PROTOS:
            continue
        restype, argtypes = _native._PROTOS[name]
        fn = getattr(_native.lib, name)
        assert fn.restype is restype, name
        assert fn.argtypes is not None and list(fn.argtypes) == list(argtypes), name
        assert len(argtypes) == len(params), f"{name}: {len(argtypes)} argtypes for {params}"
        assert restype is _ctype(ret), f"{name} returns {ret}"
        for i, (c_type, py_type) in enumerate(zip(params, argtypes)):
            assert py_type is _ctype(c_type), f"{name} parameter {i}: {c_type} bound as {py_type}"


def test_every_bound_function_has_restype_argtypes_and_the_right_errcheck() -> None:
    for name, (restype, _argtypes) in _native._PROTOS.items():
        fn = getattr(_native.lib, name)
        assert fn.restype is restype and fn.argtypes is not None, name
        errcheck = getattr(fn, "errcheck", None)
        if name.endswith(("_close", "_free")):
            assert errcheck is None, f"{name} must never raise (finalizers call it)"
        elif restype is ctypes.c_int32 and name != "asyncop_status_hresult":
            assert errcheck in (_native._check, _native._check_sized), name


def test_unwrapped_entries_give_a_reason() -> None:
    for name, reason in _native._UNWRAPPED.items():
        assert name.startswith("asyncop_") and reason.strip(), name


def test_release_functions_accept_null_and_report_double_release() -> None:
    assert _native.lib.asyncop_queue_close(None) == 0
    assert _native.lib.asyncop_lease_free(None) == 0
    options = ctypes.c_void_p()
    _native.lib.asyncop_options_new(ctypes.byref(options))
    assert _native.lib.asyncop_options_free(options) == 0
    assert _native.lib.asyncop_options_free(options) == asyncop.ErrorCode.CLOSED_HANDLE  # no raise


def test_versions() -> None:
    assert asyncop.ABI_VERSION == 2 == _native.lib.asyncop_abi_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", asyncop.library_version())
    cargo = REPO / "Cargo.toml"
    if cargo.exists():
        version = re.search(r'^version = "([^"]+)"', cargo.read_text(), re.M)
        assert version and asyncop.library_version() == version.group(1)
    assert asyncop.status_name(8) == "ASYNCOP_ERR_NOT_FOUND"
    assert asyncop.status_name(-2147201280) == "ASYNCOP_ERR_CANNOT_CANCEL"
    assert asyncop.status_name(12345) == "unknown"


def test_error_classes_cover_every_status_code() -> None:
    codes = {v for k, v in vars(asyncop.ErrorCode).items() if k.isupper()}
    for code in codes - {0, asyncop.ErrorCode.BUFFER_TOO_SMALL}:
        name = asyncop.status_name(code)
        assert name != "unknown", code
        assert _native.lib.asyncop_status_hresult(code) == (code if code < 0 else 0), name


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "ASYNCOP_LIBRARY"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=60)


def test_missing_library_path_is_an_import_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "libasyncop.so"
    r = _run_python("import asyncop", ASYNCOP_LIBRARY=str(missing))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and str(missing) in r.stderr


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_abi_mismatch_is_an_import_error_naming_path_and_both_numbers(tmp_path: Path) -> None:
    src = tmp_path / "fake.c"
    src.write_text("unsigned int asyncop_abi_version(void) { return 999; }\n")
    lib = tmp_path / "libfake.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    r = _run_python("import asyncop", ASYNCOP_LIBRARY=str(lib))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError"), r.stderr
    assert str(lib) in last and "999" in last and "ABI version 2" in last


def test_the_installed_layout_loads_the_library_beside_the_module() -> None:
    """Without ASYNCOP_LIBRARY, asyncop loads libasyncop.so from its own directory
    (the pip-installed package), else from the loader path."""
    code = textwrap.dedent(
        """
        import os, asyncop
        here = os.path.dirname(asyncop.__file__)
        beside = os.path.join(here, "libasyncop.so")
        print(os.path.exists(beside), asyncop.library_path == beside)
        """
    )
    r = _run_python(code)
    if r.returncode != 0:
        assert "ImportError" in r.stderr and "ASYNCOP_LIBRARY" in r.stderr  # a source checkout without a build
        pytest.skip("asyncop is not pip-installed here (no libasyncop.so in the package)")
    exists, loaded_beside = r.stdout.split()
    if exists == "True":
        assert loaded_beside == "True"
