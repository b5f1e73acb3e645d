"""Outputs that cannot be written are refused before the computation, naming the path and the
condition (exit 2, one line on stderr, nothing on stdout); every write is atomic, also when a
KeyboardInterrupt arrives in the middle of it (no temporary file, the old file intact)."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from mixlab import io as mio
from mixlab.cli import main
from mixlab.errors import ParameterError
from mixlab.kernels.trajectory import COLUMNS, Trajectory

RUN = ["run", "--algorithm", "allreduce", "--objective", "quadratic", "--workers", "4", "--steps", "6"]


@pytest.fixture
def blocker(tmp_path):
    """A regular file where a directory would have to be."""
    path = tmp_path / "blocker"
    path.write_text("not a directory")
    return path


def refuse(capsys, argv, match):
    """main() exits 2 with one line on stderr matching ``match`` and prints nothing on stdout."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert re.search(match, lines[0]), lines[0]


@pytest.fixture
def no_computation(monkeypatch):
    """Any run or check that starts fails the test: refusals must come first."""
    import mixlab.runs
    import mixlab.verification

    def started(*args, **kwargs):
        raise AssertionError("the computation started before the output path was checked")

    monkeypatch.setattr(mixlab.runs, "run", started)
    monkeypatch.setattr(mixlab.verification, "run_checks", started)


@pytest.mark.parametrize(
    "target,match",
    [
        ("blocker/out.npz", r"cannot write '.*blocker/out\.npz': '.*blocker' is not a directory"),
        (
            "blocker/deeper/out.json",
            r"cannot write '.*blocker/deeper/out\.json': '.*blocker' is not a directory",
        ),
        ("adir", r"cannot write '.*adir': it is a directory"),
        (
            "out.txt",
            r"cannot write '.*out\.txt': trajectory files end in \.npz or \.json, got suffix '\.txt'",
        ),
        ("noext", r"trajectory files end in \.npz or \.json, got suffix 'none'"),
    ],
)
def test_run_save_refused_before_the_run(tmp_path, blocker, capsys, no_computation, target, match):
    (tmp_path / "adir").mkdir()
    refuse(capsys, [*RUN, "--save", str(tmp_path / target)], match)
    assert sorted(os.listdir(tmp_path)) == ["adir", "blocker"]


@pytest.mark.parametrize(
    "option,target,match",
    [
        ("--json", "blocker/v.json", r"cannot write '.*blocker/v\.json': '.*blocker' is not a directory"),
        ("--json", "adir", r"cannot write '.*adir': it is a directory"),
        ("--report", "blocker", r"cannot write into '.*blocker': it exists and is not a directory"),
        ("--report", "blocker/rep", r"cannot write '.*blocker/rep': '.*blocker' is not a directory"),
    ],
)
def test_verify_outputs_refused_before_the_checks(
    tmp_path, blocker, capsys, no_computation, option, target, match
):
    (tmp_path / "adir").mkdir()
    refuse(capsys, ["verify", "--quick", option, str(tmp_path / target)], match)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory_refused(tmp_path, capsys, no_computation):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        refuse(capsys, [*RUN, "--save", str(locked / "new" / "t.npz")], r"'.*locked' is not writable")
    finally:
        locked.chmod(0o700)


def test_save_into_a_new_deep_directory_works(tmp_path, capsys):
    path = tmp_path / "a" / "b" / "c" / "t.npz"
    assert main([*RUN, "--save", str(path), "--backend", "reference"]) == 0
    assert Trajectory.load(path).params["steps"] == 6
    assert os.listdir(path.parent) == ["t.npz"]


