"""Testing helpers for mixlab and for code built on it: hypothesis strategies
(:mod:`mixlab.testing.strategies`) and the hypothesis profiles ``dev`` and ``ci``.

Profiles are chosen by the environment variable ``HYPOTHESIS_PROFILE``
(default ``dev``); ``ci`` is derandomized and has no deadline, so CI runs are
reproducible and not timing-sensitive.
"""

from __future__ import annotations

import os


def register_profiles() -> str:
    """Register the ``dev`` and ``ci`` profiles, load the chosen one, return its name.

    ``dev``: 50 examples, no deadline. ``ci``: 40 examples, derandomized, no
    deadline, failing blobs printed, the ``too_slow`` health check off. Call it
    once, e.g. from a ``conftest.py``.

    Returns
    -------
    str
        The loaded profile: ``$HYPOTHESIS_PROFILE``, default ``"dev"``.

    Raises
    ------
    hypothesis.errors.InvalidArgument
        If ``$HYPOTHESIS_PROFILE`` names a profile that is not registered.
    """
    from hypothesis import HealthCheck, settings

    settings.register_profile("dev", max_examples=50, deadline=None)
    settings.register_profile(
        "ci",
        max_examples=40,
        deadline=None,
        derandomize=True,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    name = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    settings.load_profile(name)
    return name
