"""The compiled kernels (``pipeline/_native.c``), when the install built them.

Each kernel has a pure-Python twin in the stage that uses it, with the same results (the tests
compare the two on real texts). ``available()`` tells which one runs; ``pipeline native`` prints
it. The build is optional so an install without a C compiler still works, only slower.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

_module: ModuleType | None
try:
    from pipeline import _native as _module
except ImportError as exc:  # not built (no compiler at install time) or built for another Python
    _module = None
    _why = f"{type(exc).__name__}: {exc}"
else:
    _why = ""


def module() -> ModuleType | None:
    """The compiled module, or None when it is not built."""
    return _module


def function(name: str) -> Callable[..., Any] | None:
    """The compiled kernel ``name``, or None when the module is not built or predates it (a
    checkout not rebuilt since the kernel was added): the caller then runs the Python twin."""
    found: Callable[..., Any] | None = getattr(_module, name, None)
    return found


def available() -> bool:
    return _module is not None


def status() -> str:
    """One line for people: which kernels run, and why not the compiled ones."""
    if _module is not None:
        return f"compiled kernels in use ({_module.__file__})"
    return f"compiled kernels not built; the pure-Python versions run ({_why})"
