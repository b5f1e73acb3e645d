"""Version age for a named topology: exact values and Monte Carlo.

Normalization (docs/design.md): every node gossips at total rate lambda, split
evenly over its neighbours (complete: lambda/(n-1) per pair; ring: lambda/2 to
each neighbour). Model ``yates``: a separate source pushes lambda/n to each of
the n nodes, versions at rate lambda_e = ``update_rate``. Model ``user``: user
0 of n users is the source of its own versions (mean rate u = ``update_rate``)
and the other n - 1 receive; every user gossips.

A run is described by its contact matrix C (agents x agents, agent 0 the
source, C[i, j] the rate at which i contacts j, contacts of the source
included). For version age a push is C with column 0 zeroed, and an exchange
at rate r delivers both ways, so it is C + C^T with column 0 zeroed.

Capacity (``capacity``): the per-user gossip rate that keeps the mean
staleness at a target s*, for uniform gossip and for the owner-only scheme
(only the owner spreads its model), optionally measured by Monte Carlo at those
rates. Mitra & Ulukus ("Scale-Robust Timely Asynchronous Decentralized
Learning", arXiv 2404.19749, fully connected network) state that "the bounded
staleness can only be guaranteed by any distributed opportunistic scheme by
Omega(n) scaling"; their definition of an opportunistic scheme is not
reproduced in mixlab, the owner-only scheme is mixlab's model of it, and both
closed forms are derived in mixlab (see :mod:`mixlab.theory.version_age`).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from mixlab.errors import GraphError, ParameterError, ResourceError
from mixlab.files import read_array
from mixlab.kernels.gossip.exact import MAX_NODES, check_rates, node_ages
from mixlab.kernels.gossip.monte_carlo import MAX_EVENTS, GossipTopology, simulate_age
from mixlab.resources import require_memory
from mixlab.theory import version_age as va
from mixlab.theory.graphs import FAMILIES, make_graph
from mixlab.theory.structured import STRUCTURED, degree, sparse_adjacency
from mixlab.validate import require_choice, require_int
from mixlab.vocabulary import AGE_MODELS, GOSSIP_MODES

METHODS = ("exact", "mc", "both")
#: Largest n of the symmetric exact recursions (O(n) time, about 4 s at 10^8 here).
SYMMETRIC_EXACT_MAX_N = 10**8
#: Largest complete graph whose contact matrix is built (for a rates file or a check).
COMPLETE_CONTACTS_MAX_N = 2048


def mc_bytes(agents: int, contacts: int, batches: int = 20) -> int:
    """Estimated peak memory of :func:`simulate_age` on ``agents`` receiving agents.

    Parameters
    ----------
    agents : int
        Receiving agents n (the source not counted).
    contacts : int
        Stored contact entries (0 for the implicit complete graph).
    batches : int, default 20
        Batches of the batch-means standard error (a (batches, n) array).

    Returns
    -------
    int
        Bytes: per agent its state, the (batches, n) batch means and the results,
        per contact its CSR entry and alias table.

    Examples
    --------
    >>> mc_bytes(10**6, 0) < 2**30
    True
    """
    return 8 * (batches + 8) * (agents + 1) + 32 * contacts


def contact_matrix(graph, model: str, gossip_rate: float) -> sp.csr_matrix:
    """Build the contact matrix C of ``graph`` (agent 0 the source) in the module's normalization.

    Every node contacts its neighbours at total rate ``gossip_rate``, split evenly.
    ``yates`` adds a separate source (row 0) that contacts each of the n nodes at
    ``gossip_rate / n``; ``user`` makes node 0 of the graph the source. Sparse: O(n +
    edges) memory.

    Parameters
    ----------
    graph : networkx.Graph or scipy.sparse matrix
        The topology, nodes 0..n-1 (or its (n, n) adjacency matrix), no isolated node.
    model : {"yates", "user"}
        A separate source, or user 0 as the source of its own versions.
    gossip_rate : float
        Total contact rate lambda of each node.

    Returns
    -------
    scipy.sparse.csr_matrix
        C, shape (n + 1, n + 1) for ``yates`` and (n, n) for ``user``; C[i, j] is
        the rate at which i contacts j.

    Raises
    ------
    ParameterError
        If ``model`` is unknown; GraphError if a node has no neighbour.

    Examples
    --------
    >>> C = contact_matrix(nx.cycle_graph(4), "yates", 1.0)
    >>> C.shape, C[[0]].toarray().tolist(), C[[1]].toarray().tolist()
    ((5, 5), [[0.0, 0.25, 0.25, 0.25, 0.25]], [[0.0, 0.0, 0.5, 0.0, 0.5]])
    """
    require_choice("model", model, AGE_MODELS)
    A = sp.csr_matrix(
        graph if sp.issparse(graph) else nx.to_scipy_sparse_array(graph, nodelist=sorted(graph))
    )
    n = A.shape[0]
    deg = np.asarray(A.sum(axis=1), dtype=np.float64).ravel()
    if (deg == 0).any():
        raise GraphError(f"node {int(np.argmin(deg))} has no neighbour: it can never receive a version")
    node = sp.csr_matrix(sp.diags(gossip_rate / deg) @ A)
    if model == "user":
        return node
    source = sp.csr_matrix(np.full((1, n), gossip_rate / n))
    return sp.csr_matrix(sp.bmat([[sp.csr_matrix((1, 1)), source], [sp.csr_matrix((n, 1)), node]]))


def topology_contacts(topology: str, n: int, model: str, gossip_rate: float, seed: int = 0) -> sp.csr_matrix:
    """The sparse contact matrix of a named topology, built without a dense array.

    The structured families (ring, torus, hypercube, exponential) get their adjacency
    directly (:func:`mixlab.theory.structured.sparse_adjacency`); the others through
    networkx, refused beforehand if the graph would not fit in memory. The complete
    graph is refused beyond :data:`COMPLETE_CONTACTS_MAX_N` nodes: its closed forms and
    implicit Monte Carlo need no matrix.

    Parameters
    ----------
    topology : str
        A graph family of :func:`mixlab.make_graph`.
    n : int
        Number of nodes (users).
    model : {"yates", "user"}
        A separate source, or user 0 as the source.
    gossip_rate : float
        Total contact rate lambda of each node.
    seed : int, default 0
        Seeds the random families.

    Returns
    -------
    scipy.sparse.csr_matrix
        C as in :func:`contact_matrix`.

    Raises
    ------
    ParameterError
        On an invalid topology or n; ResourceError when the graph would not fit.

    Examples
    --------
    >>> topology_contacts("ring", 10**6, "yates", 1.0).nnz
    3000000
    """
    if topology in STRUCTURED and topology != "complete":
        return contact_matrix(sparse_adjacency(topology, n), model, gossip_rate)
    if topology == "complete" and n > COMPLETE_CONTACTS_MAX_N:
        raise ResourceError(
            f"the complete graph's contact matrix has n (n - 1) = {n * (n - 1)} entries; its version "
            "ages have closed forms and an implicit Monte Carlo (use topology='complete' without a rates file)"
        )
    return contact_matrix(make_graph(topology, n, seed=seed), model, gossip_rate)  # make_graph guards memory


def push_rates(C: np.ndarray | sp.csr_matrix, mode: str) -> np.ndarray | sp.csr_matrix:
    """Return the push-rate matrix whose version ages equal those of contacts C in ``mode``.

    Parameters
    ----------
    C : numpy.ndarray or scipy.sparse.csr_matrix
        Contact matrix, shape (m, m), agent 0 the source (see :func:`contact_matrix`).
    mode : {"push", "exchange"}
        ``push``: i sends to j; ``exchange``: a contact delivers both ways.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        A new (m, m) matrix of C's kind: C (``push``) or C + C^T (``exchange``), column
        0 zeroed (nobody pushes to the source).

    Examples
    --------
    >>> C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    >>> push_rates(C, "exchange").tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 5.0], [0.0, 5.0, 0.0]]
    """
    require_choice("gossip mode", mode, GOSSIP_MODES)
    if sp.issparse(C):
        keep = np.ones(C.shape[0])
        keep[0] = 0.0
        R = sp.csr_matrix((C + C.T if mode == "exchange" else C) @ sp.diags(keep))
        R.eliminate_zeros()
        return R
    R = C + C.T if mode == "exchange" else C.copy()
    R[:, 0] = 0.0
    return R


def load_rates(path) -> np.ndarray:
    """Read an (n+1) x (n+1) contact-rate matrix (row and column 0: the source) from .npy or .csv.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file, or a ``.csv`` file of comma-separated rows.

    Returns
    -------
    numpy.ndarray
        The validated float64 matrix, shape (n + 1, n + 1).

    Raises
    ------
    ParameterError
        If the suffix is neither ``.npy`` nor ``.csv``, or the matrix is not square,
        has negative or non-finite entries, a nonzero column 0, or a node the
        source cannot reach.
    """
    R = read_array(path, "rates")
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ParameterError(
            f"rates file {str(path)!r} must hold a square (n+1) x (n+1) matrix, got shape {R.shape}"
        )
    return check_rates(R)


def _symmetric_exact(topology: str, n: int, model: str, mode: str, lam: float, u: float):
    if topology in ("complete", "ring") and n > SYMMETRIC_EXACT_MAX_N:
        raise ResourceError(
            f"the exact {topology}-graph recursion on n = {n} nodes takes n steps; mixlab solves it up "
            f"to n = {SYMMETRIC_EXACT_MAX_N:.0e} (seconds); beyond, use the asymptotic forms of "
            "mixlab.theory.version_age (complete_age_asymptotic, ring_age_asymptotic, "
            "user_staleness_asymptotic)"
        )
    if topology == "complete":
        solver = va.user_staleness_complete if model == "user" else va.complete_graph_age
        return solver(n, lam, u, mode=mode)
    if topology == "ring" and model == "yates":
        return va.ring_age(n, lam, u, mode=mode)
    return None


def age(
    *,
    topology: str = "complete",
    n: int | None = None,
    rates_path=None,
    model: str = "yates",
    mode: str = "push",
    gossip_rate: float = 1.0,
    update_rate: float = 1.0,
    method: str = "both",
    events: int = 10**6,
    seed: int = 0,
) -> dict:
    """Compute the mean version age of gossip on a named topology or a rates file, exactly and by Monte Carlo.

    This is the ``mixlab age`` command. The exact value uses a closed-form
    recursion where symmetry allows it (complete graph; ring with ``yates``), else
    Yates' subset recursion when there are at most 20 receiving nodes; otherwise
    it is None. The Monte Carlo estimate is a batch-means mean with its standard
    error.

    Parameters
    ----------
    topology : str, default "complete"
        A graph family of :func:`mixlab.make_graph` (ignored with ``rates_path``).
    n : int, optional
        Nodes (``yates``) or users (``user``); required unless ``rates_path`` is given.
    rates_path : str or os.PathLike, optional
        An (n+1) x (n+1) contact-rate matrix (.npy or .csv, agent 0 the source,
        column 0 zero; see :func:`load_rates`); overrides ``topology``, ``n``,
        ``model`` and ``gossip_rate``, and makes the results per node.
    model : {"yates", "user"}, default "yates"
        A separate source pushing ``gossip_rate / n`` to each node, or user 0 as
        the source of its own versions.
    mode : {"push", "exchange"}, default "push"
        One-way pushes, or contacts that deliver both ways.
    gossip_rate : float, default 1.0
        Total gossip rate lambda of each node, split evenly over its neighbours.
    update_rate : float, default 1.0
        Version rate: lambda_e (``yates``) or u (``user``).
    method : {"both", "exact", "mc"}, default "both"
        Which values to compute.
    events : int, default 10**6
        Monte Carlo length (contact events).
    seed : int, default 0
        Seeds random topologies and the Monte Carlo.

    Returns
    -------
    dict
        ``n``, ``topology`` (None with ``rates_path``), ``model``, ``mode``,
        ``gossip_rate``, ``update_rate``; ``exact`` (mean age over the receiving
        nodes, a list per node with ``rates_path``, None if not computed or not
        computable), ``mc_mean`` and ``mc_stderr`` (likewise), and ``mc_events``.

    Raises
    ------
    ParameterError
        If neither ``n`` nor ``rates_path`` is given, or on an unknown model,
        mode, method or topology, or an invalid rate or rates file.

    References
    ----------
    R. D. Yates, "The Age of Gossip in Networks", ISIT 2021, arXiv 2102.02893,
    Thm. 1 (the subset recursion). P. Mitra and S. Ulukus, "Scale-Robust Timely
    Asynchronous Decentralized Learning", arXiv 2404.19749, 2024 (the
    user-as-source model). The closed forms of the symmetric cases are derived in
    mixlab; see docs/design.md, section Version age of gossip.

    Examples
    --------
    User 0 of n = 4 users on the complete graph: the staleness is (u/lambda) H_{n-1}.

    >>> import mixlab as ml
    >>> r = ml.age(topology="complete", n=4, model="user", method="exact")
    >>> round(r["exact"], 4), round(1 + 1 / 2 + 1 / 3, 4)
    (1.8333, 1.8333)

    Yates' ring of 5 nodes, exact and a short Monte Carlo run:

    >>> r = ml.age(topology="ring", n=5, events=20_000, seed=0)
    >>> round(r["exact"], 4), bool(abs(r["mc_mean"] - r["exact"]) < 4 * r["mc_stderr"])
    (2.214, True)
    """
    require_choice("model", model, AGE_MODELS)
    require_choice("method", method, METHODS)
    require_choice("gossip mode", mode, GOSSIP_MODES)
    per_node = rates_path is not None
    C = None
    if rates_path is not None:
        C = load_rates(rates_path)
        nodes = C.shape[0] - 1  # row 0 is the source
    elif n is None:
        raise ParameterError("the version age needs n (nodes of the topology) or rates_path (a rates file)")
    else:
        require_choice("topology", topology, FAMILIES)
        nodes = require_int("n", n, minimum=2 if model == "user" else 1)
        if topology in STRUCTURED:
            degree(topology, nodes)  # the family's own conditions on n, in O(1)
    exact = mc_mean = mc_stderr = None
    if method != "mc":
        if not per_node:
            exact = _symmetric_exact(topology, nodes, model, mode, gossip_rate, update_rate)
        agents = nodes if per_node or model == "yates" else nodes - 1
        if exact is None and agents <= MAX_NODES:
            if C is None:
                C = topology_contacts(topology, nodes, model, gossip_rate, seed)
            R = push_rates(C, mode)
            ages = node_ages(sp.csr_matrix(R).toarray(), update_rate)
            exact = ages.tolist() if per_node else float(ages.mean())
    if method != "exact":
        if not per_node and topology == "complete":
            agents = nodes - 1 if model == "user" else nodes
            require_memory(f"a Monte Carlo run on n = {nodes} nodes", mc_bytes(agents, 0))
            top = GossipTopology.complete_graph(
                agents, gossip_rate, gossip_rate, source_is_user=model == "user"
            )
        else:
            if C is None:
                require_memory(
                    f"a Monte Carlo run on the {topology} graph with n = {nodes} nodes",
                    mc_bytes(nodes, 8 * nodes),
                )
                C = topology_contacts(topology, nodes, model, gossip_rate, seed)
            top = GossipTopology.from_contacts(C)
        est = simulate_age(top, update_rate=update_rate, mode=mode, events=events, seed=seed)
        mc_mean, mc_stderr = (
            (est.mean.tolist(), est.stderr.tolist())
            if per_node
            else (est.node_average, est.node_average_stderr)
        )
    return {
        "n": nodes,
        "topology": None if per_node else topology,
        "model": model,
        "mode": mode,
        "gossip_rate": gossip_rate,
        "update_rate": update_rate,
        "exact": exact,
        "mc_mean": mc_mean,
        "mc_stderr": mc_stderr,
        "mc_events": None if mc_mean is None else events,
    }


#: Default Monte Carlo length of ``capacity``: 100 H_{n-1} events per user (at least
#: 10^6 events, which small n get almost for free). The mean age at the threshold is one
#: version, which the uniform scheme reaches in H_{n-1}/lambda time units, so each of the
#: 20 batches must span several of those for the batch means to be independent: with a
#: fixed 300 events per user the reported stderr was 23% too small at n = 10^4.
MEASURE_EVENTS_PER_HARMONIC = 100
MEASURE_MIN_EVENTS = 10**6


#: Estimator of every capacity measurement (see :mod:`mixlab.kernels.gossip.monte_carlo`): u times
#: the time average of the time age t - tau_j, the version age conditioned on the pushes.
#: The owner feeds all n - 1 others, so the version estimator's error is dominated by the
#: owner's own version process (17% of the mean at n = 10^4, uniform, 3e6 events); this
#: one removes that noise and is unbiased (the owner's versions are Poisson).
MEASURE_ESTIMATOR = "time"


def default_measure_events(n: int) -> int:
    """Return the default Monte Carlo length of one capacity run: O(n log n) events.

    max(:data:`MEASURE_MIN_EVENTS`, :data:`MEASURE_EVENTS_PER_HARMONIC` H_{n-1} n);
    about 6 s per run at n = 10^5 on two cores.

    Parameters
    ----------
    n : int
        Number of users (>= 2).

    Returns
    -------
    int
        Events per run.

    Examples
    --------
    >>> default_measure_events(10), default_measure_events(10**4)
    (1000000, 9787506)
    """
    return max(MEASURE_MIN_EVENTS, round(MEASURE_EVENTS_PER_HARMONIC * va.harmonic(n - 1) * n))


def _measured_staleness(
    n: int, source_rate: float, node_rate: float, update_rate: float, mode: str, events: int, seed: int
) -> tuple[float, float]:
    """Mean staleness of one user's model at the n - 1 others (Monte Carlo, implicit
    complete graph, :data:`MEASURE_ESTIMATOR`): the owner pushes at ``source_rate``,
    every other user at ``node_rate``."""
    require_memory(f"a capacity measurement with n = {n} users", mc_bytes(n - 1, 0))
    top = GossipTopology.complete_graph(n - 1, source_rate, node_rate, source_is_user=True)
    est = simulate_age(
        top, update_rate=update_rate, mode=mode, events=events, seed=seed, estimator=MEASURE_ESTIMATOR
    )
    return est.node_average, est.node_average_stderr


def capacity(
    n: int,
    target: float,
    update_rate: float = 1.0,
    mode: str = "push",
    *,
    measure: bool = False,
    events: int | None = None,
    seed: int = 0,
) -> dict:
    """Compute the uniform-gossip and owner-only capacity thresholds for mean staleness <= target.

    Uniform gossip (every user pushes at lambda to a uniform other user) needs
    lambda_u = u H_{n-1} / s* (halved for exchange), Theta(log n); the owner-only
    scheme (only the owner spreads its model) needs lambda_o = u (n-1) / s*,
    Theta(n), in either mode.

    With ``measure`` the thresholds are not restated but measured: the Monte Carlo
    (user-as-source, complete graph of n users; seeds ``seed``, ``seed + 1``,
    ``seed + 2``, so that the three measurements are independent) runs uniform
    gossip at lambda_u and the owner-only scheme at lambda_o (both should give
    s*), and the owner-only scheme at lambda_u, predicted u (n-1)/lambda_u =
    s* (n-1)/H_{n-1} (twice that for exchange): Theta(n / log n) times s*. All
    three use the time-age estimator (:data:`MEASURE_ESTIMATOR`).

    Parameters
    ----------
    n : int
        Number of users (>= 2).
    target : float
        Target mean staleness s* > 0, in versions.
    update_rate : float, default 1.0
        Versions per unit time u of each user.
    mode : {"push", "exchange"}, default "push"
        Gossip mode of the uniform scheme (and of the measurements).
    measure : bool, default False
        Also measure the staleness at the thresholds by Monte Carlo.
    events : int, optional
        Monte Carlo events per run (>= 1; default :func:`default_measure_events`).
    seed : int, default 0
        Seed of the first of the three runs.

    Returns
    -------
    dict
        ``n``, ``target``, ``update_rate``, ``mode``, ``uniform_lambda``,
        ``opportunistic_lambda`` and their ``ratio``. With ``measure`` also
        ``measure_events``, ``measure_seed``, ``measure_estimator``,
        ``opportunistic_at_uniform_predicted``, and ``uniform_measured``,
        ``opportunistic_measured``, ``opportunistic_at_uniform_measured``, each with
        its ``*_measured_stderr`` (batch means).

    Raises
    ------
    ParameterError
        If ``n < 2``, ``target <= 0``, ``update_rate`` is not positive, ``mode`` is
        unknown or ``events < 1``.

    References
    ----------
    P. Mitra and S. Ulukus, "Scale-Robust Timely Asynchronous Decentralized
    Learning", arXiv 2404.19749, 2024 (Omega(log n) capacity suffices for
    uniform gossip, opportunistic schemes need Omega(n); mixlab's owner-only
    scheme models the latter). Both thresholds are derived in mixlab; see
    docs/design.md, section Version age of gossip, and
    :func:`mixlab.proofs.derivations.telescoping`,
    :func:`mixlab.proofs.derivations.owner_only`.

    Examples
    --------
    >>> import mixlab as ml
    >>> c = ml.capacity(10, 1.0)
    >>> round(c["uniform_lambda"], 4), c["opportunistic_lambda"], round(c["ratio"], 4)
    (2.829, 9.0, 3.1814)

    A short measurement at the uniform threshold gives staleness s* = 1:

    >>> m = ml.capacity(10, 1.0, measure=True, events=20_000)
    >>> bool(abs(m["uniform_measured"] - 1.0) < 4 * m["uniform_measured_stderr"])
    True
    """
    uniform = va.uniform_capacity_threshold(n, target, update_rate, mode=mode)
    opportunistic = va.opportunistic_capacity_threshold(n, target, update_rate)
    out = {
        "n": n,
        "target": target,
        "update_rate": update_rate,
        "mode": mode,
        "uniform_lambda": uniform,
        "opportunistic_lambda": opportunistic,
        "ratio": opportunistic / uniform,
    }
    events = (
        default_measure_events(n)
        if events is None
        else require_int("events", events, minimum=1, maximum=MAX_EVENTS)
    )
    if not measure:
        return out
    out.update(
        measure_events=events,
        measure_seed=seed,
        measure_estimator=MEASURE_ESTIMATOR,
        opportunistic_at_uniform_predicted=va.opportunistic_staleness(n, uniform, update_rate),
    )
    runs = {
        "uniform": (uniform, uniform),
        "opportunistic": (opportunistic, 0.0),
        "opportunistic_at_uniform": (uniform, 0.0),
    }
    for k, (name, (source_rate, node_rate)) in enumerate(runs.items()):
        out[f"{name}_measured"], out[f"{name}_measured_stderr"] = _measured_staleness(
            n, source_rate, node_rate, update_rate, mode, events, seed + k
        )
    return out
