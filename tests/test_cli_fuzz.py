"""The command line never answers with a traceback, whatever it is given.

Hypothesis draws argument vectors for every subcommand from pools that mix
valid values with out-of-range, non-finite, huge and ill-typed ones, and files
that are missing, not arrays, object arrays, of the wrong shape, with negative
or NaN entries, or of a disconnected graph. Every invocation must either
succeed (exit 0, output on stdout) or refuse (exit 2, one line on stderr that
starts ``mixlab``, nothing on stdout), within :data:`TIME_LIMIT` seconds.

The pools hold no valid request for a large amount of *work* (say 10^12
steps): such a request is legitimate and simply long. Large *sizes* are in the
pools: the resource guards refuse what does not fit in memory before allocating.
``MIXLAB_FUZZ_EXAMPLES`` sets the number of invocations per subcommand (the
``ci`` profile's derandomized default otherwise); ``MIXLAB_FUZZ_LOG`` names a file
that records every invocation and its exit status.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import resource
import time
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixlab.cli import main

TIME_LIMIT = 60
#: The address space of each invocation: an allocation past it is a MemoryError there.
ADDRESS_SPACE = 16 * 2**30
EXAMPLES = int(os.environ.get("MIXLAB_FUZZ_EXAMPLES", "0")) or None
#: A file to which every invocation appends "status<TAB>argv<TAB>stderr" (for counting).
LOG = os.environ.get("MIXLAB_FUZZ_LOG")

BAD_COUNTS = ["-1", "0", "1.5", "abc", "", "nan", "1e3", "10000000000000000000000"]
BAD_REALS = ["-1", "0", "1e-320", "nan", "inf", "-inf", "1e308", "x", ""]
HUGE = ["1000000000", "123456789012"]
SEEDS = ["0", "1", "7"]
BAD_SEEDS = ["-5", "abc", "99999999999999999999999"]
#: The share of flag values drawn from the bad pool.
BAD_SHARE = 1 / 8


def pool(good: list[str], bad: list[str] = ()) -> st.SearchStrategy[str]:
    """A flag value: from ``good``, or with probability BAD_SHARE from ``bad``."""
    if not bad:
        return st.sampled_from(good)
    last = round(1 / BAD_SHARE) - 1  # hypothesis favours small integers: 0..last-1 are good
    return st.integers(0, last).flatmap(
        lambda k: st.sampled_from(bad) if k == last else st.sampled_from(good)
    )


def counts(*good: str) -> st.SearchStrategy[str]:
    return pool(list(good), BAD_COUNTS + HUGE)


def reals(*good: str) -> st.SearchStrategy[str]:
    return pool(list(good), BAD_REALS)


def choices(*good: str) -> st.SearchStrategy[str]:
    return pool(list(good), ["bogus", ""])


SEED = pool(SEEDS, BAD_SEEDS)


def _child(argv: list[str], conn) -> None:
    """Run ``mixlab argv`` in a forked child and send (status, stdout, stderr, traceback)."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    out, err = io.StringIO(), io.StringIO()
    status, trace = 0, ""
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        trace = traceback.format_exc()
    conn.send((status, out.getvalue(), err.getvalue(), trace))
    conn.close()


#: Children fork from a server process that has imported mixlab but never run a
#: parallel kernel (forking a process whose numba threading layer is running is unsafe).
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["mixlab.cli", "mixlab.kernels.engines", "test_cli_fuzz"])


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """Run ``mixlab argv`` in a child forked from :data:`CONTEXT`'s server (so that a
    compiled loop can be stopped and a runaway allocation cannot take the test process
    down): (exit status, stdout, stderr); an exception other than SystemExit, or a run
    past TIME_LIMIT, fails the test."""
    receive, send = CONTEXT.Pipe(duplex=False)
    child = CONTEXT.Process(target=_child, args=(argv, send))
    child.start()
    send.close()
    shown = f"mixlab {' '.join(argv)}"
    try:
        if not receive.poll(TIME_LIMIT):
            pytest.fail(f"{shown} ran past {TIME_LIMIT} s")
        try:
            status, out, err, trace = receive.recv()
        except EOFError:
            child.join(5)
            pytest.fail(f"{shown} died without an answer (exit code {child.exitcode})")
    finally:
        child.kill()
        child.join()
    if trace:
        pytest.fail(f"{shown} raised:\n{trace}")
    return status, out, err


