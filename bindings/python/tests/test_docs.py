"""Every public name has a docstring and the package ships py.typed."""

from __future__ import annotations

import inspect
import os

import asyncop


def test_every_public_name_and_method_is_documented() -> None:
    undocumented = []
    for name in asyncop.__all__:
        obj = getattr(asyncop, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__",):
                    continue
                if attr == "__init__" and obj.__module__.startswith("asyncop"):
                    continue  # documented in the class docstring
                if callable(member) or isinstance(member, property):
                    doc = getattr(member, "__doc__", None)
                    if not (doc or "").strip():
                        undocumented.append(f"{name}.{attr}")
    assert undocumented == []


def test_py_typed_is_shipped_beside_the_package() -> None:
    assert os.path.exists(os.path.join(os.path.dirname(asyncop.__file__), "py.typed"))
