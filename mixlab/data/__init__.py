"""Data for the objectives of :func:`~mixlab.kernels.objectives.least_squares_from_data`
and :func:`~mixlab.kernels.objectives.logistic_from_data`: a small real dataset that
ships inside the package (no download at run time; source and licence in
``README.md`` beside this file), and the user's own arrays from an ``.npz`` file.

>>> A, b = load_dataset("breast_cancer")
>>> A.shape, sorted(set(b.tolist()))
((569, 30), [0.0, 1.0])
"""

from __future__ import annotations

import gzip
import io
from importlib import resources

import numpy as np

from mixlab.files import read_npz
from mixlab.validate import require_choice

#: name -> file beside this module (gzip-compressed CSV: a header line, then one
#: sample per row, the features and last the class).
DATASETS = {"breast_cancer": "breast_cancer.csv.gz"}


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A dataset shipped with mixlab: its samples A, standardized, and targets b.

    Parameters
    ----------
    name : str
        A name in :data:`DATASETS`: ``"breast_cancer"``, the Wisconsin breast cancer
        diagnostic data (569 tumours, 30 features of their cell nuclei).

    Returns
    -------
    A : numpy.ndarray, (rows, d)
        The features, each column standardized to mean 0 and variance 1 (the
        population variance, ddof = 0) over the rows; no intercept column.
    b : numpy.ndarray, (rows,)
        The class, 0.0 or 1.0 (breast_cancer: 0 malignant, 212 rows; 1 benign, 357
        rows); :func:`~mixlab.kernels.objectives.logistic_from_data` maps it to -1, +1.

    Examples
    --------
    >>> A, b = load_dataset("breast_cancer")
    >>> bool(np.allclose(A.mean(axis=0), 0) and np.allclose(A.std(axis=0), 1)), int(b.sum())
    (True, 357)

    References
    ----------
    W. H. Wolberg, W. N. Street and O. L. Mangasarian, Breast Cancer Wisconsin
    (Diagnostic), UCI Machine Learning Repository, 1995, doi:10.24432/C5DW2B
    (CC BY 4.0). ``README.md`` beside this module says how the file was made.
    """
    require_choice("dataset", name, DATASETS)
    raw = gzip.decompress(resources.files(__name__).joinpath(DATASETS[name]).read_bytes())
    table = np.loadtxt(io.StringIO(raw.decode("ascii")), delimiter=",", skiprows=1)
    A, b = table[:, :-1], table[:, -1]
    return (A - A.mean(axis=0)) / A.std(axis=0), b


def load_arrays(path) -> tuple[np.ndarray, np.ndarray]:
    """The arrays ``A`` and ``b`` of an ``.npz`` file (``mixlab run --data``).

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` archive (``numpy.savez``) holding arrays named ``A`` (samples,
        rows x features) and ``b`` (one target per row); other arrays are ignored.

    Returns
    -------
    A, b : numpy.ndarray
        As stored; the objective built from them checks their shapes and values.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(path, A=np.eye(3), b=np.ones(3))
    >>> [a.shape for a in load_arrays(path)]
    [(3, 3), (3,)]
    """
    arrays = read_npz(path, "data", ("A", "b"))
    return arrays["A"], arrays["b"]


__all__ = ["DATASETS", "load_arrays", "load_dataset"]
