"""A page's view as URL query parameters: one spec per parameter, read back with plain-words problems.

    SPECS = (choice("method", METHODS, "ensemble"), number("T", 1.0, 0.2, 5.0, digits=2))
    view, problems = read(st.query_params.to_dict(), SPECS)    # never raises on user input
    st.query_params.from_dict(to_params(view, SPECS))          # after the widgets

A value that is missing takes its default silently; one that is there but unusable takes its default and
adds one problem ("unknown method 'x' (choose from ...)") for the page to show as a warning.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Param:
    name: str  # the query parameter
    default: Any
    parse: Callable[[str], Any]  # raises ValueError when the text is not a value
    write: Callable[[Any], str]
    problem: str  # "{raw!r}" is the text given
    optional: bool = False  # left out of the URL while it has its default
    clean: Callable[[Any], Any] | None = None  # tidies a kept value (e.g. drops unknown items) before it is checked

    def read(self, raw: str):
        """(value, None) or (default, problem)."""
        try:
            return self.parse(raw), None
        except (ValueError, TypeError):
            return self.default, self.problem.format(raw=raw)


def choice(name: str, options, default, *, what: str | None = None) -> Param:
    """One of ``options`` (compared as text; the option itself is returned)."""
    options = list(options)
    by_text = {str(o): o for o in options}

    def parse(raw: str):
        if raw not in by_text:
            raise ValueError(raw)
        return by_text[raw]

    shown = ", ".join(map(str, options[:12])) + (", ..." if len(options) > 12 else "")
    return Param(name, default, parse, str, f"unknown {what or name} {{raw!r}} (choose from {shown})")


def number(name: str, default: float, low: float, high: float, *, digits: int | None = None,
           what: str | None = None) -> Param:
    """A finite number in [low, high], rounded to ``digits`` decimals when given."""
    def parse(raw: str) -> float:
        v = float(raw)
        if not math.isfinite(v) or not low <= v <= high:
            raise ValueError(raw)
        return round(v, digits) if digits is not None else v

    return Param(name, default, parse, lambda v: f"{v:g}",
                 f"{what or name}={{raw!r}} is not a number between {low:g} and {high:g}")


def integer(name: str, default: int, low: int, high: int, *, what: str | None = None, optional: bool = False) -> Param:
    def parse(raw: str) -> int:
        v = int(raw)
        if not low <= v <= high:
            raise ValueError(raw)
        return v

    return Param(name, default, parse, str, f"{what or name}={{raw!r}} is not a whole number between {low} and {high}",
                 optional)


def subset(name: str, options, default, *, what: str | None = None) -> Param:
    """Several of ``options``, comma-separated in the URL ("test,letters"); unknown names are a problem."""
    options = [str(o) for o in options]

    def parse(raw: str) -> list[str]:
        items = [s for s in (p.strip() for p in raw.split(",")) if s]
        bad = [s for s in items if s not in options]
        if bad:
            raise ValueError(raw)
        return list(dict.fromkeys(items))

    def clean(value):
        return [v for v in dict.fromkeys(value) if v in options] if isinstance(value, (list, tuple)) else value

    return Param(name, list(default), parse, lambda v: ",".join(v),
                 f"{what or name}={{raw!r}} names a set that is not here (choose from {', '.join(options)})",
                 clean=clean)


def pair(name: str, default: tuple, low: float, high: float, *, whole: bool = False, what: str | None = None) -> Param:
    """Two numbers "a,b" in [low, high] with a <= b (a range), or any two whole numbers there (``whole``,
    e.g. a confusion-matrix cell "7,2", where order is free)."""
    cast = int if whole else float

    def parse(raw: str) -> tuple:
        a, b = (cast(p) for p in raw.split(","))
        if not all(math.isfinite(v) and low <= v <= high for v in (a, b)) or (not whole and a > b):
            raise ValueError(raw)
        return a, b

    kind = "two whole numbers" if whole else "two numbers (low,high)"
    return Param(name, tuple(default), parse, lambda v: ",".join(f"{x:g}" for x in v),
                 f"{what or name}={{raw!r}} is not {kind} between {low:g} and {high:g}")


def read(params: dict, specs) -> tuple[dict, list[str]]:
    """``{name: value}`` for every spec (defaults where missing or bad) and the problems, in spec order."""
    view, problems = {}, []
    for spec in specs:
        if spec.name not in params:
            view[spec.name] = spec.default
            continue
        raw = params[spec.name]
        raw = str(raw[-1] if isinstance(raw, (list, tuple)) and raw else raw)
        view[spec.name], problem = spec.read(raw)
        if problem:
            problems.append(problem)
    return view, problems


def to_params(view: dict, specs) -> dict[str, str]:
    """The query parameters that reopen ``view`` (every spec's value, written as text)."""
    return {spec.name: spec.write(view[spec.name]) for spec in specs
            if view.get(spec.name) is not None and not (spec.optional and view[spec.name] == spec.default)}


def warning_text(problems: list[str]) -> str:
    return ("This link has values this page cannot use, so defaults are shown instead: " + "; ".join(problems) + ".")
