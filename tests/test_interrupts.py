"""Ctrl-C: every long command exits 130 with one line on stderr, no traceback, and leaves no file.

The real test starts ``python -m mixlab.cli run ... --save out.npz`` with stderr on a pseudo-terminal
(so that the progress bar is drawn), waits until the bar shows progress (the run is under way),
sends SIGINT and reads the rest. The other commands are interrupted in process.
"""

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from mixlab.cli import main
from mixlab.kernels import progress

LONG_RUN = ["run", "--algorithm", "dpsgd", "--objective", "quadratic", "--workers", "16", "--steps"]
BAR = re.compile(r"^mixlab run:\s+\d+%\|")  # a tqdm line of the run's progress bar
STARTED = re.compile(rb"\| [1-9][0-9]*/[0-9]+ \[")  # the bar has counted steps: the run is under way


def _read(fd, timeout):
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the child closed the terminal
        return None


def interrupt_run(tmp_path, backend, deadline=120.0):
    """Start a long run on a pseudo-terminal, SIGINT it once it reports progress; (rc, stderr, stdout)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal has a width
    argv = [*LONG_RUN, "10000000", "--record-every", "1000", "--backend", backend, "--save", "out.npz"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mixlab.cli", *argv],
        cwd=tmp_path,
        # one thread: numba's parallel kernels crawl on a shared, oversubscribed CPU
        env={**os.environ, "NUMBA_NUM_THREADS": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    text = b""
    try:
        start = time.monotonic()
        while not STARTED.search(text):
            assert time.monotonic() - start < deadline, f"no progress shown: {text!r}"
            assert proc.poll() is None, f"exited early ({proc.returncode}): {text!r}"
            chunk = _read(master, 1.0)
            text += chunk or b""
        proc.send_signal(signal.SIGINT)
        while (chunk := _read(master, 60.0)) is not None and chunk:
            text += chunk
        rc = proc.wait(timeout=60)
        return rc, text.decode(), proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        os.close(master)


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_ctrl_c_during_run_exits_130_with_one_line(tmp_path, backend):
    if backend == "numba":  # compile (or load) the driver here, so that the child only loads it
        assert main([*LONG_RUN, "4", "--quiet"]) == 0
    rc, stderr, stdout = interrupt_run(tmp_path, backend)
    assert rc == 130, stderr
    assert "Traceback" not in stderr and stdout == ""
    lines = [line for line in re.split(r"[\r\n]+", stderr) if line.strip() and not BAR.match(line)]
    assert lines == ["mixlab run: interrupted"], stderr
    assert os.listdir(tmp_path) == []  # neither out.npz nor a temporary file


@pytest.mark.parametrize(
    "argv,target",
    [
        (["age", "-n", "10"], "mixlab.age_and_capacity.age"),
        (["capacity", "-n", "100", "--measure"], "mixlab.age_and_capacity.capacity"),
        (["verify", "--quick"], "mixlab.verification.run_checks"),
        ([*LONG_RUN, "5"], "mixlab.runs.run"),
    ],
)
def test_keyboard_interrupt_in_every_command(monkeypatch, capsys, argv, target):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert captured.err == f"mixlab {argv[0]}: interrupted\n" and captured.out == ""


def test_sigint_inside_compiled_code_is_raised_at_the_next_report():
    """Inside deferred_interrupts a SIGINT only records itself (it would otherwise land in numba's
    object-mode glue as a SystemError); the next report raises KeyboardInterrupt."""
    with pytest.raises(KeyboardInterrupt), progress.deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler has run: still here
        progress.report(1, 2)
        pytest.fail("report did not raise")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_after_the_last_report_is_raised_at_the_end_of_the_block():
    with pytest.raises(KeyboardInterrupt), progress.deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
    with progress.deferred_interrupts():  # a later block starts clean
        progress.report(1, 2)
