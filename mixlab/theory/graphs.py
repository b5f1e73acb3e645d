"""Graph families of decentralized training, as undirected networkx graphs on
nodes 0..n-1.

The time-varying one-peer exponential graph is a schedule, not a static graph:
see :class:`mixlab.theory.schedules.OnePeerExponential`.

>>> G = make_graph("torus", 12)
>>> sorted(d for _, d in G.degree())[:3]
[4, 4, 4]
"""

from __future__ import annotations

import math

import networkx as nx

from mixlab.errors import GraphError
from mixlab.resources import require_memory
from mixlab.seeding import Seed, as_generator
from mixlab.validate import require_choice, require_int, require_real

#: Bytes networkx holds per node and per edge (its adjacency dicts), generously.
NETWORKX_BYTES = 500
#: Rejection-sampling attempts for "conditioned on connectivity" families.
MAX_CONNECT_TRIES = 1000


def complete(n: int) -> nx.Graph:
    """Complete graph K_n: every pair of workers is connected.

    Parameters
    ----------
    n : int
        Number of workers, >= 2 (a ParameterError otherwise).

    Returns
    -------
    networkx.Graph
        Nodes 0..n-1, n (n - 1) / 2 edges.

    Examples
    --------
    >>> from mixlab.theory.graphs import complete
    >>> complete(4).number_of_edges()
    6

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    A. A. Hagberg, D. A. Schult and P. J. Swart, "Exploring network structure, dynamics,
    and function using NetworkX", Proc. 7th Python in Science Conference (SciPy), 2008.
    """
    return nx.complete_graph(require_int("n", n, minimum=2))


def ring(n: int) -> nx.Graph:
    """The cycle 0-1-...-(n-1)-0, the ring topology of D-PSGD.

    Parameters
    ----------
    n : int
        Number of workers, >= 3 so that every worker has two neighbours.

    Returns
    -------
    networkx.Graph
        Nodes 0..n-1; worker i is adjacent to i - 1 and i + 1 (mod n).

    Examples
    --------
    >>> from mixlab.theory.graphs import ring
    >>> sorted(ring(5).neighbors(0))
    [1, 4]

    References
    ----------
    X. Lian, C. Zhang, H. Zhang, C.-J. Hsieh, W. Zhang and J. Liu, "Can decentralized
    algorithms outperform centralized algorithms? A case study for decentralized
    parallel stochastic gradient descent", NeurIPS 2017 (D-PSGD, ring topology).
    docs/design.md, section Communication patterns (the graph families).
    """
    return nx.cycle_graph(require_int("n", n, minimum=3))


def torus_shape(n: int) -> tuple[int, int]:
    """The most nearly square factorization n = a * b with 3 <= a <= b.

    Parameters
    ----------
    n : int
        Number of workers, >= 9.

    Returns
    -------
    tuple of int
        ``(a, b)`` with a * b = n, 3 <= a <= b and a as large as possible.

    Raises
    ------
    GraphError
        If n has no factorization with both factors >= 3 (e.g. a prime).

    Examples
    --------
    >>> from mixlab.theory.graphs import torus_shape
    >>> torus_shape(12), torus_shape(36)
    ((3, 4), (6, 6))

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    """
    n = require_int("n", n, minimum=9)
    for a in range(math.isqrt(n), 2, -1):
        if n % a == 0:
            return a, n // a
    raise GraphError(f"torus needs n = a*b with a, b >= 3; n = {n} has no such factorization")


