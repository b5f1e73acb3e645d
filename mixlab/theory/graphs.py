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
from mixlab.seeding import Seed, as_generator
from mixlab.validate import require_choice, require_int, require_real

#: Rejection-sampling attempts for "conditioned on connectivity" families.
MAX_CONNECT_TRIES = 1000


def complete(n: int) -> nx.Graph:
    """Every pair of workers is connected."""
    return nx.complete_graph(require_int("n", n, minimum=2))


def ring(n: int) -> nx.Graph:
    """The cycle 0-1-...-(n-1)-0 (n >= 3, so that every worker has two neighbours)."""
    return nx.cycle_graph(require_int("n", n, minimum=3))


def torus_shape(n: int) -> tuple[int, int]:
    """The most nearly square factorization n = a*b with 3 <= a <= b."""
    n = require_int("n", n, minimum=9)
    for a in range(math.isqrt(n), 2, -1):
        if n % a == 0:
            return a, n // a
    raise GraphError(f"torus needs n = a*b with a, b >= 3; n = {n} has no such factorization")


def torus(n: int, shape: tuple[int, int] | None = None) -> nx.Graph:
    """2-D torus (periodic grid) of shape a x b = n, row-major node numbering."""
    a, b = torus_shape(n) if shape is None else shape
    if a * b != n or min(a, b) < 3:
        raise GraphError(f"torus shape {a}x{b} must have a*b = n = {n} and both sides >= 3")
    G = nx.grid_2d_graph(a, b, periodic=True)
    return nx.relabel_nodes(G, {(i, j): i * b + j for i, j in G.nodes()})


def hypercube(n: int) -> nx.Graph:
    """The log2(n)-dimensional hypercube; node labels are the binary coordinates."""
    n = require_int("n", n, minimum=2)
    k = n.bit_length() - 1
    if 1 << k != n:
        raise GraphError(f"hypercube needs n to be a power of 2, got n = {n}")
    G = nx.hypercube_graph(k)
    return nx.relabel_nodes(G, {v: int("".join(map(str, v)), 2) for v in G.nodes()})


def exponential(n: int) -> nx.Graph:
    """Static exponential graph (Ying et al. 2021, undirected form): i ~ i ± 2^j mod n
    for j = 0..ceil(log2 n)-1."""
    n = require_int("n", n, minimum=2)
    G = nx.empty_graph(n)
    hops = [1 << j for j in range(max(1, math.ceil(math.log2(n))))]
    G.add_edges_from((i, (i + h) % n) for i in range(n) for h in hops if (i + h) % n != i)
    return G


def star(n: int) -> nx.Graph:
    """Worker 0 is the hub, connected to every other worker."""
    return nx.star_graph(require_int("n", n, minimum=2) - 1)


def random_regular(n: int, degree: int = 3, seed: Seed = None) -> nx.Graph:
    """Uniform random ``degree``-regular graph, conditioned on connectivity."""
    n = require_int("n", n, minimum=2)
    degree = require_int("degree", degree, minimum=1)
    if degree >= n or (n * degree) % 2:
        raise GraphError(f"a {degree}-regular graph on n = {n} nodes needs degree < n and n*degree even")
    rng = as_generator(seed)
    return _connected_sample(
        lambda: nx.random_regular_graph(degree, n, seed=rng), f"random {degree}-regular graph on n = {n}"
    )


def erdos_renyi(n: int, p: float | None = None, seed: Seed = None) -> nx.Graph:
    """G(n, p) conditioned on connectivity; default p = 2 ln(n)/n (above the
    connectivity threshold ln(n)/n)."""
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
    """Any undirected networkx graph, relabelled to 0..n-1 in sorted node order
    (self-loops dropped: mixing weights put their own diagonal)."""
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
    """Build a graph of the named family on n nodes (``seed`` for random families)."""
    require_choice("graph family", family, FAMILIES)
    if family in RANDOM_FAMILIES:
        params["seed"] = seed
    return FAMILIES[family](n, **params)
