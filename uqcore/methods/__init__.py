"""Every predictive method behind one interface (``base.Method``), one file each.

Adding a method is one file in this folder: a ``Method`` subclass with ``@register`` and an ``order``.
The files are imported here, so the registry (``REGISTRY``, ``NAMES``) lists every method in order.
``nets`` holds the networks and ``training`` how they are trained.
"""
from __future__ import annotations

import importlib
import pkgutil

from uqcore.methods.base import REGISTRY, Method, Parts, Prediction, register

_NOT_METHODS = {"base", "nets", "training"}
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in _NOT_METHODS:
        importlib.import_module(f"{__name__}.{_info.name}")

NAMES: tuple[str, ...] = tuple(sorted(REGISTRY, key=lambda n: REGISTRY[n].order))
for _name in NAMES:  # the registry in the same order
    REGISTRY[_name] = REGISTRY.pop(_name)
DEFAULT_METHOD = "ensemble"  # the method pages open on (the headline reads the reader: uqcore.verdict)


def make_methods(parts: Parts, thresholds: dict[str, float] | None = None) -> dict[str, Method]:
    methods = {name: REGISTRY[name](parts) for name in NAMES
               if not REGISTRY[name].requires or getattr(parts, REGISTRY[name].requires) is not None}
    for name, t in (thresholds or {}).items():
        if name in methods:
            methods[name].threshold_ = float(t)
    return methods


__all__ = ["DEFAULT_METHOD", "NAMES", "REGISTRY", "Method", "Parts", "Prediction", "make_methods", "register"]