def torus(n: int, shape: tuple[int, int] | None = None) -> nx.Graph:
    """2-D torus (periodic grid) of shape a x b = n, row-major node numbering.

    Parameters
    ----------
    n : int
        Number of workers, >= 9.
    shape : tuple of int, optional
        ``(a, b)`` with a * b = n and a, b >= 3; default :func:`torus_shape` (n).

    Returns
    -------
    networkx.Graph
        Nodes 0..n-1, node i * b + j at grid position (i, j); 4-regular.

    Raises
    ------
    GraphError
        If ``shape`` does not multiply to n or has a side < 3.

    Examples
    --------
    >>> from mixlab.theory.graphs import torus
    >>> G = torus(12)
    >>> G.number_of_edges(), sorted(G.neighbors(0))
    (24, [1, 3, 4, 8])

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    A. A. Hagberg, D. A. Schult and P. J. Swart, "Exploring network structure, dynamics,
    and function using NetworkX", Proc. 7th Python in Science Conference (SciPy), 2008.
    """
    a, b = torus_shape(n) if shape is None else shape
    if a * b != n or min(a, b) < 3:
        raise GraphError(f"torus shape {a}x{b} must have a*b = n = {n} and both sides >= 3")
    G = nx.grid_2d_graph(a, b, periodic=True)
    return nx.relabel_nodes(G, {(i, j): i * b + j for i, j in G.nodes()})


def hypercube(n: int) -> nx.Graph:
    """The log2(n)-dimensional hypercube; node labels are the binary coordinates.

    Parameters
    ----------
    n : int
        Number of workers, a power of 2 (>= 2).

    Returns
    -------
    networkx.Graph
        Nodes 0..n-1; i ~ j iff their binary representations differ in one bit.

    Raises
    ------
    GraphError
        If n is not a power of 2.

    Examples
    --------
    >>> from mixlab.theory.graphs import hypercube
    >>> sorted(hypercube(8).neighbors(5))     # 101 ~ 100, 111, 001
    [1, 4, 7]

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    A. A. Hagberg, D. A. Schult and P. J. Swart, "Exploring network structure, dynamics,
    and function using NetworkX", Proc. 7th Python in Science Conference (SciPy), 2008.
    """
    G = nx.hypercube_graph(hypercube_dimension(n))
    coordinates = {v: v if isinstance(v, tuple) else (v,) for v in G.nodes()}  # k = 1: plain labels
    return nx.relabel_nodes(G, {v: int("".join(map(str, c)), 2) for v, c in coordinates.items()})


def exponential(n: int) -> nx.Graph:
    """Static exponential graph (Ying et al. 2021, undirected form).

    Worker i is adjacent to i ± 2^j mod n for j = 0..ceil(log2 n) - 1.

    Parameters
    ----------
    n : int
        Number of workers, >= 2.

    Returns
    -------
    networkx.Graph
        Nodes 0..n-1, degree about 2 log2 n.

    Examples
    --------
    >>> from mixlab.theory.graphs import exponential
    >>> sorted(exponential(8).neighbors(0))
    [1, 2, 4, 6, 7]

    References
    ----------
    B. Ying, K. Yuan, Y. Chen, H. Hu, P. Pan and W. Yin, "Exponential graph is provably
    efficient for decentralized deep training", NeurIPS 2021.
    """
    n = require_int("n", n, minimum=2)
    G = nx.empty_graph(n)
    G.add_edges_from((i, (i + h) % n) for i in range(n) for h in exponential_hops(n) if (i + h) % n != i)
    return G


def hypercube_dimension(n: int) -> int:
    """The dimension k of the hypercube on n = 2^k nodes.

    Parameters
    ----------
    n : int
        Number of workers, a power of 2, >= 2.

    Returns
    -------
    int
        k = log2 n.

    Raises
    ------
    GraphError
        If n is not a power of 2 (a ParameterError if n < 2).

    Examples
    --------
    >>> hypercube_dimension(1024)
    10

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    """
    n = require_int("n", n, minimum=2)
    k = n.bit_length() - 1
    if 1 << k != n:
        raise GraphError(f"hypercube needs n to be a power of 2, got n = {n}")
    return k


def exponential_hops(n: int) -> list[int]:
    """The hops 2^j, j = 0..ceil(log2 n) - 1, of the static exponential graph on n nodes.

    Parameters
    ----------
    n : int
        Number of workers, >= 2.

    Returns
    -------
    list of int
        Worker i is adjacent to i + h and i - h (mod n) for each hop h.

    Examples
    --------
    >>> exponential_hops(8)
    [1, 2, 4]

    References
    ----------
    B. Ying, K. Yuan, Y. Chen, H. Hu, P. Pan and W. Yin, "Exponential graph is provably
    efficient for decentralized deep training", NeurIPS 2021.
    """
    n = require_int("n", n, minimum=2)
    return [1 << j for j in range(max(1, math.ceil(math.log2(n))))]


