"""A run that diverges stops early on both engines, says so (trajectory, --json) and warns once,
naming the step and the likely cause; a run that does not diverge is unchanged."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from mixlab.errors import DivergenceWarning, MixlabWarning
from mixlab.kernels import progress
from mixlab.kernels.trajectory import (
    CONSENSUS_DIVERGED,
    DIVERGENCE_FACTOR,
    LOSS_GAP_DIVERGED,
    STABLE,
    Trajectory,
    divergence_code,
    divergence_limits,
    first_divergence,
    model_scale,
)
from mixlab.runs import run

BACKENDS = ("numba", "reference")
# The example of the issue: eta = 100 on a quadratic with L = 1 (2/L = 2); silently 7e37 before.
EXPLODING = {"workers": 8, "steps": 200, "lr": 100.0}
# Gradient tracking on a ring with eta = 1.9 < 2/L: the tracking and mixing amplify the disagreement,
# and the consensus distance blows up before the loss gap does.
TRACKING = {
    "workers": 16,
    "steps": 300,
    "lr": 1.9,
    "topology": "ring",
    "objective_params": {"zeta2": 10.0},
    "record_every": 3,
}


def diverging(backend, algorithm="dpsgd", objective="quadratic", **kw):
    with pytest.warns(DivergenceWarning) as caught:
        tr = run(algorithm, objective, backend=backend, **kw)
    assert len(caught) == 1
    return tr, str(caught[0].message)


def test_warning_classes():
    assert issubclass(DivergenceWarning, MixlabWarning) and issubclass(DivergenceWarning, RuntimeWarning)
    assert issubclass(MixlabWarning, UserWarning)


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_size_past_2_over_L_stops_early_and_names_the_cause(backend):
    tr, message = diverging(backend, **EXPLODING)
    assert tr.diverged and tr.diverged_at == 2
    assert tr["step"].tolist() == [0.0, 2.0] and len(tr) == 2  # stopped at the first record past the limit
    assert tr["loss_gap"][-1] > DIVERGENCE_FACTOR * tr["loss_gap"][0]
    assert "diverged at step 2" in message
    assert "the step size eta = 100 exceeds 2/L = 2 for this objective" in message
    assert "loss gap" in message and "\n" not in message


@pytest.mark.parametrize("backend", BACKENDS)
def test_engines_stop_instead_of_running_on(backend):
    """The engine itself stops (no record after the divergent one reaches the progress report),
    rather than running all 200 steps and being cut afterwards."""
    reported = []
    with progress.reporting_to(lambda step, steps: reported.append(step)):
        diverging(backend, record_every=1, **EXPLODING)
    assert max(reported, default=0) < 5


def test_both_engines_stop_at_the_same_record():
    a, ma = diverging("numba", **TRACKING, algorithm="gradient_tracking", objective="heterogeneous_quadratic")
    b, mb = diverging(
        "reference", **TRACKING, algorithm="gradient_tracking", objective="heterogeneous_quadratic"
    )
    assert a.diverged_at == b.diverged_at and 0 < a.diverged_at < TRACKING["steps"]
    for name in b.columns:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, err_msg=name)
    assert ma == mb


@pytest.mark.parametrize("backend", BACKENDS)
def test_consensus_blow_up_is_named_when_the_step_size_is_within_2_over_L(backend):
    tr, message = diverging(
        backend, algorithm="gradient_tracking", objective="heterogeneous_quadratic", **TRACKING
    )
    assert "consensus distance Gamma/n" in message and "is within 2/L" in message
    assert f"diverged at step {tr.diverged_at}" in message
    assert tr["consensus_normalized"][-1] > DIVERGENCE_FACTOR


@pytest.mark.parametrize("backend", BACKENDS)
def test_event_driven_runs_stop_too(backend):
    tr, message = diverging(backend, algorithm="adpsgd", workers=8, steps=200, lr=50.0)
    assert tr.diverged_at is not None and tr.diverged_at < 200 == tr.params["steps"]
    assert "eta = 50 exceeds 2/L = 2" in message


@pytest.mark.parametrize("backend", BACKENDS)
def test_overflow_to_nan_is_reported_as_not_finite(backend):
    tr, message = diverging(backend, workers=8, steps=100, lr=1e200)
    assert not np.isfinite(tr["loss_gap"][-1]) and "is not finite" in message


def test_momentum_moves_the_stability_limit():
    _, message = diverging("reference", algorithm="allreduce", workers=4, steps=100, lr=5.0, momentum=0.5)
    assert "exceeds 2(1 + m)/L = 3" in message


@pytest.mark.parametrize("backend", BACKENDS)
def test_cta_dpsgd_past_one_plus_lambda_min_diverges_in_consensus(backend):
    """CTA D-PSGD on a common-Hessian quadratic: the mean model follows gradient descent (stable for
    eta < 2/L) but the disagreement is multiplied by lambda(W) - eta h each step; Metropolis on a ring
    has lambda_min = -1/3, so eta = 1.9 (eta L > 1 + lambda_min) blows up Gamma alone."""
    tr, message = diverging(backend, workers=8, steps=60, lr=1.9)
    assert "consensus distance Gamma/n" in message and "eta = 1.9 is within 2/L = 2" in message
    assert tr["loss_gap"][-1] < tr["loss_gap"][0]  # the mean model converges meanwhile


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_converging_run_is_not_flagged(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        tr = run("dpsgd", "quadratic", workers=8, steps=60, lr=0.5, backend=backend)
    assert not tr.diverged and tr.diverged_at is None and len(tr) == 61
    assert tr.summary()["diverged"] is False and tr.summary()["diverged_at"] is None


def test_rule():
    assert divergence_limits(2.0, 0.0, 0.25) == (2e6, 1e6)  # floors of 1
    assert divergence_limits(-5.0, 3.0, 7.0) == (5e6, 7e6)
    assert divergence_limits(float("nan"), float("nan"), 0.0) == (1e6, 1e6)
    assert divergence_code(1e6, 1e6, 1e6, 1e6) == STABLE
    assert divergence_code(-1.1e6, 0.0, 1e6, 1e6) == LOSS_GAP_DIVERGED
    assert divergence_code(0.0, 1.1e6, 1e6, 1e6) == CONSENSUS_DIVERGED
    assert divergence_code(0.0, float("nan"), 1e6, 1e6) == CONSENSUS_DIVERGED
    assert model_scale(np.ones((3, 2)), None) == 2.0
    assert model_scale(np.zeros((3, 2)), np.array([3.0, 4.0])) == 25.0
    cols = {"loss_gap": np.array([1.0, 2e6]), "consensus_normalized": np.array([0.0, 0.0])}
    assert first_divergence(cols, 0.0) == (1, LOSS_GAP_DIVERGED)
    cols["loss_gap"][1] = 1e6
    assert first_divergence(cols, 0.0) is None


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_a_diverged_trajectory_saves_and_loads(tmp_path, suffix):
    tr, _ = diverging("reference", workers=8, steps=100, lr=1e200)
    path = tr.save(tmp_path / f"t{suffix}")
    if suffix == ".json":
        json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    back = Trajectory.load(path)
    assert back.diverged_at == tr.diverged_at
    for name in tr.columns:
        np.testing.assert_array_equal(back[name], tr[name])


def test_cli_reports_divergence_in_json_and_one_warning_line():
    argv = ["run", "--algorithm", "dpsgd", "--objective", "quadratic", "--workers", "8", "--steps", "200"]
    proc = subprocess.run(
        [sys.executable, "-m", "mixlab.cli", *argv, "--lr", "100", "--json", "--backend", "reference"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["diverged"] is True and out["diverged_at"] == 2 and out["history"]["step"] == [0, 2]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mixlab run: warning: the run diverged at step 2")
    assert "eta = 100 exceeds 2/L = 2" in lines[0]


def test_cli_json_of_a_stable_run_says_not_diverged(capsys):
    from mixlab.cli import main

    assert main(["run", "--algorithm", "allreduce", "--objective", "quadratic", "--workers", "4"] +
                ["--steps", "10", "--json", "--backend", "reference"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["diverged"] is False and out["diverged_at"] is None and captured.err == ""
