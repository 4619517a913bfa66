"""Each rank's share of a global batch (the cases both engines share: tests/test_twins.py)."""

import pytest

from tlr_torch.dist import share


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