def test_cli_refusal_in_a_real_process(tmp_path, blocker):
    proc = subprocess.run(
        [sys.executable, "-m", "mixlab.cli", *RUN, "--save", str(blocker / "t.npz")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("mixlab run: error: cannot write") and "is not a directory" in proc.stderr


def test_check_writable_api(tmp_path, blocker):
    assert mio.check_writable(tmp_path / "x" / "y.json") == tmp_path / "x" / "y.json"
    assert not (tmp_path / "x").exists()  # checking creates nothing
    with pytest.raises(ParameterError, match="it is a directory"):
        mio.check_writable(tmp_path)
    with pytest.raises(ParameterError, match="is not a directory"):
        mio.check_writable(blocker / "y.json")
    with pytest.raises(ParameterError, match=r"files end in \.json, got suffix '\.csv'"):
        mio.check_writable(tmp_path / "y.csv", suffixes=(".json",))
    with pytest.raises(ParameterError, match="it names no file"):
        mio.check_writable("")
    with pytest.raises(ParameterError, match="exists and is not a directory"):
        mio.check_writable_dir(blocker)
    with pytest.raises(ParameterError, match="is a broken link"):
        os.symlink(tmp_path / "missing", tmp_path / "dangling")
        mio.check_writable(tmp_path / "dangling" / "y.json")
    with pytest.raises(ParameterError, match="is not a directory"):
        mio.atomic_write_bytes(blocker / "y.bin", b"x")


def _trajectory():
    cols = {c: np.arange(3.0) for c in COLUMNS}
    return Trajectory(cols, params={"algorithm": "dpsgd"})


def _interrupt_at(monkeypatch, name):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mio.os, name, interrupted)


@pytest.mark.parametrize("where", ["fsync", "chmod", "replace"])
@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda path: _trajectory().save(path.with_suffix(".npz")), id="trajectory-npz"),
        pytest.param(lambda path: _trajectory().save(path.with_suffix(".json")), id="trajectory-json"),
        pytest.param(lambda path: mio.atomic_write_json(path, {"a": 1}), id="json"),
    ],
)
def test_interrupt_inside_a_write_leaves_no_temporary_file(tmp_path, monkeypatch, where, write):
    """Ctrl-C midway through a write: the old file is intact and no temporary file is left."""
    old = dict.fromkeys((tmp_path / "out.npz", tmp_path / "out.json"), b"old")
    for p, data in old.items():
        p.write_bytes(data)
    _interrupt_at(monkeypatch, where)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path / "out.json")
    assert sorted(os.listdir(tmp_path)) == ["out.json", "out.npz"]
    assert all(p.read_bytes() == data for p, data in old.items())


def test_interrupt_inside_the_verify_outputs_leaves_nothing(tmp_path, monkeypatch):
    from mixlab.validation.checks import Check
    from mixlab.validation.report import run_checks, write_json, write_report

    results = run_checks([Check("one", "1 = 1", "example", "==", 0.0, lambda: (1.0, 1.0))], progress=False)
    _interrupt_at(monkeypatch, "replace")
    with pytest.raises(KeyboardInterrupt):
        write_json(tmp_path / "v.json", results)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path / "rep", results, figures=False)
    assert os.listdir(tmp_path) == ["rep"] and os.listdir(tmp_path / "rep") == []


def test_writes_go_through_the_atomic_writer(tmp_path, monkeypatch):
    """Trajectories, verify --json and the report are written by atomic_write_bytes only."""
    from mixlab.validation import report
    from mixlab.validation.checks import Check

    written = []
    original = mio.atomic_write_bytes

    def spy(path, data):
        written.append(os.path.basename(path))
        return original(path, data)

    monkeypatch.setattr(mio, "atomic_write_bytes", spy)
    for module in ("mixlab.kernels.trajectory", "mixlab.validation.report"):
        monkeypatch.setattr(f"{module}.atomic_write_bytes", spy)
    _trajectory().save(tmp_path / "t.npz")
    _trajectory().save(tmp_path / "t.json")
    results = report.run_checks([Check("one", "1 = 1", "ex", "==", 0.0, lambda: (1.0, 1.0))], progress=False)
    report.write_json(tmp_path / "v.json", results)
    report.write_report(tmp_path / "rep", results, figures=False)
    assert written == ["t.npz", "t.json", "v.json", "report.md"]
    assert sorted(os.listdir(tmp_path)) == ["rep", "t.json", "t.npz", "v.json"]
