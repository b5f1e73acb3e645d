"""The alpha-beta calibration: the fit (pure, no MPI) and ``mixlab calibrate`` on 2 real ranks."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mixlab.calibration import (
    COMPUTE_UNITS,
    allreduce_terms,
    calibrate,
    check_sizes,
    fit_alpha_beta,
    format_report,
    measure_allreduce,
    parse_sizes,
)
from mixlab.cli import main
from mixlab.errors import ParameterError
from mixlab.kernels.timing import TimingModel


def _times(procs, sizes, alpha, beta, word_bytes=8):
    """What the simulator charges: TimingModel.allreduce_cost, in seconds."""
    tm = TimingModel(alpha=alpha, beta=beta, word_bytes=word_bytes)
    return [tm.allreduce_cost(procs, d) for d in sizes]


@given(
    procs=st.integers(2, 64),
    alpha=st.floats(1e-8, 1e-3),
    beta=st.floats(1e-12, 1e-8),
    others=st.sets(st.integers(2, 1 << 24), min_size=1, max_size=5),
    word_bytes=st.sampled_from([4, 8]),
)
def test_fit_recovers_alpha_and_beta_from_the_models_own_times(procs, alpha, beta, others, word_bytes):
    sizes = [1, *sorted(others)]
    fit = fit_alpha_beta(procs, sizes, _times(procs, sizes, alpha, beta, word_bytes), word_bytes)
    assert fit.alpha == pytest.approx(alpha, rel=1e-6)
    assert fit.beta == pytest.approx(beta, rel=1e-6)
    assert np.abs(fit.relative_residuals).max() < 1e-9


def test_fit_is_nonnegative_and_its_residuals_are_relative_errors():
    sizes = [1, 1000, 100000]
    # Pure bandwidth minus a constant: ordinary least squares would give alpha < 0.
    seconds = np.array([1e-9 * 8 * d for d in sizes]) - 5e-10
    fit = fit_alpha_beta(2, sizes, seconds)
    assert fit.alpha == 0.0 and fit.beta > 0
    predicted = allreduce_terms(2, sizes) @ [fit.alpha, fit.beta]
    np.testing.assert_allclose(fit.relative_residuals, (predicted - seconds) / seconds, rtol=1e-12)
    # One time 20% too slow: the fit cannot follow it, and says so in that size's residual.
    exact = np.array(_times(4, [1, 64, 4096, 65536], 2e-6, 5e-10))
    slow = exact.copy()
    slow[2] *= 1.2
    fit = fit_alpha_beta(4, [1, 64, 4096, 65536], slow)
    assert fit.relative_residuals[2] < -0.05
    assert np.argmax(np.abs(fit.relative_residuals)) == 2


@pytest.mark.parametrize(
    "args",
    [
        (1, [1, 100], [1e-6, 2e-6]),  # one participant: nothing to fit
        (2, [100, 100], [1e-6, 2e-6]),  # one distinct size
        (2, [0, 100], [1e-6, 2e-6]),
        (2, [1.5, 100], [1e-6, 2e-6]),
        (2, [1, 100], [1e-6]),  # a time per size
        (2, [1, 100], [0.0, 2e-6]),
        (2, [1, 100], [float("nan"), 2e-6]),
        (2, "1,100", [1e-6, 2e-6]),
        (2, [1, 100], [1e-6, 2e-6], 0),  # word_bytes
    ],
)
def test_fit_refuses_bad_input(args):
    with pytest.raises(ParameterError):
        fit_alpha_beta(*args)


def test_bad_sizes_and_repeats_are_refused_before_any_mpi_call():
    for sizes, repeats in (([0], 5), ([1 << 40], 5), ([1, 2], 0), ([1, 2], 2.5)):
        with pytest.raises(ParameterError):
            measure_allreduce(None, sizes, repeats)  # no communicator is touched
    for kwargs in ({"sizes": (8,)}, {"repeats": 0}, {"dims": (0,)}, {"time_unit": 0.0}):
        with pytest.raises(ParameterError):
            calibrate(2, **kwargs)
    with pytest.raises(ParameterError, match="procs must be >= 2"):
        calibrate(1)
    assert check_sizes((1, np.int64(7)), distinct=2) == (1, 7)
    assert parse_sizes("1,4096") == (1, 4096)
    for text in ("", "1,,2", "0", "-3", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_sizes(text)


def test_cli_refuses_bad_arguments_with_status_2(capsys):
    assert main(["calibrate", "--procs", "1"]) == 2
    assert "procs must be >= 2" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "--procs", "2", "--sizes", "1,0"])
    assert exc.value.code == 2


def test_report_shows_the_fit_and_the_prediction_table():
    result = {
        "procs": 2,
        "repeats": 5,
        "alpha": 3e-6,
        "beta": 4e-10,
        "worst_relative_residual": 0.25,
        "allreduce": [
            {"d": d, "bytes": 8 * d, "measured_s": 1e-5, "fitted_s": 1.1e-5, "relative_residual": 0.1}
            for d in (1, 4096)
        ],
        "prediction": {
            "workers": 2,
            "compute_units": 1.0,
            "time_unit": 1e-3,
            "steps": 30,
            "rows": [
                {
                    "d": 1024,
                    "predicted_s": 1e-3,
                    "predicted_allreduce_s": 1e-5,
                    "measured_s": 1.5e-3,
                    "relative_error": 0.5,
                }
            ],
        },
    }
    text = format_report(result)
    assert "alpha                    3e-06 s" in text and "4e-10 s/byte" in text
    assert "worst relative residual  0.25" in text
    assert "predicted s/iter" in text and "+0.500" in text


@pytest.mark.mpi
def test_calibrate_on_two_ranks_reports_a_nonnegative_fit_and_predictions():
    out = subprocess.run(
        [sys.executable, "-m", "mixlab", "calibrate", "--procs", "2", "--sizes", "1,4096"]
        + ["--repeats", "20", "--dims", "1024", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "NUMBA_NUM_THREADS": "1"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout)
    assert r["procs"] == 2 and r["repeats"] == 20
    assert r["alpha"] >= 0 and r["beta"] >= 0 and (r["alpha"] > 0 or r["beta"] > 0)
    assert [row["d"] for row in r["allreduce"]] == [1, 4096]
    for row in r["allreduce"]:
        assert row["measured_s"] > 0 and row["bytes"] == 8 * row["d"]
        assert row["relative_residual"] == pytest.approx(
            (row["fitted_s"] - row["measured_s"]) / row["measured_s"], rel=1e-9, abs=1e-12
        )
    # Two sizes, two unknowns: the fit passes through both (unless a bound is active).
    assert r["worst_relative_residual"] < 1e-6 or min(r["alpha"], r["beta"]) == 0
    unit = r["prediction"]["time_unit"]
    [row] = r["prediction"]["rows"]
    assert row["d"] == 1024
    # The simulator charges the slept compute and the fitted allreduce of 1024 floats ...
    tm = TimingModel(alpha=r["alpha"], beta=r["beta"])
    assert row["predicted_s"] == pytest.approx(COMPUTE_UNITS * unit + tm.allreduce_cost(2, 1024), rel=1e-9)
    assert row["predicted_allreduce_s"] == pytest.approx(tm.allreduce_cost(2, 1024), rel=1e-6, abs=1e-15)
    # ... and the ranks really slept it every iteration.
    assert row["measured_s"] >= 0.95 * COMPUTE_UNITS * unit
    assert math.isclose(
        row["relative_error"], (row["measured_s"] - row["predicted_s"]) / row["predicted_s"], rel_tol=1e-9
    )
