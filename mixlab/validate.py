"""Small argument checks shared by every layer; each raises a ParameterError
whose message names the violated condition and the offending value."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from mixlab.errors import ParameterError


def require_int(name: str, value, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; it must be integral and ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value}")
    return value


def require_real(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` inside the stated interval."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(x):
        raise ParameterError(f"{name} must be finite, got {x}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ParameterError(f"{name} must be {'>' if low_open else '>='} {low}, got {x}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ParameterError(f"{name} must be {'<' if high_open else '<='} {high}, got {x}")
    return x


def require_choice(name: str, value, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices``; the message lists the valid ones."""
    choices = tuple(choices)
    if value not in choices:
        raise ParameterError(f"unknown {name} {value!r}; valid: {', '.join(choices)}")
    return value


def require_finite(name: str, array) -> None:
    """Every entry of ``array`` must be finite (no NaN, no inf)."""
    a = np.asarray(array)
    if a.size and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ParameterError(f"{name} must be finite; entry {tuple(int(i) for i in bad)} is {a[tuple(bad)]}")
