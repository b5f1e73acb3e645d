import json
import math
import subprocess
import sys

import numpy as np
import pytest
from test_cli import assert_cli_error, run_json
from test_version_age import complete_rates

from mixlab.age_and_capacity import capacity
from mixlab.errors import ParameterError
from mixlab.theory import version_age as va


def test_age_json_symmetric(capsys):
    out = run_json(capsys, "age", "--topology", "complete", "-n", "20", "--events", "200000", "--json")
    assert {"n", "model", "exact", "mc_mean", "mc_stderr"} <= out.keys()
    assert out["exact"] == pytest.approx(va.complete_graph_age(20))
    assert abs(out["mc_mean"] - out["exact"]) <= 4 * out["mc_stderr"]


def test_age_user_model_exchange(capsys):
    out = run_json(
        capsys,
        "age",
        "-n",
        "50",
        "--model",
        "user",
        "--mode",
        "exchange",
        "--gossip-rate",
        "2",
        "--update-rate",
        "3",
        "--method",
        "exact",
        "--json",
    )
    assert out["exact"] == pytest.approx(3 / 2 * va.harmonic(49) / 2)
    assert out["mc_mean"] is None and out["mc_stderr"] is None


def test_age_not_computable_exactly_is_null(capsys):
    out = run_json(
        capsys, "age", "--topology", "torus", "-n", "36", "--method", "both", "--events", "20000", "--json"
    )
    assert out["exact"] is None and out["mc_mean"] > 0


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_age_rates_file_gives_lists(tmp_path, capsys, suffix):
    R = complete_rates(5)
    R[0, 1:] = [2.0, 0.5, 0.5, 0.1, 0.1]  # asymmetric source rates
    path = tmp_path / f"rates{suffix}"
    np.save(path, R) if suffix == ".npy" else np.savetxt(path, R, delimiter=",")
    out = run_json(capsys, "age", "--rates", str(path), "--events", "300000", "--json")
    assert len(out["exact"]) == len(out["mc_mean"]) == len(out["mc_stderr"]) == 5
    assert out["exact"][0] < out["exact"][4]
    for e, m, s in zip(out["exact"], out["mc_mean"], out["mc_stderr"], strict=True):
        assert abs(e - m) <= 4 * s


CAPACITY_KEYS = ["n", "target", "update_rate", "mode", "uniform_lambda", "opportunistic_lambda", "ratio"]
MEASURED_RUNS = ("uniform", "opportunistic", "opportunistic_at_uniform")
Z = 4.5


def test_capacity_json(capsys):
    out = run_json(capsys, "capacity", "-n", "1000", "--target", "2", "--json")
    assert list(out) == CAPACITY_KEYS  # without --measure: formulas only
    assert out["uniform_lambda"] == pytest.approx(va.harmonic(999) / 2)
    assert out["opportunistic_lambda"] == pytest.approx(999 / 2)


@pytest.fixture(scope="module")
def measured():
    """capacity(n, s* = 1, measure=True), default events, seed 0."""
    return {n: capacity(n, 1.0, measure=True) for n in (10, 100, 1000)}


def assert_within(out, run, expected, relative=None):
    """Within Z standard errors, and (``relative``) within that fraction of ``expected``."""
    value, stderr = out[f"{run}_measured"], out[f"{run}_measured_stderr"]
    assert abs(value - expected) <= Z * stderr, (run, value, expected, stderr)
    if relative is not None:
        assert abs(value - expected) <= relative * expected, (run, value, expected, relative)


@pytest.mark.parametrize("n", [10, 1000])
def test_capacity_thresholds_measured(measured, n):
    """The time-age estimator resolves every measured staleness to 2% (one standard
    error) at default length, so each is also held within 5% of its prediction."""
    out = measured[n]
    assert out["measure_estimator"] == "time"
    assert_within(out, "uniform", 1.0, relative=0.05)
    assert_within(out, "opportunistic", 1.0, relative=0.05)
    assert out["opportunistic_at_uniform_predicted"] == pytest.approx((n - 1) / va.harmonic(n - 1))
    assert_within(out, "opportunistic_at_uniform", out["opportunistic_at_uniform_predicted"], relative=0.05)
    for run, expected in [
        ("uniform", 1.0),
        ("opportunistic", 1.0),
        ("opportunistic_at_uniform", out["opportunistic_at_uniform_predicted"]),
    ]:
        assert out[f"{run}_measured_stderr"] < 0.02 * expected, run
    if n == 1000:
        assert out["opportunistic_at_uniform_measured"] > 3 * out["target"]