def star(n: int) -> nx.Graph:
    """Star graph: worker 0 is the hub, connected to every other worker.

    Parameters
    ----------
    n : int
        Number of workers, >= 2.

    Returns
    -------
    networkx.Graph
        Nodes 0..n-1 with edges {0, i}, i = 1..n-1.

    Examples
    --------
    >>> from mixlab.theory.graphs import star
    >>> sorted(d for _, d in star(5).degree())
    [1, 1, 1, 1, 4]

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    A. A. Hagberg, D. A. Schult and P. J. Swart, "Exploring network structure, dynamics,
    and function using NetworkX", Proc. 7th Python in Science Conference (SciPy), 2008.
    """
    return nx.star_graph(require_int("n", n, minimum=2) - 1)


def random_regular(n: int, degree: int = 3, seed: Seed = None) -> nx.Graph:
    """Uniform random ``degree``-regular graph, conditioned on connectivity.

    Disconnected draws are rejected, up to :data:`MAX_CONNECT_TRIES` times.

    Parameters
    ----------
    n : int
        Number of workers, >= 2.
    degree : int, default 3
        Degree of every node; needs degree < n and n * degree even.
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Randomness; None draws fresh entropy.

    Returns
    -------
    networkx.Graph
        A connected ``degree``-regular graph on nodes 0..n-1.

    Raises
    ------
    GraphError
        If no such graph exists, or every draw was disconnected.

    Examples
    --------
    >>> from mixlab.theory.graphs import random_regular
    >>> G = random_regular(8, 3, seed=0)
    >>> sorted(set(d for _, d in G.degree())), G.number_of_edges()
    ([3], 12)

    References
    ----------
    A. Steger and N. C. Wormald, "Generating random regular graphs quickly",
    Combinatorics, Probability and Computing 8(4), 1999 (the sampler behind
    ``networkx.random_regular_graph``).
    """
    n = require_int("n", n, minimum=2)
    degree = require_int("degree", degree, minimum=1)
    if degree >= n or (n * degree) % 2:
        raise GraphError(f"a {degree}-regular graph on n = {n} nodes needs degree < n and n*degree even")
    rng = as_generator(seed)
    return _connected_sample(
        lambda: nx.random_regular_graph(degree, n, seed=rng), f"random {degree}-regular graph on n = {n}"
    )


def erdos_renyi(n: int, p: float | None = None, seed: Seed = None) -> nx.Graph:
    """Erdos-Renyi G(n, p), conditioned on connectivity.

    Disconnected draws are rejected, up to :data:`MAX_CONNECT_TRIES` times.

    Parameters
    ----------
    n : int
        Number of workers, >= 2.
    p : float, optional
        Edge probability in (0, 1]; default min(1, 2 ln(n) / n), above the
        connectivity threshold ln(n) / n.
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Randomness; None draws fresh entropy.

    Returns
    -------
    networkx.Graph
        A connected graph on nodes 0..n-1.

    Raises
    ------
    GraphError
        If every draw was disconnected (``p`` too small).

    Examples
    --------
    >>> import networkx as nx
    >>> from mixlab.theory.graphs import erdos_renyi
    >>> G = erdos_renyi(10, seed=0)
    >>> G.number_of_nodes(), nx.is_connected(G)
    (10, True)

    References
    ----------
    P. Erdos and A. Renyi, "On random graphs I", Publicationes Mathematicae Debrecen 6,
    1959 (the model and its connectivity threshold).
    """
    n = require_int("n", n, minimum=2)
    p = min(1.0, 2 * math.log(n) / n) if p is None else require_real("p", p, low=0, high=1, low_open=True)
    rng = as_generator(seed)
    return _connected_sample(lambda: nx.gnp_random_graph(n, p, seed=rng), f"Erdos-Renyi G(n={n}, p={p:g})")


