"""Each rank's share of a global batch, and the seeded shuffle both engines use."""

import pytest

from tlr_torch.dist import share
from tlr_torch.batches import training_batches
from tlr_torch.random import rng, shuffle


@pytest.mark.parametrize("n", [0, 1, 7, 8, 33, 100])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 8])
def test_shares_cover_every_example_once_in_order(n, size):
    parts = [share(n, size, r) for r in range(size)]
    assert parts[0][0] == 0 and parts[-1][1] == n
    for (a, b), (c, _) in zip(parts, parts[1:]):
        assert b == c, "shares are contiguous and in rank order"
    lengths = [b - a for a, b in parts]
    assert max(lengths) - min(lengths) <= 1
    assert lengths == sorted(lengths, reverse=True), "the first ranks take the extra examples"


def test_rng_gives_the_numbers_the_node_side_gives():
    # src/runtime/random.ts: rng(42) starts 0.6011037519201636, 0.44829055899754167, 0.8524657934904099.
    r = rng(42)
    assert [r(), r(), r()] == [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]


def test_shuffle_gives_the_order_the_node_side_gives():
    # src/runtime/random.ts: shuffle([0..9], rng(7)) is [6, 5, 8, 1, 2, 3, 4, 7, 9, 0].
    assert shuffle(list(range(10)), rng(7)) == [6, 5, 8, 1, 2, 3, 4, 7, 9, 0]


def test_training_batches_join_a_last_batch_of_one_as_the_node_side_does():
    # src/runtime/batches.ts: trainingBatches([0..8], 4) is [[0,1,2,3],[4,5,6,7,8]]; 8 and 10 images stay as cut.
    assert training_batches(list(range(9)), 4) == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]
    assert training_batches(list(range(8)), 4) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert training_batches(list(range(10)), 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert training_batches([5], 4) == [[5]]
