"""Step-size schedules eta_t for t = 0..steps-1.

>>> step_sizes(1.0, 4, "inverse_sqrt").round(3).tolist()
[1.0, 0.707, 0.577, 0.5]
"""

from __future__ import annotations

import numpy as np

from mixlab.validate import require_choice, require_int, require_real
from mixlab.vocabulary import LR_SCHEDULES


def step_sizes(
    lr: float, steps: int, schedule: str = "constant", *, decay_every: int | None = None, decay: float = 0.1
) -> np.ndarray:
    """Step sizes eta_t, t = 0..steps-1, of a named schedule.

    ``constant``: eta_t = lr; ``cosine``: lr (1 + cos(pi t / steps)) / 2, from lr
    towards 0; ``inverse_sqrt``: lr / sqrt(t + 1); ``step``: lr decay^floor(t /
    decay_every).

    Parameters
    ----------
    lr : float
        Initial step size eta_0 > 0.
    steps : int
        Number of iterations (>= 1).
    schedule : {"constant", "cosine", "inverse_sqrt", "step"}
        The schedule (default ``"constant"``).
    decay_every : int, optional
        ``step`` only: iterations between decays (>= 1); default ceil(steps / 3), so
        that a run decays twice.
    decay : float
        ``step`` only: factor in (0, 1] applied at every decay (default 0.1).

    Returns
    -------
    numpy.ndarray
        float64 (steps,): eta_0, ..., eta_{steps-1}.

    Raises
    ------
    ParameterError
        For lr <= 0, steps < 1, an unknown schedule, or (``step``) decay_every < 1
        or decay outside (0, 1].

    Examples
    --------
    >>> import mixlab as ml
    >>> ml.step_sizes(0.1, 6, "step", decay_every=2, decay=0.5).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    >>> ml.step_sizes(1.0, 6, "step").tolist()
    [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    >>> ml.step_sizes(1.0, 4, "cosine").round(3).tolist()
    [1.0, 0.854, 0.5, 0.146]

    References
    ----------
    Cosine annealing: I. Loshchilov and F. Hutter, "SGDR: Stochastic gradient descent
    with warm restarts", ICLR 2017. The convergence bounds of
    :mod:`mixlab.theory.convergence` assume a constant step size (as in Koloskova et
    al., "A unified theory of decentralized SGD with changing topology and local
    updates", ICML 2020).
    """
    lr = require_real("step size", lr, low=0, low_open=True)
    steps = require_int("steps", steps, minimum=1)
    require_choice("step-size schedule", schedule, LR_SCHEDULES)
    t = np.arange(steps, dtype=np.float64)
    if schedule == "constant":
        return np.full(steps, lr)
    if schedule == "cosine":
        return lr * 0.5 * (1 + np.cos(np.pi * t / steps))
    if schedule == "inverse_sqrt":
        return lr / np.sqrt(t + 1)
    every = -(-steps // 3) if decay_every is None else require_int("decay_every", decay_every, minimum=1)
    return lr * require_real("decay", decay, low=0, high=1, low_open=True) ** (t // every)
