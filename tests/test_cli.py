import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from mixlab.cli import main

MIXING_KEYS = {"n", "topology", "weights", "rho", "spectral_gap", "beta", "symmetric", "doubly_stochastic"}
SCHEDULE_KEYS = {"n", "group_size", "period", "period_rho", "steps_to_exact_average"}


def assert_cli_error(argv, match, cwd=None):
    """The command exits 2 with one line on stderr matching ``match``, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "mixlab.cli", *argv], capture_output=True, text=True, cwd=cwd
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert re.search(match, lines[0]), lines[0]


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_mixing_json_ring(capsys):
    out = run_json(capsys, "mixing", "--topology", "ring", "-n", "16", "--json")
    assert out.keys() >= MIXING_KEYS
    assert out["rho"] == pytest.approx(1 / 3 + 2 / 3 * math.cos(2 * math.pi / 16))
    assert out["spectral_gap"] == pytest.approx(1 - out["rho"])
    assert out["symmetric"] and out["doubly_stochastic"] and out["weights"] == "metropolis"


def test_mixing_json_uniform_star_is_not_doubly_stochastic(capsys):
    out = run_json(capsys, "mixing", "--topology", "star", "-n", "6", "--weights", "uniform", "--json")
    assert out["doubly_stochastic"] is False and out["symmetric"] is False


def test_mixing_one_peer_exponential(capsys):
    out = run_json(capsys, "mixing", "--topology", "one_peer_exponential", "-n", "32", "--json")
    assert out["steps_to_exact_average"] == 5 == out["mixing_time"] and out["period_rho"] < 1e-12


def test_mixing_table(capsys):
    assert main(["mixing", "--topology", "hypercube", "-n", "8"]) == 0
    text = capsys.readouterr().out
    assert "rho" in text and "0.5" in text  # (k-1)/(k+1) for k = 3


@pytest.mark.parametrize(
    "kind,rule,expected",
    [
        ("butterfly", "mean", {"period": 3, "period_rho": 0.0, "steps_to_exact_average": 3}),
        ("butterfly", "self_weighted", {"period": 3, "period_rho": 0.2, "steps_to_exact_average": None}),
        (
            "random",
            "mean",
            {"period": None, "steps_to_exact_average": None, "period_rho": math.sqrt((64 - 4) / (4 * 63))},
        ),
    ],
)
def test_schedule_json(capsys, kind, rule, expected):
    out = run_json(capsys, "schedule", "--kind", kind, "-n", "64", "-S", "4", "--rule", rule, "--json")
    assert out.keys() >= SCHEDULE_KEYS and out["group_size"] == 4
    for key, value in expected.items():
        assert out[key] == (pytest.approx(value) if isinstance(value, float) else value)


@pytest.mark.parametrize(
    "argv,match",
    [
        (["mixing", "--topology", "moebius", "-n", "8"], "invalid choice: 'moebius'"),
        (["mixing", "--topology", "ring", "-n", "0"], "argument -n: must be >= 1, got 0"),
        (["mixing", "--topology", "ring", "-n", "2"], "n must be >= 3, got 2"),
        (["mixing", "--topology", "hypercube", "-n", "12"], "hypercube needs n to be a power of 2"),
        (["mixing", "--topology", "erdos_renyi", "-n", "9", "--p", "1.5"], "must lie in \\(0, 1\\], got 1.5"),
        (["schedule", "--kind", "butterfly", "-n", "48", "-S", "4"], "n = 48 is not a power of S = 4"),
        (["schedule", "--kind", "random", "-n", "10", "-S", "4"], "random groups need S to divide n"),
        (["schedule", "--kind", "random", "-n", "8"], "the following arguments are required: -S"),
        (["verify", "--quick", "--full"], "not allowed with argument"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, match):
    assert_cli_error(argv, match)


def test_verify_quick_json_and_report(tmp_path, capsys):
    """The done criteria of verify: every check passes, none is weak; every bound check carries a
    control that fails; no two controlled checks report the same measurement (identities, which
    measure rounding, aside); the statistical
    checks' false-alarm rates sum to at most 1e-3; the report and its figures are written."""
    path = tmp_path / "out" / "verify.json"
    assert main(["verify", "--quick", "--json", str(path), "--report", str(tmp_path / "rep")]) == 0
    report = json.loads(path.read_text())
    assert report["passed"] is True and len(report["checks"]) >= 40
    controlled = []
    for check in report["checks"]:
        assert {
            "id",
            "theorem",
            "source",
            "proof_label",
            "parameters",
            "measured",
            "bound",
            "verdict",
            "control",
            "false_alarm",
        } <= check.keys()
        assert check["verdict"] == "pass", check["id"]
        if check["relation"] != "==":
            assert check["control"] is not None, check["id"]
        if check["control"] is not None:
            assert check["control"]["verdict"] == "fail" and check["control"]["description"]
            if abs(check["measured"]) > 1e-12:
                controlled.append(float(f"{check['measured']:.12g}"))
    assert len(controlled) == len(set(controlled)) >= 30
    s = report["summary"]
    assert s["weak"] == 0 and s["false_alarm_total"] <= 1e-3 and s["statistical"] >= 15
    out = capsys.readouterr().out
    assert "checks pass (0 weak" in out
    for column in (
        "check",
        "source",
        "proof",
        "measured",
        "bound",
        "ratio",
        "control (must fail)",
        "verdict",
    ):
        assert column in out.splitlines()[0]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert md.startswith("# mixlab verify:") and "| butterfly-exact-64-8 |" in md and "bookkeeping" in md
    for name in (
        "contraction.png",
        "version_age.png",
        "consensus.png",
        "staleness.png",
        "consensus_bounds.png",
    ):
        data = (tmp_path / "rep" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and f"]({name})" in md


def _only(monkeypatch, check):
    from mixlab.validation import age_checks, convergence_checks, engine_checks, foundation

    monkeypatch.setattr(foundation, "foundation_checks", lambda size: [check])
    for module, name in (
        (engine_checks, "engine_checks"),
        (convergence_checks, "convergence_checks"),
        (age_checks, "age_checks"),
    ):
        monkeypatch.setattr(module, name, lambda size: [])


def test_verify_exits_1_when_a_check_fails(monkeypatch, capsys):
    from mixlab.validation import checks

    _only(
        monkeypatch,
        checks.Check(
            "broken",
            "1 <= 0",
            "none",
            "<=",
            0,
            lambda: (1.0, 0.0),
            control=checks.Control("c", lambda: (2.0, 0.0)),
        ),
    )
    assert main(["verify", "--quick"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_verify_exits_1_when_a_control_passes(monkeypatch, capsys):
    from mixlab.validation import checks

    _only(
        monkeypatch,
        checks.Check(
            "toothless",
            "1 <= 2",
            "none",
            "<=",
            0,
            lambda: (1.0, 2.0),
            control=checks.Control("no teeth", lambda: (1.5, 2.0)),
        ),
    )
    assert main(["verify", "--quick"]) == 1
    out = capsys.readouterr().out
    assert "WEAK" in out and "PASSES" in out and "(1 weak" in out


RUN = ["run", "--objective", "quadratic", "--workers", "16", "--steps", "40"]


def test_run_json_contract(capsys):
    out = run_json(
        capsys,
        *RUN,
        "--algorithm",
        "wagma",
        "--group-size",
        "4",
        "--stragglers",
        "2",
        "--slowdown",
        "5",
        "--json",
        "--record-every",
        "10",
    )
    for key in (
        "algorithm",
        "objective",
        "workers",
        "steps",
        "final_loss_gap",
        "final_grad_norm_sq",
        "final_consensus",
        "max_staleness",
        "sim_time",
        "history",
    ):
        assert key in out
    h = out["history"]
    assert {"step", "loss_gap", "grad_norm_sq", "consensus", "sim_time"} <= h.keys()
    assert len({len(v) for v in h.values()}) == 1 and h["step"] == [0, 10, 20, 30, 40]
    assert out["final_loss_gap"] == h["loss_gap"][-1] and out["sim_time"] == h["sim_time"][-1]
    assert 0 < out["max_staleness"] <= 8


@pytest.mark.parametrize(
    "algorithm,extra",
    [
        ("allreduce", []),
        ("local_sgd", ["--local-steps", "2"]),
        ("dpsgd", ["--topology", "torus"]),
        ("adpsgd", []),
        ("sgp", []),
        ("wagma", ["--group-size", "2", "--order", "atc"]),
    ],
)
def test_run_every_algorithm_and_save(tmp_path, capsys, algorithm, extra):
    from mixlab.kernels.trajectory import Trajectory

    path = tmp_path / f"{algorithm}.npz"
    out = run_json(
        capsys,
        *RUN,
        "--algorithm",
        algorithm,
        *extra,
        "--json",
        "--save",
        str(path),
        "--backend",
        "reference",
    )
    tr = Trajectory.load(path)
    assert tr.params["algorithm"] == algorithm == out["algorithm"]
    assert tr["loss_gap"].tolist() == out["history"]["loss_gap"]
    assert out["final_loss_gap"] < out["history"]["loss_gap"][0]


@pytest.mark.parametrize(
    "extra,expected",
    [([], ("global", "self_weighted")), (["--activation", "group", "--rule", "mean"], ("group", "mean"))],
)
def test_run_wagma_activation_and_rule(capsys, extra, expected):
    out = run_json(
        capsys, *RUN, "--algorithm", "wagma", "--group-size", "4", *extra, "--json", "--backend", "reference"
    )
    assert (out["params"]["activation"], out["params"]["rule"]) == expected


def test_run_table(capsys):
    assert main([*RUN, "--algorithm", "allreduce"]) == 0
    text = capsys.readouterr().out
    assert "final_loss_gap" in text and "throughput" in text


@pytest.mark.parametrize(
    "argv,match",
    [
        (RUN + ["--algorithm", "wagma"], "wagma needs a group size S"),
        (RUN + ["--algorithm", "wagma", "--group-size", "3"], "n = 16 is not a power of S = 3"),
        (RUN + ["--algorithm", "dpsgd", "--lr", "0"], "step size must be > 0"),
        (RUN + ["--algorithm", "dpsgd", "--lr", "nan"], "step size must be finite, got nan"),
        (
            RUN + ["--algorithm", "wagma", "--group-size", "4", "--sync-period", "0"],
            "argument --sync-period: must be >= 1",
        ),
        (
            RUN + ["--algorithm", "wagma", "--group-size", "4", "--activation", "bogus"],
            "argument --activation: invalid choice: 'bogus'",
        ),
        (RUN + ["--algorithm", "dpsgd", "--group-size", "4"], r"dpsgd does not take --group-size"),
        (
            [
                "run",
                "--algorithm",
                "dpsgd",
                "--objective",
                "robust",
                "--workers",
                "8",
                "--steps",
                "2",
                "--noise",
                "0",
            ],
            r"objective robust does not take sigma2 \(--noise\)",
        ),
        (
            RUN + ["--algorithm", "dpsgd", "--local-steps", "9", "--rule", "self_weighted"],
            r"dpsgd does not take --local-steps, --rule",
        ),
        (RUN + ["--algorithm", "allreduce", "--stragglers", "-1"], "stragglers must be >= 0, got -1"),
        (RUN + ["--algorithm", "allreduce", "--slowdown", "0.5"], "slowdown must be >= 1, got 0.5"),
        (
            RUN + ["--algorithm", "adpsgd", "--topology", "one_peer_exponential"],
            "adpsgd needs a static graph",
        ),
        (RUN + ["--algorithm", "allreduce", "--save", "out.txt"], "trajectory files end in .npz or .json"),
        (
            ["run", "--algorithm", "nope", "--objective", "quadratic", "--workers", "4", "--steps", "2"],
            "invalid choice: 'nope'",
        ),
    ],
)
def test_run_bad_arguments_exit_2(argv, match, tmp_path):
    assert_cli_error(argv, match, cwd=tmp_path)


def test_trajectory_json_round_trip(tmp_path):
    from mixlab.kernels.trajectory import Trajectory
    from mixlab.runs import run

    tr = run("dpsgd", "logistic", workers=8, steps=10, backend="reference")
    tr.save(tmp_path / "t.json")
    back = Trajectory.load(tmp_path / "t.json")
    for m in tr.columns:
        np.testing.assert_array_equal(back[m], tr[m])
    assert back.params == json.loads(json.dumps(tr.params)) and back.constants == tr.constants


def test_run_reaches_objective_parameters(capsys):
    """--noise and --heterogeneity set sigma2 and zeta2: noise-free and homogeneous, D-PSGD
    on a quadratic converges to x* (its floor grows with zeta2)."""
    argv = [
        "run",
        "--algorithm",
        "dpsgd",
        "--objective",
        "heterogeneous_quadratic",
        "--workers",
        "8",
        "--steps",
        "400",
        "--lr",
        "0.2",
        "--noise",
        "0",
        "--json",
    ]
    homogeneous = run_json(capsys, *argv, "--heterogeneity", "0")
    assert homogeneous["constants"]["sigma2"] == 0 and homogeneous["constants"]["zeta2"] == 0
    assert homogeneous["final_loss_gap"] < 1e-12
    floor = run_json(capsys, *argv, "--heterogeneity", "1")["final_loss_gap"]
    assert floor > 1e-4 and run_json(capsys, *argv, "--heterogeneity", "4")["final_loss_gap"] > 3 * floor


# ---- mixlab run --data ------------------------------------------------------------------------


@pytest.fixture
def data_file(tmp_path):
    """The shipped breast cancer data as FILE.npz (A standardized, b in {0, 1})."""
    from mixlab.data import load_dataset

    A, b = load_dataset("breast_cancer")
    np.savez(tmp_path / "bc.npz", A=A, b=b)
    return str(tmp_path / "bc.npz")


def test_run_on_data_from_a_file(capsys, data_file):
    argv = ["run", "--algorithm", "dpsgd", "--workers", "8", "--steps", "40", "--data", data_file, "--json"]
    iid = run_json(capsys, *argv, "--objective", "logistic", "--lr", "0.1")
    label = run_json(capsys, *argv, "--objective", "logistic", "--lr", "0.1", "--partition", "label")
    assert iid["objective"] == "logistic_from_data" and iid["params"]["dim"] == 30
    assert iid["constants"]["constants_kind"] == "computed from data"
    assert label["constants"]["zeta2"] > iid["constants"]["zeta2"]
    assert label["constants"]["f_star"] == pytest.approx(iid["constants"]["f_star"], rel=1e-12)
    ls = run_json(capsys, *argv, "--objective", "least_squares", "--lr", "0.02")
    assert (
        ls["objective"] == "least_squares_from_data" and ls["final_loss_gap"] < ls["history"]["loss_gap"][0]
    )


def test_run_data_errors_exit_2_with_one_line(tmp_path, data_file, capsys, monkeypatch):
    """In process (main returns 2 and prints one line), and two as real processes."""
    monkeypatch.chdir(tmp_path)
    np.savez("no_b.npz", A=np.eye(3))
    np.savez("short.npz", A=np.eye(3), b=np.ones(2))
    np.savez("flat.npz", A=np.ones(3), b=np.ones(3))
    np.savez("classes.npz", A=np.eye(3), b=np.arange(3.0))
    run = ["run", "--algorithm", "dpsgd", "--objective", "logistic", "--workers", "2", "--steps", "2"]
    for argv, match in [
        (
            run + ["--data", "no_b.npz"],
            r"data file 'no_b.npz' must hold arrays A and b; it lacks b \(it has: A\)",
        ),
        (run + ["--data", "short.npz"], r"y must have shape \(rows of A,\) = \(3,\); got \(2,\)"),
        (
            run + ["--data", "flat.npz"],
            r"A must be a 2-D array \(rows x features, at least one of each\); "
            r"got shape \(3,\)",
        ),
        (run + ["--data", "classes.npz"], r"y must hold class labels in \{-1, \+1\} or \{0, 1\}"),
        (
            run + ["--data", data_file, "--noise", "0.1"],
            r"objective logistic from data does not take sigma2 \(--noise\)",
        ),
        (
            run + ["--data", data_file, "--heterogeneity", "1"],
            r"objective logistic from data does not take zeta2 \(--heterogeneity\)",
        ),
        (run + ["--data", data_file, "--dim", "4"], r"dim does not apply to an objective from data"),
        (run + ["--partition", "label"], r"objective logistic does not take partition \(--partition\)"),
        (
            [
                "run",
                "--algorithm",
                "dpsgd",
                "--objective",
                "robust",
                "--workers",
                "2",
                "--steps",
                "2",
                "--data",
                data_file,
            ],
            r"unknown objective from data 'robust'; valid: least_squares, logistic",
        ),
    ]:
        assert main(argv) == 2
        out = capsys.readouterr()
        lines = out.err.strip().splitlines()
        assert out.out == "" and len(lines) == 1 and re.search(match, lines[0]), lines
    assert_cli_error(
        run + ["--data", "missing.npz"],
        r"data file 'missing.npz' must be a readable file; it does not exist",
        cwd=tmp_path,
    )
    assert_cli_error(
        run + ["--data", data_file, "--partition", "random"],
        r"argument --partition: invalid choice: 'random'",
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    "topology,n", [("ring", 10**6), ("torus", 10**6), ("hypercube", 2**20), ("exponential", 10**6)]
)
def test_mixing_at_a_million_nodes_uses_closed_forms(capsys, topology, n):
    from mixlab.theory.structured import structured_spectrum

    out = run_json(capsys, "mixing", "--topology", topology, "-n", str(n), "--json")
    assert out["rho"] == structured_spectrum(topology, n).rho and out["n"] == n
    assert out["symmetric"] and out["doubly_stochastic"] and out["nonnegative"]


@pytest.mark.parametrize(
    "extra,match",
    [
        (
            ["--workers", "1000000", "--dim", "100000"],
            r"n = 1000000, d = 100000 needs about [\d.]+ TiB of memory",
        ),
        (["--workers", "100000", "--dim", "4", "--topology", "complete"], r"allreduce averages exactly"),
    ],
)
def test_a_run_that_cannot_fit_is_refused_before_allocating(extra, match):
    assert_cli_error(
        ["run", "--algorithm", "dpsgd", "--objective", "quadratic", "--steps", "1", *extra], match
    )