def assert_clear_answer(argv: list[str]) -> None:
    if LOG:
        with open(LOG, "a") as fh:
            fh.write(f"?\t{' '.join(argv)}\n")
    start = time.perf_counter()
    status, out, err = invoke(argv)
    if LOG:
        with open(LOG, "a") as fh:
            shown_err = err.strip()[:200].replace("\n", " | ")
            fh.write(f"{status}\t{' '.join(argv)}\t{shown_err}\t{time.perf_counter() - start:.2f}\n")
    shown = f"mixlab {' '.join(argv)}"
    if status == 0:
        assert out.strip(), f"{shown}: exit 0 with no output"
        assert "Traceback" not in err, f"{shown}:\n{err}"
        return
    assert status == 2, f"{shown}: exit {status}\n{err}"
    assert out == "", f"{shown}: refused but wrote to stdout: {out!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mixlab"), f"{shown}: stderr is not one line:\n{err}"


def _flags(
    pools: dict[str, st.SearchStrategy[str] | None], required: tuple[str, ...] = ()
) -> st.SearchStrategy[list[str]]:
    """The ``required`` flags (one of them dropped now and then) and up to six of the
    others, each with a value from its pool (None: a switch)."""
    names = sorted(pools)
    optional = [f for f in names if f not in required]
    keep = st.integers(0, round(1 / BAD_SHARE) - 1).flatmap(
        lambda k: (
            st.just(list(required)) if k or not required else st.permutations(required).map(lambda p: p[1:])
        )
    )
    chosen = st.tuples(keep, st.lists(st.sampled_from(optional), unique=True, max_size=6)).map(
        lambda parts: parts[0] + parts[1]
    )

    def expand(flags):
        parts = [st.just([f]) if pools[f] is None else pools[f].map(lambda v, f=f: [f, v]) for f in flags]
        return st.tuples(*parts).map(lambda ps: [token for part in ps for token in part])

    return chosen.flatmap(expand)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Good and bad input files, by name."""
    root = tmp_path_factory.mktemp("fuzz")
    paths = {}

    def put(name, writer):
        path = root / name
        writer(path)
        paths[name] = str(path)

    rates = np.array([[0, 1.0, 1.0], [0, 0, 1.0], [0, 1.0, 0]])
    put("rates.npy", lambda p: np.save(p, rates))
    put("rates.csv", lambda p: np.savetxt(p, rates, delimiter=","))
    put("object.npy", lambda p: np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True))
    put("cube.npy", lambda p: np.save(p, np.ones((2, 2, 2))))
    put("wide.npy", lambda p: np.save(p, np.ones((2, 3))))
    put("negative.npy", lambda p: np.save(p, -rates))
    put("nan.npy", lambda p: np.save(p, rates * np.nan))
    put("strings.npy", lambda p: np.save(p, np.array([["a", "b"], ["c", "d"]])))
    put("disconnected.npy", lambda p: np.save(p, np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]])))
    put("garbage.npy", lambda p: p.write_bytes(b"\x93NUMPY garbage"))
    put("garbage.csv", lambda p: p.write_text("1,2\nx,y\n"))
    put("empty.csv", lambda p: p.write_text(""))
    put("rates.txt", lambda p: np.savetxt(p, rates))
    put("dir.npy", lambda p: p.mkdir())
    put("huge.npy", lambda p: _huge_header(p, (10**6, 10**6)))
    put("huge.npz", lambda p: _huge_archive(p, (10**6, 10**6)))
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 3))
    put("data.npz", lambda p: np.savez(p, A=A, b=(A[:, 0] > 0).astype(float)))
    put("data_no_b.npz", lambda p: np.savez(p, A=A))
    put("data_nan.npz", lambda p: np.savez(p, A=A * np.nan, b=np.ones(40)))
    put("data_short_b.npz", lambda p: np.savez(p, A=A, b=np.ones(7)))
    put("data_object.npz", lambda p: np.savez(p, A=np.array([None] * 4, dtype=object), b=np.ones(4)))
    put("file", lambda p: p.write_text("not a directory"))
    paths["missing.npy"] = str(root / "missing.npy")
    paths["under_a_file"] = str(root / "file" / "out.npz")
    paths["no_such_dir"] = str(root / "no" / "such" / "dir" / "out.json")
    paths["out.npz"] = str(root / "out.npz")
    paths["out.json"] = str(root / "out.json")
    paths["out.txt"] = str(root / "out.txt")
    paths["dir"] = str(root / "dir.npy")
    return paths


def _huge_header(path, shape) -> None:
    """A .npy whose header promises ``shape`` float64 but that holds no data."""
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": shape})


#: Invocations per subcommand in ``make test`` (MIXLAB_FUZZ_EXAMPLES overrides).
DEFAULT_EXAMPLES = 40


def _huge_archive(path, shape) -> None:
    """An .npz whose member A promises ``shape`` float64 but holds no data."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive, archive.open("A.npy", "w") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": shape})


