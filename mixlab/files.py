"""Reading the user's array files: every failure is a :class:`~mixlab.errors.ParameterError`
naming the file and the condition, and an array's size is checked from its header
(:func:`~mixlab.resources.require_memory`) before its data are read.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
>>> np.save(path, np.eye(2))
>>> read_array(path, "rates").tolist()
[[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

import os
import warnings
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from mixlab.errors import ParameterError
from mixlab.resources import require_memory

#: The suffixes :func:`read_array` reads.
ARRAY_SUFFIXES = (".npy", ".csv")


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        raise ParameterError(f"{what} file {str(path)!r} must be a readable file; it {state}")
    if not os.access(path, os.R_OK):
        raise ParameterError(f"{what} file {str(path)!r} must be readable; permission denied")
    return path


def read_npy(stream: IO[bytes], name: str) -> np.ndarray:
    """One numeric array from an open ``.npy`` stream, its size checked before reading.

    Parameters
    ----------
    stream : binary file object
        Positioned at the start of the ``.npy`` data (a file or an ``.npz`` member).
    name : str
        How messages name the array (e.g. ``"rates file 'r.npy'"``).

    Returns
    -------
    numpy.ndarray
        The array (never an object array: pickled data are refused).

    Raises
    ------
    ParameterError
        If the stream is not ``.npy`` data, holds objects, or is truncated;
        ResourceError if the array would not fit in memory.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.arange(3.0))
    >>> _ = buffer.seek(0)
    >>> read_npy(buffer, "example").tolist()
    [0.0, 1.0, 2.0]
    """
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = reader(stream)
    except (ValueError, OSError, EOFError) as exc:
        raise ParameterError(f"{name} must hold a NumPy array (.npy data): {exc}") from None
    if dtype.hasobject:
        raise ParameterError(f"{name} must hold a numeric array; it holds Python objects (pickled data)")
    require_memory(
        f"reading {name} (shape {shape}, {dtype})", float(np.prod(shape, dtype=float)) * dtype.itemsize
    )
    count = int(np.prod(shape, dtype=np.int64))
    data = stream.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ParameterError(
            f"{name} is truncated: its header promises shape {shape} ({count * dtype.itemsize} bytes), "
            f"the file holds {len(data)}"
        )
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def read_array(path: str | os.PathLike, what: str) -> np.ndarray:
    """A float64 array from a ``.npy`` or ``.csv`` file, with a clear error for any bad file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; the suffix chooses the format (:data:`ARRAY_SUFFIXES`).
    what : str
        What the file holds, for messages (e.g. ``"rates"``).

    Returns
    -------
    numpy.ndarray
        float64, at least 2-D for ``.csv`` (one row per line); shape as stored for ``.npy``.

    Raises
    ------
    ParameterError
        Missing or unreadable file, unknown suffix, not an array, object or
        non-numeric entries, truncated data; ResourceError if it would not fit.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> _ = open(path, "w").write("0,1\\n0,0\\n")
    >>> read_array(path, "rates").tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    name = f"{what} file {str(path)!r}"
    if Path(path).suffix not in ARRAY_SUFFIXES:
        raise ParameterError(f"{name} must end in {' or '.join(ARRAY_SUFFIXES)}")
    path = _existing_file(path, what)
    if path.suffix == ".npy":
        with open(path, "rb") as stream:
            array = read_npy(stream, name)
    else:
        require_memory(f"reading {name}", 40 * path.stat().st_size)  # text -> float64 and parser lists
        try:
            with warnings.catch_warnings():  # an empty file: numpy warns, then we refuse it below
                warnings.simplefilter("ignore", UserWarning)
                array = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError as exc:
            raise ParameterError(f"{name} must hold comma-separated numbers: {exc}") from None
        if array.size == 0:
            raise ParameterError(f"{name} must hold comma-separated numbers; it is empty")
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ParameterError(f"{name} must hold real numbers; it holds {array.dtype}")
    return array.astype(np.float64)


def read_npz(path: str | os.PathLike, what: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Named arrays of an ``.npz`` archive, each read with :func:`read_npy`.

    Parameters
    ----------
    path : str or os.PathLike
        The archive (``numpy.savez``).
    what : str
        What the file holds, for messages (e.g. ``"data"``).
    names : tuple of str
        The arrays to read; every one must be present.

    Returns
    -------
    dict of str to numpy.ndarray
        ``name -> array`` for each of ``names`` (other members are not read).

    Raises
    ------
    ParameterError
        Missing file, not an ``.npz`` archive, a missing member, or a bad member
        (see :func:`read_npy`); ResourceError if a member would not fit.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(path, A=np.eye(2), b=np.ones(2))
    >>> sorted(read_npz(path, "data", ("A", "b")))
    ['A', 'b']
    """
    path = _existing_file(path, what)
    name = f"{what} file {str(path)!r}"
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ParameterError(f"{name} must be an .npz archive (numpy.savez): {exc}") from None
    with archive:
        members = {m.removesuffix(".npy"): m for m in archive.namelist()}
        missing = [key for key in names if key not in members]
        if missing:
            raise ParameterError(
                f"{name} must hold arrays {' and '.join(names)}; it lacks {', '.join(missing)} "
                f"(it has: {', '.join(sorted(members)) or 'no arrays'})"
            )
        out = {}
        for key in names:
            try:
                with archive.open(members[key]) as stream:
                    out[key] = read_npy(stream, f"array {key} of {name}")
            except (zipfile.BadZipFile, OSError) as exc:
                raise ParameterError(f"{name} is a damaged archive: {exc}") from None
        return out
