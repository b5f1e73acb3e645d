"""Numba's on-disk cache, made safe for mixlab's kernels.

Two problems with the plain cache, both seen as segfaults:

- Stale code: numba checks a cached function's own source file, not its
  callees in other files, and would run old machine code after an edit there.
  Unless the user chose a cache directory (``NUMBA_CACHE_DIR``), mixlab's kernels
  cache into a directory named by a hash of every kernel source
  (:func:`keyed_cache_dir`), so any edit starts a fresh cache. It is set on
  ``numba.config`` when the kernels are imported, so it takes effect whatever
  was imported first.
- Concurrent compilation: numba names a new overload's data file from the index
  it read, so two processes compiling different overloads of one function at
  once (pytest workers, MPI ranks) can both pick ``f.1.nbc``; the index then maps
  one signature to the other's machine code. :func:`serialize_cache_writes`
  makes each save (read index, write data, then write index) atomic under a
  per-function file lock, and writes the data before the index, so a reader
  never finds an entry without its file.

A third hazard stays: numba names the functions of parallel loops from object
addresses, so code cached by different processes can define one symbol twice
and a process that loads both may call the wrong one. A cache filled by one
process is consistent: :mod:`mixlab.kernels.warmup` fills it before several
processes start (``make test`` runs it before its pytest workers).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
from pathlib import Path

import numba
from numba.core import caching

KERNELS = Path(__file__).parent


def keyed_cache_dir() -> Path:
    """The numba cache directory keyed by the source of every kernel.

    Returns
    -------
    pathlib.Path
        ``$XDG_CACHE_HOME/mixlab/numba/<hash>`` (``~/.cache`` when XDG_CACHE_HOME is
        unset), ``<hash>`` the first 16 hex digits of a SHA-256 over the paths and
        contents of every ``.py`` file under ``mixlab/kernels``: any edit of a
        kernel source gives a new directory.
    """
    digest = hashlib.sha256()
    for path in sorted(KERNELS.rglob("*.py")):
        digest.update(str(path.relative_to(KERNELS)).encode() + path.read_bytes())
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "mixlab" / "numba" / digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: str):
    with open(path, "a") as handle:
        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): unguarded, as numba
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save(self, key, data):
    """numba's IndexDataCacheFile.save, atomic across processes, data before index."""
    with _locked(self._index_path + ".lock"):
        overloads = self._load_index()
        name = overloads.get(key)
        if name is None:
            taken = set(overloads.values())
            name = next(n for n in map(self._data_name, itertools.count(1)) if n not in taken)
        self._save_data(name, data)
        overloads[key] = name
        self._save_index(overloads)


#: numba's own save (kept for comparison in the tests)
NUMBA_SAVE = caching.IndexDataCacheFile.save


def serialize_cache_writes() -> None:
    """Make numba's cache saves atomic across processes (idempotent).

    Replaces ``numba.core.caching.IndexDataCacheFile.save`` by a save that holds a
    per-function file lock while it reads the index, writes the data file and then
    the index (the original stays in :data:`NUMBA_SAVE`).
    """
    caching.IndexDataCacheFile.save = _save  # type: ignore[method-assign]


def configure() -> None:
    """Use the keyed directory (unless NUMBA_CACHE_DIR was given) and locked saves."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        numba.config.CACHE_DIR = str(keyed_cache_dir())  # type: ignore[attr-defined]
    serialize_cache_writes()
