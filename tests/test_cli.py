import json
import math
import subprocess
import sys

import pytest

from mixlab.cli import main

MIXING_KEYS = {"n", "topology", "weights", "rho", "spectral_gap", "beta", "symmetric",
               "doubly_stochastic"}
SCHEDULE_KEYS = {"n", "group_size", "period", "period_rho", "steps_to_exact_average"}


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_mixing_json_ring(capsys):
    out = run_json(capsys, "mixing", "--topology", "ring", "-n", "16", "--json")
    assert MIXING_KEYS <= out.keys()
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
    assert "rho" in text and "0.5" in text   # (k-1)/(k+1) for k = 3


@pytest.mark.parametrize("kind,rule,expected", [
    ("butterfly", "mean", {"period": 3, "period_rho": 0.0, "steps_to_exact_average": 3}),
    ("butterfly", "self_weighted", {"period": 3, "period_rho": 0.2, "steps_to_exact_average": None}),
    ("random", "mean", {"period": None, "steps_to_exact_average": None,
                        "period_rho": math.sqrt((64 - 4) / (4 * 63))}),
])
def test_schedule_json(capsys, kind, rule, expected):
    out = run_json(capsys, "schedule", "--kind", kind, "-n", "64", "-S", "4", "--rule", rule, "--json")
    assert SCHEDULE_KEYS <= out.keys() and out["group_size"] == 4
    for key, value in expected.items():
        assert out[key] == (pytest.approx(value) if isinstance(value, float) else value)


@pytest.mark.parametrize("argv,match", [
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
])
def test_bad_arguments_exit_2_with_one_line(argv, match):
    proc = subprocess.run([sys.executable, "-m", "mixlab.cli", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert __import__("re").search(match, lines[0]), lines[0]


def test_verify_quick_json(tmp_path, capsys):
    path = tmp_path / "out" / "verify.json"
    assert main(["verify", "--quick", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["passed"] is True and len(report["checks"]) >= 10
    for check in report["checks"]:
        assert {"id", "theorem", "source", "parameters", "measured", "bound", "verdict"} <= check.keys()
        assert check["verdict"] == "pass"
    assert "checks pass" in capsys.readouterr().out


def test_verify_exits_1_when_a_check_fails(monkeypatch, capsys):
    from mixlab.validation import checks, foundation

    broken = checks.Check("broken", "1 <= 0", "none", "<=", 0, lambda: (1.0, 0.0))
    monkeypatch.setattr(foundation, "foundation_checks", lambda size: [broken])
    assert main(["verify", "--quick"]) == 1
    assert "FAIL" in capsys.readouterr().out