def _settings(test):
    return settings(max_examples=EXAMPLES or DEFAULT_EXAMPLES)(test)


RATE_FILES = [
    "rates.npy",
    "rates.csv",
    "object.npy",
    "cube.npy",
    "wide.npy",
    "negative.npy",
    "nan.npy",
    "strings.npy",
    "disconnected.npy",
    "garbage.npy",
    "garbage.csv",
    "empty.csv",
    "rates.txt",
    "dir.npy",
    "huge.npy",
    "missing.npy",
]


@_settings
@given(data=st.data())
def test_age(files, data):
    pools = {
        "--topology": choices("complete", "ring", "torus", "hypercube", "star", "exponential", "erdos_renyi"),
        "-n": counts("1", "2", "3", "4", "9", "16"),
        "--gossip-rate": reals("0.5", "1", "2"),
        "--update-rate": reals("0.5", "1", "3"),
        "--model": choices("yates", "user"),
        "--mode": choices("push", "exchange"),
        "--method": choices("exact", "mc", "both"),
        "--events": pool(["1", "100", "2000", "20000"], BAD_COUNTS),
        "--seed": SEED,
        "--json": None,
    }
    argv = ["age", *data.draw(_flags(pools, ("-n",)))]
    if data.draw(st.integers(0, 3)) == 0:
        argv += ["--rates", files[data.draw(st.sampled_from(RATE_FILES))]]
    assert_clear_answer(argv)


@_settings
@given(data=st.data())
def test_capacity(data):
    pools = {
        "-n": counts("2", "3", "10", "1000", "1000000"),
        "--target": reals("0.5", "1", "4"),
        "--update-rate": reals("0.5", "1", "2"),
        "--mode": choices("push", "exchange"),
        "--measure": None,
        "--events": pool(["1000", "20000"], BAD_COUNTS),
        "--seed": SEED,
        "--json": None,
    }
    argv = ["capacity", *data.draw(_flags(pools, ("-n",)))]
    if "--measure" in argv and "--events" not in argv:
        argv += ["--events", "20000"]  # the default measurement is long, not wrong
    if "--measure" in argv and "1000000" in argv:
        return  # measuring a million users: legitimate, long
    assert_clear_answer(argv)


