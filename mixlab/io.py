"""Atomic writes: a result file is written to a temporary file in the same
directory and renamed over the target, so an interrupted run (an error, or
Ctrl-C: ``KeyboardInterrupt``) never leaves a truncated or temporary file.

Every file mixlab writes goes through :func:`atomic_write_bytes` (trajectories,
``verify --json``, the report and its figures); :func:`check_writable` tells a
command, before its long computation, whether its output path can be written.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

from mixlab.errors import ParameterError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same directory, then rename).

    Missing parent directories are created; the file gets an ordinary file's mode
    (0666 minus the umask). If anything fails, including a ``KeyboardInterrupt``,
    the temporary file is removed and the target is left as it was.

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

    Raises
    ------
    ParameterError
        If ``path`` cannot be written (see :func:`check_writable`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = atomic_write_bytes(Path(tmp) / "sub" / "x.bin", b"abc")
    ...     out.read_bytes()
    b'abc'
    """
    path = check_writable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; use an ordinary file's mode
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(
    path: str | os.PathLike, *, suffixes: tuple[str, ...] | None = None, kind: str = "output files"
) -> Path:
    """Refuse, before any work is done, an output path that cannot be written.

    ``path`` must not be a directory, its suffix must be one of ``suffixes``
    (when given), and its parent must be a writable directory or creatable: the
    nearest existing ancestor is a writable directory (missing ones are created
    when the file is written). Nothing is created.

    Parameters
    ----------
    path : str or os.PathLike
        The file a command will write.
    suffixes : tuple of str, optional
        The accepted suffixes (e.g. ``(".npz", ".json")``); None: any.
    kind : str, default "output files"
        What the files are, for the message on a wrong suffix ("trajectory files").

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ParameterError
        Naming the path and the violated condition: it is a directory, has another
        suffix, an ancestor is not a directory (a regular file), or the directory is
        not writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_writable(Path(tmp) / "new" / "deep" / "x.json").name
    'x.json'
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_writable(tmp)                          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mixlab.errors.ParameterError: cannot write ...: it is a directory
    """
    path = Path(path)
    if str(path) == "" or path.name in ("", ".", ".."):
        raise ParameterError(f"cannot write {str(path)!r}: it names no file")
    if path.is_dir():
        raise ParameterError(f"cannot write {str(path)!r}: it is a directory")
    if suffixes is not None and path.suffix not in suffixes:
        raise ParameterError(
            f"cannot write {str(path)!r}: {kind} end in {' or '.join(suffixes)}, "
            f"got suffix {path.suffix or 'none'!r}"
        )
    return _check_parent(path, path)


def check_writable_dir(path: str | os.PathLike) -> Path:
    """Refuse, before any work is done, an output directory that cannot be created or written.

    Parameters
    ----------
    path : str or os.PathLike
        A directory that a command will write files into (created when missing).

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ParameterError
        Naming the path and the violated condition: it or an ancestor is not a
        directory, or the directory (or its nearest existing ancestor) is not writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_writable_dir(Path(tmp) / "report").name
    'report'
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"cannot write into {str(path)!r}: it exists and is not a directory")
    return _check_parent(path / "report.md", path)


def _check_parent(file: Path, named: Path) -> Path:
    """Check that ``file``'s parent is, or can be created as, a writable directory."""
    ancestor = file.parent
    while not ancestor.exists():
        if ancestor.is_symlink():  # a dangling link: mkdir would fail
            raise ParameterError(f"cannot write {str(named)!r}: {str(ancestor)!r} is a broken link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ParameterError(f"cannot write {str(named)!r}: {str(ancestor)!r} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ParameterError(f"cannot write {str(named)!r}: the directory {str(ancestor)!r} is not writable")
    return named


def json_safe(obj):
    """``obj`` with every non-finite float replaced by the string ``"inf"``, ``"-inf"`` or ``"nan"``.

    JSON has no infinities or NaN; this is how mixlab writes them (in ``--json``
    output and JSON files), and ``numpy.asarray(..., dtype=float)`` reads them back.

    Parameters
    ----------
    obj : object
        A float, or dicts, lists and tuples of them (other values are kept).

    Returns
    -------
    object
        The same structure, lists for tuples, non-finite floats as strings.

    Examples
    --------
    >>> json_safe({"gap": [1.0, float("inf"), float("nan")], "n": 3})
    {'gap': [1.0, 'inf', 'nan'], 'n': 3}
    """
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def atomic_write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON (newline-terminated) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The target file; replaced if it exists.
    obj : object
        Anything ``json.dumps`` serializes; NaN and infinities are refused
        (``ValueError``), so the file is strict JSON (pass it through
        :func:`json_safe` first to write them as strings).

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
