"""Atomic writes: a result file is written to a temporary file in the same
directory and renamed over the target, so an interrupted run never leaves a
truncated file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same directory, then rename).

    Missing parent directories are created; the file gets an ordinary file's mode
    (0666 minus the umask). If anything fails, the temporary file is removed and
    the target is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The target file; replaced if it exists.
    data : bytes
        The complete new contents.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = atomic_write_bytes(Path(tmp) / "sub" / "x.bin", b"abc")
    ...     out.read_bytes()
    b'abc'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; use an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON (newline-terminated) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The target file; replaced if it exists.
    obj : object
        Anything ``json.dumps`` serializes; NaN and infinities are refused
        (``ValueError``), so the file is strict JSON.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = atomic_write_json(Path(tmp) / "r.json", {"rho": 0.5})
    ...     json.loads(out.read_text())
    {'rho': 0.5}
    """
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode())
