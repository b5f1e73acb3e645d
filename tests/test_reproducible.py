"""The same command with the same seed prints byte-identical --json output in separate processes.

Every command's JSON is free of wall-clock quantities by design (``throughput`` is iterations per
unit of *simulated* time), so the whole output is compared. Two processes each run every command
below, the second in reverse order and with another hash seed, so that neither process state nor
string hashing can leak into an answer; ``run`` is also compared across two plain ``mixlab``
processes. ``verify`` is left out: its quick suite takes minutes, and its JSON is built from the
same runs and Monte Carlo kernels that are compared here.
"""

import json
import os
import subprocess
import sys

import pytest

WAGMA = ["run", "--algorithm", "wagma", "--objective", "heterogeneous_quadratic", "--workers", "16"]
WAGMA += ["--steps", "30", "--group-size", "4", "--stragglers", "2", "--slowdown", "3"]
WAGMA += ["--compute", "exponential", "--seed", "3", "--json"]
ADPSGD = ["run", "--algorithm", "adpsgd", "--objective", "logistic", "--workers", "8", "--steps", "20"]
ADPSGD += ["--seed", "5", "--json"]
COMMANDS = {
    "run-wagma-numba": WAGMA,
    "run-wagma-reference": [*WAGMA, "--backend", "reference"],
    "run-adpsgd-numba": ADPSGD,
    "run-adpsgd-reference": [*ADPSGD, "--backend", "reference"],
    "run-diverging": ["run", "--algorithm", "dpsgd", "--objective", "quadratic", "--workers", "8"]
    + ["--steps", "50", "--lr", "100", "--json"],
    "age-both": ["age", "--topology", "ring", "-n", "8", "--events", "20000", "--seed", "2", "--json"],
    "age-mc": ["age", "--topology", "complete", "-n", "10", "--model", "user", "--method", "mc"]
    + ["--events", "20000", "--json"],
    "capacity-measure": ["capacity", "-n", "40", "--measure", "--events", "20000", "--seed", "1", "--json"],
    "mixing-random-regular": ["mixing", "--topology", "random_regular", "-n", "16", "--seed", "4", "--json"],
    "mixing-erdos-renyi": ["mixing", "--topology", "erdos_renyi", "-n", "12", "--p", "0.4", "--json"],
    "schedule-random": ["schedule", "--kind", "random", "-n", "16", "-S", "4", "--seed", "7", "--json"],
}

# Runs main() on each argv in the given order and prints {name: [exit status, stdout, stderr]} as JSON.
SCRIPT = """
import contextlib, io, json, sys
from mixlab.cli import main
commands = json.loads(sys.argv[1])
out = {}
for name, argv in commands:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    out[name] = [status, stdout.getvalue(), stderr.getvalue()]
print(json.dumps(out))
"""


def _in_one_process(items, hash_seed):
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(items)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def outputs():
    items = list(COMMANDS.items())
    return _in_one_process(items, 1), _in_one_process(items[::-1], 2)


@pytest.mark.parametrize("name", COMMANDS)
def test_same_seed_same_bytes(outputs, name):
    first, second = outputs
    status, stdout, _ = first[name]
    assert status == 0 and json.loads(stdout)  # a JSON object, printed
    assert first[name] == second[name]


def test_backends_agree_on_everything_but_rounding(outputs):
    """The two engines print the same keys and parameters (backend aside)."""
    numba = json.loads(outputs[0]["run-wagma-numba"][1])
    reference = json.loads(outputs[0]["run-wagma-reference"][1])
    assert numba.keys() == reference.keys()
    assert {**numba["params"], "backend": None} == {**reference["params"], "backend": None}
    assert numba["history"]["step"] == reference["history"]["step"]


def test_run_json_is_identical_across_two_cli_processes():
    argv = [sys.executable, "-m", "mixlab.cli", *WAGMA]
    a, b = (subprocess.run(argv, capture_output=True, check=True).stdout for _ in range(2))
    assert a == b and json.loads(a)["params"]["seed"] == 3
