"""The compiled kernels' cache: keyed by the kernel sources whatever the import order,
and consistent when several processes compile overloads of one function at once."""

import os
import subprocess
import sys
import threading
import time

from numba.core import caching

from mixlab.kernels import numba_cache
from mixlab.kernels.numba_cache import keyed_cache_dir


def _racing_saves(tmp_path, save, monkeypatch) -> dict:
    """Two threads save different keys into one fresh index; reading the index is slowed
    down so that, unguarded, both read it before either writes it. Returns the index."""
    tmp_path.mkdir()
    cache = caching.IndexDataCacheFile(str(tmp_path), "f-1.py311", ("stamp", 1))
    load = caching.IndexDataCacheFile._load_index

    def slow_load(self):
        index = load(self)
        time.sleep(0.2)
        return index

    monkeypatch.setattr(caching.IndexDataCacheFile, "_load_index", slow_load)
    threads = [threading.Thread(target=save, args=(cache, key, f"code of {key}")) for key in ("sigA", "sigB")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    monkeypatch.setattr(caching.IndexDataCacheFile, "_load_index", load)
    return {key: cache.load(key) for key in ("sigA", "sigB")}


def test_concurrent_saves_into_one_index_keep_every_entry(tmp_path, monkeypatch):
    """numba's own save loses an entry or gives two keys one data file when two saves
    interleave; the locked save keeps both, each with its own code."""
    unguarded = _racing_saves(tmp_path / "plain", numba_cache.NUMBA_SAVE, monkeypatch)
    assert unguarded != {"sigA": "code of sigA", "sigB": "code of sigB"}
    assert _racing_saves(tmp_path / "locked", numba_cache._save, monkeypatch) == {
        "sigA": "code of sigA",
        "sigB": "code of sigB",
    }


def test_the_cache_is_keyed_by_the_kernel_sources_whatever_the_import_order(tmp_path):
    """numba imported first, no NUMBA_CACHE_DIR: a kernel still caches into
    XDG_CACHE_HOME/mixlab/numba/<hash of the kernel sources>."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = (
        "import numba, numpy as np; from mixlab.kernels.averaging.mixing import sparse_mix; "
        "import scipy.sparse as sp; print(sparse_mix(sp.identity(3, format='csr'), np.ones((3, 2))).sum())"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "6.0"
    keyed = tmp_path / "mixlab" / "numba" / keyed_cache_dir().name
    assert any(keyed.rglob("*.nbi"))