def _connected_sample(draw, what: str) -> nx.Graph:
    for _ in range(MAX_CONNECT_TRIES):
        G = draw()
        if nx.is_connected(G):
            return G
    raise GraphError(f"{what} was disconnected in {MAX_CONNECT_TRIES} draws; raise the density")


def from_networkx(G: nx.Graph, *, require_connected: bool = True) -> nx.Graph:
    """Any undirected networkx graph, relabelled to nodes 0..n-1 in sorted node order.

    Self-loops are dropped: the weight rules set the diagonal themselves.

    Parameters
    ----------
    G : networkx.Graph
        Undirected graph with n >= 2 sortable nodes; ``G`` is not modified.
    require_connected : bool, default True
        Raise unless the graph is connected (consensus needs it).

    Returns
    -------
    networkx.Graph
        A relabelled copy without self-loops.

    Raises
    ------
    GraphError
        If ``G`` is directed, has fewer than 2 nodes, or is disconnected while
        ``require_connected``.

    Examples
    --------
    >>> import networkx as nx
    >>> from mixlab.theory.graphs import from_networkx
    >>> H = from_networkx(nx.Graph([("a", "b"), ("b", "c"), ("c", "c")]))
    >>> sorted(H.edges())
    [(0, 1), (1, 2)]

    References
    ----------
    A. A. Hagberg, D. A. Schult and P. J. Swart, "Exploring network structure, dynamics,
    and function using NetworkX", Proc. 7th Python in Science Conference (SciPy), 2008.
    """
    if G.is_directed():
        raise GraphError("mixing graphs must be undirected; got a directed graph")
    n = G.number_of_nodes()
    if n < 2:
        raise GraphError(f"a graph needs n >= 2 nodes, got {n}")
    H = nx.convert_node_labels_to_integers(G, ordering="sorted")
    H.remove_edges_from(list(nx.selfloop_edges(H)))
    if require_connected and not nx.is_connected(H):
        k = nx.number_connected_components(H)
        raise GraphError(f"graph must be connected for consensus; it has {k} components")
    return H


FAMILIES = {
    "complete": complete,
    "ring": ring,
    "torus": torus,
    "hypercube": hypercube,
    "exponential": exponential,
    "star": star,
    "random_regular": random_regular,
    "erdos_renyi": erdos_renyi,
}
RANDOM_FAMILIES = ("random_regular", "erdos_renyi")


def make_graph(family: str, n: int, *, seed: Seed = None, **params) -> nx.Graph:
    """Build a graph of the named family on n nodes.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`: complete, ring, torus, hypercube, exponential,
        star, random_regular, erdos_renyi.
    n : int
        Number of workers (each family states its own minimum).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Randomness of the random families; ignored by the others.
    **params
        Further arguments of the family's constructor (``shape``, ``degree``, ``p``).

    Returns
    -------
    networkx.Graph
        Undirected graph on nodes 0..n-1.

    Raises
    ------
    ParameterError
        If ``family`` is unknown or ``n`` is invalid for it (GraphError, a subclass).

    Examples
    --------
    >>> import mixlab as ml
    >>> G = ml.make_graph("random_regular", 6, seed=1, degree=4)
    >>> sorted(set(d for _, d in G.degree()))
    [4]

    References
    ----------
    docs/design.md, section Communication patterns (the graph families).
    B. Ying et al., "Exponential graph is provably efficient for decentralized deep
    training", NeurIPS 2021 (the exponential family).
    """
    require_choice("graph family", family, FAMILIES)
    size = require_int("n", n, minimum=1)
    edges = size * (size - 1) / 2 if family in ("complete", "erdos_renyi") else size * max(1, math.log2(size))
    require_memory(f"the {family} graph on n = {size} nodes (networkx)", NETWORKX_BYTES * (size + edges))
    if family in RANDOM_FAMILIES:
        params["seed"] = seed
    return FAMILIES[family](n, **params)
