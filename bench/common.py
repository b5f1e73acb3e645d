"""What every benchmark shares: best-of timing and the table-or-JSON command line."""

from __future__ import annotations

import argparse
import json
import time


def best_of(fn, repeats: int, *, warm_up: bool = False):
    """(seconds of the fastest of ``repeats`` calls of ``fn()``, the last result);
    with ``warm_up`` one untimed call first (JIT compilation, caches)."""
    if warm_up:
        fn()
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def parser(module: str, doc: str) -> argparse.ArgumentParser:
    """An argument parser for ``python -m bench.<module>`` with ``--json``."""
    p = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=doc.split("\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return p


def emit(results: dict, as_json: bool, print_table) -> None:
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
