import subprocess
import sys

import numpy as np
import pytest

from mixlab.theory import version_age as va

from test_cli import assert_cli_error, run_json
from test_version_age import complete_rates


def test_age_json_symmetric(capsys):
    out = run_json(capsys, "age", "--topology", "complete", "-n", "20", "--events", "200000", "--json")
    assert {"n", "model", "exact", "mc_mean", "mc_stderr"} <= out.keys()
    assert out["exact"] == pytest.approx(va.complete_graph_age(20))
    assert abs(out["mc_mean"] - out["exact"]) <= 4 * out["mc_stderr"]


def test_age_user_model_exchange(capsys):
    out = run_json(capsys, "age", "-n", "50", "--model", "user", "--mode", "exchange",
                   "--gossip-rate", "2", "--update-rate", "3", "--method", "exact", "--json")
    assert out["exact"] == pytest.approx(3 / 2 * va.harmonic(49) / 2)
    assert out["mc_mean"] is None and out["mc_stderr"] is None


def test_age_not_computable_exactly_is_null(capsys):
    out = run_json(capsys, "age", "--topology", "torus", "-n", "36", "--method", "both",
                   "--events", "20000", "--json")
    assert out["exact"] is None and out["mc_mean"] > 0


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_age_rates_file_gives_lists(tmp_path, capsys, suffix):
    R = complete_rates(5)
    R[0, 1:] = [2.0, 0.5, 0.5, 0.1, 0.1]           # asymmetric source rates
    path = tmp_path / f"rates{suffix}"
    np.save(path, R) if suffix == ".npy" else np.savetxt(path, R, delimiter=",")
    out = run_json(capsys, "age", "--rates", str(path), "--events", "300000", "--json")
    assert len(out["exact"]) == len(out["mc_mean"]) == len(out["mc_stderr"]) == 5
    assert out["exact"][0] < out["exact"][4]
    for e, m, s in zip(out["exact"], out["mc_mean"], out["mc_stderr"]):
        assert abs(e - m) <= 4 * s


def test_capacity_json(capsys):
    out = run_json(capsys, "capacity", "-n", "1000", "--target", "2", "--json")
    assert out["uniform_lambda"] == pytest.approx(va.harmonic(999) / 2)
    assert out["opportunistic_lambda"] == pytest.approx(999 / 2)


@pytest.mark.parametrize("argv,match", [
    (["age", "--topology", "complete"], "age needs -n N"),
    (["age", "-n", "10", "--gossip-rate", "-1"], "gossip rate must be > 0"),
    (["age", "-n", "10", "--update-rate", "nan"], "update rate must be finite, got nan"),
    (["age", "-n", "10", "--method", "guess"], "invalid choice: 'guess'"),
    (["age", "--rates", "rates.txt"], r"rate matrices are read from .npy or .csv"),
    (["capacity", "-n", "100", "--target", "0"], r"target staleness s\* must be > 0, got 0.0"),
    (["capacity", "-n", "1"], "n must be >= 2, got 1"),
])
def test_age_bad_arguments_exit_2(argv, match, tmp_path):
    assert_cli_error(argv, match, cwd=tmp_path)


def test_age_unreachable_node_in_rates_file(tmp_path):
    path = tmp_path / "r.npy"
    np.save(path, np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]]))
    proc = subprocess.run([sys.executable, "-m", "mixlab.cli", "age", "--rates", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot be reached from the source: their version age is infinite" in proc.stderr
