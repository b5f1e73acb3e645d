"""Launching MPI jobs: ``mixlab run --engine mpi --procs P`` starts ``mpiexec`` from the
virtual environment (the ``mpich`` wheel's, no system MPI needed) and reports a
rank that dies by its number and step.

Every rank writes its process id and the step it is on into a status file (an
int64 table, row r = (pid, step) of rank r, named by the environment variable
:data:`~mixlab.kernels.engines.mpi.STATUS_VARIABLE`). When a rank dies, MPICH's
``mpiexec`` (Hydra) ends the whole job and names the dead process id; the
launcher maps it to the rank and the step and raises :class:`~mixlab.errors.RankFailure`.
Hydra's own banner is not repeated.

>>> launched_rank({"PMI_RANK": "3"}), launched_rank({})
(3, None)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from mixlab.errors import BackendUnavailableError, RankFailure
from mixlab.kernels.engines.mpi import STATUS_VARIABLE

#: Environment variables through which MPI launchers give a process its rank.
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
_BANNER = re.compile(
    r"^(=+|=\s.*|YOUR APPLICATION TERMINATED.*|This typically refers.*|Please see the FAQ.*|\s*)$"
)


def launched_rank(environ=None) -> int | None:
    """The rank an MPI launcher gave this process, or None outside a launched job.

    Read from the environment (MPICH and Open MPI), without initializing MPI.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read (default ``os.environ``).

    Returns
    -------
    int or None
        The rank, or None when no launcher variable is set.
    """
    environ = os.environ if environ is None else environ
    for name in RANK_VARIABLES:
        if name in environ:
            return int(environ[name])
    return None


def mpiexec_path() -> str:
    """The ``mpiexec`` beside this Python (the ``mpich`` wheel's), else the first on PATH.

    Returns
    -------
    str
        Path of the executable.

    Raises
    ------
    BackendUnavailableError
        If no ``mpiexec`` is found.
    """
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    found = shutil.which("mpiexec")
    if found is None:
        raise BackendUnavailableError(
            "no mpiexec found: pip install 'mixlab[mpi]' (the mpich wheel brings one)"
        )
    return found


def launch(argv: list[str], procs: int, *, status_path: str | None = None) -> int:
    """Run ``python -m mixlab ARGV`` on P ranks under ``mpiexec`` and return its exit status.

    Standard output and error pass through (rank 0 prints) without Hydra's banner. ``NUMBA_NUM_THREADS`` defaults to 1 per rank.

    Parameters
    ----------
    argv : list of str
        The ``mixlab`` arguments each rank runs (without ``--procs``).
    procs : int
        Number of ranks P >= 1.
    status_path : str or None, default None
        Where the ranks write their (pid, step) table; None: a temporary file
        (:data:`~mixlab.kernels.engines.mpi.STATUS_VARIABLE` in the environment is
        used when set, so a caller can watch the ranks).

    Returns
    -------
    int
        The job's exit status (0, 1, 2 or 130 as the command's own).

    Raises
    ------
    RankFailure
        If a rank died: the message names the rank, its pid, the step it was on and
        how it ended.
    """
    mpiexec = mpiexec_path()
    env = dict(os.environ)
    env.setdefault("NUMBA_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="mixlab-mpi-") as tmp:
        status_path = status_path or env.get(STATUS_VARIABLE) or os.path.join(tmp, "status")
        table = np.full(2 * procs, -1, dtype=np.int64)
        table.tofile(status_path)
        env[STATUS_VARIABLE] = status_path
        cmd = [mpiexec, "-n", str(procs), sys.executable, "-m", "mixlab", *argv]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        banner: list[str] = []
        threads = [
            threading.Thread(target=_forward, args=(stream, out, banner), daemon=True)
            for stream, out in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr))
        ]
        for thread in threads:
            thread.start()
        try:
            rc = proc.wait()
        except KeyboardInterrupt:  # mpiexec passes Ctrl-C to the ranks; rank 0 says "interrupted"
            proc.wait()
            rc = 130
        finally:
            for thread in threads:
                thread.join()
        if rc in (0, 1, 2, 130):
            return rc
        status = np.fromfile(status_path, dtype=np.int64).reshape(procs, 2)
    raise RankFailure(_failure(rc, banner, status))


def _forward(stream, out, banner: list[str]) -> None:
    """Copy a child's stream line by line, keeping Hydra's banner lines aside."""
    for line in stream:
        if _BANNER.match(line.rstrip("\n")):
            banner.append(line.rstrip("\n"))
        else:
            out.write(line)
            out.flush()


def _failure(rc: int, banner: list[str], status: np.ndarray) -> str:
    """One line: which rank died, at which step, how; from Hydra's banner and the status table."""
    text = " ".join(banner)
    pid = re.search(r"PID (\d+)", text)
    how = re.search(r"EXIT STRING: (.+?)(?:\s+This typically|$)", text)
    code = re.search(r"EXIT CODE: (\d+)", text)
    ending = how.group(1).strip() if how else f"exit code {code.group(1) if code else rc}"
    if pid is not None:
        rows = np.flatnonzero(status[:, 0] == int(pid.group(1)))
        if rows.size:
            rank, step = int(rows[0]), int(status[rows[0], 1])
            return (
                f"rank {rank} (pid {pid.group(1)}) died at step {step} ({ending}); "
                "mpiexec ended the job and no output was written"
            )
    started = int((status[:, 0] >= 0).sum())
    return (
        f"a process of the MPI job died ({ending}) before every rank started its run "
        f"({started} of {status.shape[0]} had); mpiexec ended the job and no output was written"
    )
