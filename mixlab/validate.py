"""Small argument checks shared by every layer; each raises a ParameterError
whose message names the violated condition and the offending value."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from mixlab.errors import ParameterError


def require_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int``; it must be integral, ``>= minimum`` and ``<= maximum``.

    Parameters
    ----------
    name : str
        The argument's name, quoted in the error message.
    value : int
        The value to check (NumPy integers too); ``bool`` and floats are refused,
        even integral ones.
    minimum : int, optional
        Smallest accepted value (default: no lower bound).
    maximum : int, optional
        Largest accepted value (default: no upper bound).

    Returns
    -------
    int
        ``value`` as a Python ``int``.

    Raises
    ------
    ParameterError
        If ``value`` is not an integer or lies outside [minimum, maximum].

    Examples
    --------
    >>> require_int("n", np.int64(8), minimum=2)
    8
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ParameterError(f"{name} must be <= {maximum}, got {value}")
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
    """Return ``value`` as a finite ``float`` inside the stated interval.

    Parameters
    ----------
    name : str
        The argument's name, quoted in the error message.
    value : float-like
        Anything ``float()`` accepts; NaN and infinities are refused.
    low : float, optional
        Lower end of the interval (default: none).
    high : float, optional
        Upper end of the interval (default: none).
    low_open : bool, default False
        Exclude ``low`` itself (``value > low``).
    high_open : bool, default False
        Exclude ``high`` itself (``value < high``).

    Returns
    -------
    float
        ``value`` as a finite Python ``float``.

    Raises
    ------
    ParameterError
        If ``value`` is not a real number, not finite, or outside the interval.

    Examples
    --------
    >>> require_real("eta", "0.5", low=0, low_open=True)
    0.5
    """
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
    """Check that ``value`` is one of ``choices``; the message lists the valid ones.

    Parameters
    ----------
    name : str
        What is chosen (e.g. ``"topology"``), quoted in the error message.
    value : str
        The user's choice.
    choices : iterable of str
        The valid choices (a dict contributes its keys).

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    ParameterError
        If ``value`` is not among ``choices``.

    Examples
    --------
    >>> require_choice("mode", "push", ("push", "exchange"))
    'push'
    """
    choices = tuple(choices)
    if value not in choices:
        raise ParameterError(f"unknown {name} {value!r}; valid: {', '.join(choices)}")
    return value


def require_finite(name: str, array) -> None:
    """Check that every entry of ``array`` is finite (no NaN, no inf).

    Parameters
    ----------
    name : str
        The array's name, quoted in the error message.
    array : array_like
        Any shape; an empty array passes.

    Raises
    ------
    ParameterError
        At the first non-finite entry, naming its index and value.

    Examples
    --------
    >>> require_finite("X", np.zeros((2, 3)))
    >>> require_finite("X", [1.0, np.nan])
    Traceback (most recent call last):
    ...
    mixlab.errors.ParameterError: X must be finite; entry (1,) is nan
    """
    a = np.asarray(array)
    if a.size and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ParameterError(f"{name} must be finite; entry {tuple(int(i) for i in bad)} is {a[tuple(bad)]}")