@_settings
@given(data=st.data())
def test_mixing(data):
    pools = {
        "--topology": choices(
            "complete",
            "ring",
            "torus",
            "hypercube",
            "exponential",
            "star",
            "random_regular",
            "erdos_renyi",
            "one_peer_exponential",
        ),
        "-n": counts("2", "3", "4", "8", "9", "12", "16", "64", "1000000"),
        "--weights": choices("metropolis", "max_degree", "uniform", "best_constant", "fmmc", "fdla"),
        "--method": choices("sdp", "subgradient"),
        "--degree": counts("2", "3", "4"),
        "--p": pool(["0.3", "0.5", "1"], ["0", "1.5", "nan", "x", "-0.1"]),
        "--seed": SEED,
        "--json": None,
    }
    argv = ["mixing", *data.draw(_flags(pools, ("--topology", "-n")))]
    structured = {"ring", "torus", "hypercube", "exponential", "complete", "one_peer_exponential"}
    if "1000000" in argv and not structured & set(argv):
        return  # a million-node random graph: legitimate, long
    if "1000000" in argv and ({"fmmc", "fdla"} & set(argv) or "one_peer_exponential" in argv):
        return  # an SDP or a time-varying product on a million nodes: long
    assert_clear_answer(argv)


@_settings
@given(data=st.data())
def test_schedule(data):
    pools = {
        "--kind": choices("butterfly", "random"),
        "-n": counts("1", "2", "4", "8", "9", "16", "64"),
        "-S": counts("1", "2", "3", "4", "8"),
        "--rule": choices("mean", "self_weighted"),
        "--seed": SEED,
        "--json": None,
    }
    assert_clear_answer(["schedule", *data.draw(_flags(pools, ("--kind", "-n", "-S")))])


@_settings
@given(data=st.data())
def test_run(files, data):
    data_files = ("data.npz", "data_no_b.npz", "data_nan.npz", "data_short_b.npz", "data_object.npz")
    bad_files = ("missing.npy", "huge.npy", "dir.npy", "huge.npz")
    pools = {
        "--algorithm": choices(
            "dpsgd", "adpsgd", "allreduce", "sgp", "local_sgd", "wagma", "gradient_tracking"
        ),
        "--objective": choices("quadratic", "least_squares", "logistic", "robust", "heterogeneous_quadratic"),
        "--workers": counts("1", "2", "4", "8", "16"),
        "--steps": pool(["1", "3", "20"], BAD_COUNTS),
        "--dim": counts("1", "2", "5"),
        "--momentum": pool(["0", "0.5"], ["1", "-1", "nan", "x"]),
        "--topology": choices("ring", "complete", "torus", "star", "one_peer_exponential"),
        "--local-steps": counts("1", "2", "4"),
        "--group-size": counts("2", "4"),
        "--sync-period": counts("1", "2", "8"),
        "--rule": choices("mean", "self_weighted"),
        "--noise": reals("0", "0.1", "1"),
        "--heterogeneity": reals("0", "0.5"),
        "--lr": reals("0.01", "0.1", "0.5", "5", "100"),
        "--lr-schedule": choices("constant", "inverse_sqrt", "cosine", "step"),
        "--stragglers": counts("0", "1", "2"),
        "--slowdown": reals("1", "2"),
        "--delay": reals("0", "0.5"),
        "--persistent": None,
        "--seed": SEED,
        "--backend": choices("numba", "reference", "cuda"),
        "--record-every": counts("1", "2", "5"),
        "--json": None,
        "--data": pool([files[k] for k in data_files], [files[k] for k in bad_files]),
        "--partition": choices("iid", "label"),
        "--save": pool(
            [files[k] for k in ("out.npz", "out.json")],
            [files[k] for k in ("out.txt", "under_a_file", "no_such_dir", "dir")],
        ),
    }
    argv = ["run", *data.draw(_flags(pools, ("--algorithm", "--objective", "--workers", "--steps")))]
    assert_clear_answer(argv)


@_settings
@given(data=st.data())
def test_verify_refuses_before_running(files, data):
    """Only bad requests: a valid ``verify`` runs the whole suite (its own tests)."""
    bad = data.draw(
        st.sampled_from(
            [
                ["--quick", "--full"],
                ["--report", files["under_a_file"]],
                ["--report", files["file"]],
                ["--json", files["under_a_file"]],
                ["--json", files["dir"]],
                ["--json"],
                ["--size", "3"],
            ]
        )
    )
    status, out, err = invoke(["verify", "--quick", *bad])
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1, (bad, status, err)