def test_owner_only_staleness_at_the_uniform_threshold_grows_with_n(measured):
    ratio = [
        measured[n]["opportunistic_at_uniform_measured"] / measured[n]["target"] for n in (10, 100, 1000)
    ]
    assert ratio == sorted(ratio) and ratio[2] > 5 * ratio[1] > 25 * ratio[0]


def test_capacity_measured_exchange_and_update_rate():
    out = capacity(50, 1.5, update_rate=2.0, mode="exchange", measure=True, events=400_000, seed=1)
    assert_within(out, "uniform", 1.5, relative=0.05)  # the threshold accounts for the halving
    assert_within(out, "opportunistic", 1.5, relative=0.05)
    assert out["opportunistic_at_uniform_predicted"] == pytest.approx(2 * 1.5 * 49 / va.harmonic(49))
    assert_within(out, "opportunistic_at_uniform", out["opportunistic_at_uniform_predicted"], relative=0.05)


def test_capacity_measured_is_reproducible():
    runs = [capacity(100, 1.0, measure=True, events=200_000, seed=s) for s in (7, 7, 8)]
    assert runs[0] == runs[1] != runs[2]


def test_capacity_measure_json(capsys):
    out = run_json(
        capsys,
        "capacity",
        "-n",
        "200",
        "--target",
        "2",
        "--measure",
        "--events",
        "300000",
        "--seed",
        "3",
        "--json",
    )
    measured = [f"{run}_measured{tail}" for run in MEASURED_RUNS for tail in ("", "_stderr")]
    assert (
        list(out)
        == CAPACITY_KEYS
        + ["measure_events", "measure_seed", "measure_estimator", "opportunistic_at_uniform_predicted"]
        + measured
    )
    assert out["measure_events"] == 300_000 and out["measure_seed"] == 3
    assert out["measure_estimator"] == "time"
    assert all(
        isinstance(v, (int, float)) and math.isfinite(v)
        for k, v in out.items()
        if k not in ("mode", "measure_estimator")
    )
    assert all(out[f"{run}_measured_stderr"] > 0 for run in MEASURED_RUNS)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"events": 0}, "events must be >= 1, got 0"),
        ({"events": 2.5}, "events must be an integer, got 2.5"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
    ],
)
def test_capacity_bad_measure_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        capacity(10, 1.0, measure=True, **kwargs)


@pytest.mark.parametrize(
    "argv,match",
    [
        (["age", "--topology", "complete"], "age needs -n N"),
        (["age", "-n", "10", "--gossip-rate", "-1"], "gossip rate must be > 0"),
        (["age", "-n", "10", "--update-rate", "nan"], "update rate must be finite, got nan"),
        (["age", "-n", "10", "--method", "guess"], "invalid choice: 'guess'"),
        (["age", "--rates", "rates.txt"], r"rates file 'rates.txt' must end in .npy or .csv"),
        (["capacity", "-n", "100", "--target", "0"], r"target staleness s\* must be > 0, got 0.0"),
        (["capacity", "-n", "1"], "n must be >= 2, got 1"),
        (["capacity", "-n", "10", "--measure", "--events", "0"], "argument --events: must be >= 1, got 0"),
    ],
)
def test_age_bad_arguments_exit_2(argv, match, tmp_path):
    assert_cli_error(argv, match, cwd=tmp_path)


def test_age_unreachable_node_in_rates_file(tmp_path):
    path = tmp_path / "r.npy"
    np.save(path, np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]]))
    proc = subprocess.run(
        [sys.executable, "-m", "mixlab.cli", "age", "--rates", str(path)], capture_output=True, text=True
    )
    assert (
        proc.returncode == 2
        and "cannot be reached from the source: their version age is infinite" in proc.stderr
    )


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["--topology", "complete", "--model", "user"], lambda n: va.user_staleness_complete(n)),
        (["--topology", "ring"], lambda n: va.ring_age(n)),
    ],
)
def test_exact_age_at_a_million_nodes(capsys, argv, expected):
    out = run_json(capsys, "age", *argv, "-n", "1000000", "--method", "exact", "--json")
    assert out["exact"] == pytest.approx(expected(10**6), rel=1e-12)


@pytest.mark.parametrize("topology", ["complete", "ring", "star"])
def test_a_monte_carlo_run_that_cannot_fit_is_refused_before_allocating(topology):
    assert_cli_error(
        ["age", "--topology", topology, "-n", "1000000000", "--method", "mc"],
        r"mixlab age: error: a Monte Carlo run .*n = 1000000000 nodes needs about [\d.]+ [GT]iB of memory, more than",
    )


def test_a_short_monte_carlo_run_warns_on_one_line():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mixlab.cli",
            "age",
            "-n",
            "1000",
            "--method",
            "mc",
            "--events",
            "1000",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["mc_events"] == 1000
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixlab age: warning: 1000 events give 1 pushes per node")
