"""The mixlab error hierarchy.

Every error raised on purpose by mixlab derives from :class:`MixlabError`, and
also from the built-in class a caller would expect (``ValueError`` for bad
input, ``RuntimeError`` for an environment or solver that cannot do the work),
so ``except ValueError`` keeps working. Messages state the violated condition
and the offending value.
"""

from __future__ import annotations


class MixlabError(Exception):
    """Base class of every error mixlab raises on purpose."""


class ParameterError(MixlabError, ValueError):
    """An argument violates a stated condition (range, shape, finiteness, choice)."""


class MatrixError(ParameterError):
    """A matrix lacks a required property (square, stochastic, symmetric, nonnegative)."""


class GraphError(ParameterError):
    """A graph lacks a required property (connected, regular, size of the family)."""


class AssumptionError(MixlabError, ValueError):
    """A theorem's assumption does not hold for the given parameters."""


class CertificateError(MixlabError, ValueError):
    """A claimed bound is false (or the matrix is not a valid input to the certificate)."""


class BackendUnavailableError(MixlabError, RuntimeError):
    """A requested compute backend cannot run here (e.g. CUDA without a GPU)."""


class ResourceError(MixlabError, MemoryError):
    """A computation would need more memory (or states) than this machine has; refused before allocating."""


class SolverError(MixlabError, RuntimeError):
    """An optimization solver failed or returned an answer that does not check out."""


class RankFailure(MixlabError, RuntimeError):
    """A process of an MPI job died; the job was ended (the message names the rank and the step)."""


class MixlabWarning(UserWarning):
    """Base class of every warning mixlab issues on purpose (the ``mixlab`` command prints one line)."""


class DivergenceWarning(MixlabWarning, RuntimeWarning):
    """A run diverged: its loss gap or consensus distance became non-finite or blew up (it stopped early)."""


class StationarityWarning(MixlabWarning):
    """A Monte Carlo run is too short for its time average to be near the stationary one."""


class SolverWarning(MixlabWarning):
    """A solver's answer is usable but weaker than asked (e.g. no certified lower bound)."""
