import numpy as np
import pytest

from mixlab.errors import ParameterError
from mixlab.seeding import as_generator, seed_sequence


def test_same_seed_same_stream():
    assert (as_generator(11).random(5) == as_generator(11).random(5)).all()
    assert not (as_generator(11).random(5) == as_generator(12).random(5)).all()


def test_generator_passes_through_and_seed_sequence_from_generator_is_reproducible():
    g = np.random.default_rng(3)
    assert as_generator(g) is g
    a = seed_sequence(np.random.default_rng(3)).entropy
    assert a == seed_sequence(np.random.default_rng(3)).entropy


@pytest.mark.parametrize(
    "seed,match",
    [
        (-1, "seed must be a non-negative integer, got -1"),
        (1.5, "seed must be an int"),
        (True, "seed must be an int"),
    ],
)
def test_bad_seed(seed, match):
    with pytest.raises(ParameterError, match=match):
        as_generator(seed)
