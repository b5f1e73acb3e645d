"""The MPI engine on real ranks (``mpiexec`` from the mpich wheel, oversubscribed).

Jobs run in subprocesses (tests/mpi_jobs.py, the ``mixlab`` command), never in
the test process: MPI is initialized once per process and must not be forked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mixlab.kernels.engines.mpi import block_bounds
from mixlab.launch import mpiexec_path

pytestmark = pytest.mark.mpi
JOBS = Path(__file__).with_name("mpi_jobs.py")
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1"}
#: The issue's bound on how long a job with a dead rank may take to end.
FAULT_SECONDS = 30


def _job(name: str, procs: int) -> dict:
    out = subprocess.run(
        [mpiexec_path(), "-n", str(procs), sys.executable, str(JOBS), name],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mixlab(*args: str, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mixlab", *args],
        capture_output=True,
        text=True,
        env=env or ENV,
        timeout=timeout,
    )


RUN = ("run", "--objective", "quadratic", "--steps", "12", "--record-every", "3", "--seed", "2")


@pytest.mark.parametrize("procs", [3, 4])
def test_lockstep_equals_the_numba_engine_for_every_synchronous_algorithm(procs):
    """Same seed, same draws, stragglers included: every column equal to 1e-10 (P = 3: uneven blocks)."""
    result = _job("lockstep", procs)
    assert {"allreduce", "local_sgd", "dpsgd", "gradient_tracking", "sgp", "wagma"} <= set(result)
    for case, row in result.items():
        assert row["difference"] < 1e-10, (case, row)
    assert result["wagma"]["staleness_max"] >= 1  # the simulated stragglers' stale contributions were used


def test_real_wait_avoidance_keeps_staleness_below_the_sync_period():
    result = _job("real", 4)
    wagma = result["wagma"]
    assert 1 <= wagma["staleness_max"] <= wagma["sync_period"] - 1  # stale models were used, never older
    assert wagma["loss_gap"][1] < 0.5 * wagma["loss_gap"][0]
    assert (
        result["wagma/blocking"]["difference"] < 1e-10
    )  # blocking group collectives: the simulator's result
    adpsgd = result["adpsgd"]
    assert adpsgd["records"] == 4 and adpsgd["loss_gap"][1] < 0.5 * adpsgd["loss_gap"][0]
    assert adpsgd["staleness_max"] >= 0


def test_cli_procs_lockstep_json_equals_the_numba_run(tmp_path):
    args = (*RUN, "--algorithm", "wagma", "--group-size", "2", "--workers", "8", "--stragglers", "2")
    args += ("--compute", "exponential", "--json")
    mpi = _mixlab(*args, "--engine", "mpi", "--procs", "2", "--lockstep", "--save", str(tmp_path / "t.json"))
    assert mpi.returncode == 0, mpi.stderr
    ref = json.loads(_mixlab(*args).stdout)
    got = json.loads(mpi.stdout)  # one JSON object: rank 0 alone prints
    assert got["params"]["backend"] == "mpi" and got["wall_time"] > 0
    for column, values in ref["history"].items():
        np.testing.assert_allclose(got["history"][column], values, rtol=1e-10, atol=1e-12)
    assert json.loads((tmp_path / "t.json").read_text())["history"]["wall_time"]


def test_a_bad_input_exits_2_with_the_message_once():
    out = _mixlab(
        *RUN, "--algorithm", "dpsgd", "--workers", "4", "--lr", "-1", "--engine", "mpi", "--procs", "3"
    )
    assert out.returncode == 2
    assert out.stderr.count("step size must be > 0") == 1, out.stderr


@pytest.mark.parametrize(
    ("procs", "args", "message"),
    [
        (3, ("--algorithm", "adpsgd", "--workers", "4", "--lockstep"), "no lockstep schedule"),
        (2, ("--algorithm", "wagma", "--group-size", "2", "--workers", "8"), "one worker per rank"),
        (3, ("--algorithm", "wagma", "--group-size", "2", "--workers", "8", "--lockstep"), "do not align"),
        (
            2,
            ("--algorithm", "wagma", "--group-size", "2", "--workers", "2", "--activation", "global"),
            "--activation group",
        ),
        (3, ("--algorithm", "allreduce", "--workers", "2"), "at most one rank per worker"),
    ],
)
def test_what_the_mpi_engine_cannot_run_is_refused_by_name(procs, args, message):
    out = _mixlab(*RUN, *args, "--engine", "mpi", "--procs", str(procs))
    assert out.returncode == 2 and out.stderr.count(message) == 1, out.stderr


def test_mpi_flags_belong_to_the_mpi_engine():
    out = _mixlab(*RUN, "--algorithm", "dpsgd", "--workers", "4", "--lockstep", "--time-unit", "0.1")
    assert out.returncode == 2 and "only --engine mpi takes --lockstep, --time-unit" in out.stderr


def test_an_injected_fault_ends_the_job_naming_the_rank_and_step(tmp_path):
    start = time.monotonic()
    out = _mixlab(
        *RUN[:-4],
        "--steps", "500", "--algorithm", "dpsgd", "--workers", "3", "--engine", "mpi", "--procs", "3",
        "--time-unit", "0.01", "--fail-rank", "1", "--fail-step", "4", "--save", str(tmp_path / "t.npz"),
    )  # fmt: skip
    assert time.monotonic() - start < FAULT_SECONDS
    assert out.returncode == 3, out.stderr
    assert "rank 1 (pid" in out.stderr and "died at step 4" in out.stderr
    assert "BAD TERMINATION" not in out.stdout + out.stderr  # Hydra's banner is not repeated
    assert list(tmp_path.iterdir()) == []  # no partial output


def test_a_rank_killed_from_outside_ends_the_job(tmp_path):
    status = tmp_path / "status"
    env = {**ENV, "MIXLAB_MPI_STATUS": str(status)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mixlab", *RUN[:-4], "--steps", "2000", "--algorithm", "allreduce",
         "--workers", "3", "--engine", "mpi", "--procs", "3", "--time-unit", "0.01"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        table = np.fromfile(status, dtype=np.int64).reshape(3, 2) if status.exists() else None
        if table is not None and table.shape == (3, 2) and table[2, 1] >= 3:
            break
    else:
        proc.kill()
        pytest.fail("the job did not reach step 3")
    killed = time.monotonic()
    os.kill(int(table[2, 0]), signal.SIGKILL)
    _, err = proc.communicate(timeout=FAULT_SECONDS)
    assert time.monotonic() - killed < FAULT_SECONDS
    assert proc.returncode == 3 and f"rank 2 (pid {table[2, 0]}) died at step" in err, err


def test_blocks_cover_the_workers_evenly():
    for n in range(1, 40):
        for procs in range(1, n + 1):
            sizes = np.diff(block_bounds(n, procs))
            assert sizes.sum() == n and sizes.min() >= 1 and sizes.max() - sizes.min() <= 1


def test_a_failure_names_the_rank_from_hydras_pid():
    from mixlab.launch import _failure

    status = np.array([[101, 7], [102, 7], [103, 6]])
    banner = ["=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES", "=   PID 103 RUNNING AT vm",
              "=   EXIT CODE: 9", "YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)"]  # fmt: skip
    assert _failure(9, banner, status).startswith("rank 2 (pid 103) died at step 6 (Killed (signal 9))")
    assert "before every rank started" in _failure(9, banner, np.array([[101, 0], [-1, -1], [-1, -1]]))


def test_procs_is_removed_from_what_the_ranks_run():
    from mixlab.cli import _without_procs

    assert _without_procs(["run", "--procs", "4", "--lockstep", "--procs=2", "--steps", "3"]) == [
        "run", "--lockstep", "--steps", "3"
    ]  # fmt: skip
