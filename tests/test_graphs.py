import networkx as nx
import pytest

from mixlab.errors import GraphError, ParameterError
from mixlab.theory import graphs


@pytest.mark.parametrize(
    "family,n,degrees",
    [
        ("complete", 6, {5}),
        ("ring", 7, {2}),
        ("torus", 12, {4}),
        ("hypercube", 16, {4}),
        ("star", 5, {1, 4}),
        ("exponential", 16, {7}),
    ],
)
def test_family_degrees(family, n, degrees):
    G = graphs.make_graph(family, n)
    assert G.number_of_nodes() == n and nx.is_connected(G)
    assert {d for _, d in G.degree()} == degrees


def test_exponential_graph_hops():
    G = graphs.exponential(10)  # hops 1, 2, 4, 8 (both directions, mod 10)
    assert set(G.neighbors(0)) == {1, 2, 4, 8, 9, 6}


def test_torus_shape_is_most_square():
    assert graphs.torus_shape(36) == (6, 6)
    assert graphs.torus_shape(30) == (5, 6)


def test_hypercube_labels_are_binary_coordinates():
    G = graphs.hypercube(8)
    assert all(bin(u ^ v).count("1") == 1 for u, v in G.edges())


@pytest.mark.parametrize("family,params", [("random_regular", {"degree": 3}), ("erdos_renyi", {"p": 0.2})])
def test_random_families_are_connected_and_reproducible(family, params):
    a = graphs.make_graph(family, 30, seed=5, **params)
    b = graphs.make_graph(family, 30, seed=5, **params)
    assert nx.is_connected(a) and sorted(a.edges()) == sorted(b.edges())
    c = graphs.make_graph(family, 30, seed=6, **params)
    assert sorted(a.edges()) != sorted(c.edges())


def test_from_networkx_relabels_and_drops_self_loops():
    G = nx.Graph([("b", "a"), ("b", "c"), ("c", "c")])
    H = graphs.from_networkx(G)
    assert sorted(tuple(sorted(e)) for e in H.edges()) == [(0, 1), (1, 2)]


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: graphs.make_graph("petersen", 10),
            r"unknown graph family 'petersen'; valid: complete, ring",
        ),
        (lambda: graphs.ring(2), r"n must be >= 3, got 2"),
        (lambda: graphs.complete(1), r"n must be >= 2, got 1"),
        (lambda: graphs.complete(2.5), r"n must be an integer, got 2.5"),
        (lambda: graphs.hypercube(12), r"hypercube needs n to be a power of 2, got n = 12"),
        (lambda: graphs.torus(13), r"torus needs n = a\*b with a, b >= 3; n = 13"),
        (
            lambda: graphs.torus(12, shape=(2, 6)),
            r"torus shape 2x6 must have a\*b = n = 12 and both sides >= 3",
        ),
        (
            lambda: graphs.random_regular(5, 3),
            r"a 3-regular graph on n = 5 nodes needs degree < n and n\*degree even",
        ),
        (lambda: graphs.erdos_renyi(50, 0.001, seed=0), r"disconnected in 1000 draws"),
        (lambda: graphs.erdos_renyi(50, 0.0), r"p must be > 0"),
        (
            lambda: graphs.from_networkx(nx.Graph([(0, 1), (2, 3)])),
            r"graph must be connected for consensus; it has 2 components",
        ),
        (lambda: graphs.from_networkx(nx.DiGraph([(0, 1)])), r"mixing graphs must be undirected"),
        (lambda: graphs.from_networkx(nx.empty_graph(1)), r"a graph needs n >= 2 nodes, got 1"),
    ],
)
def test_bad_graph_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_graph_errors_are_value_errors():
    with pytest.raises(ValueError):
        graphs.hypercube(6)
    assert issubclass(GraphError, ParameterError)
