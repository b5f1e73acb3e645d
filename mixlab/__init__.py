"""mixlab: theory and verification of decentralized and asynchronous model averaging."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"


def _key_numba_cache_by_kernel_sources() -> None:
    """Numba's on-disk cache does not notice when a cached function's callee in
    another file changes, and would then run stale machine code. Unless the
    user chose NUMBA_CACHE_DIR, put the cache in a directory named by a hash
    of every kernel source, so any edit starts a fresh cache. (Takes effect
    when mixlab is imported before numba.)"""
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "kernels").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    os.environ["NUMBA_CACHE_DIR"] = str(root / "mixlab" / "numba" / digest.hexdigest()[:16])


_key_numba_cache_by_kernel_sources()
