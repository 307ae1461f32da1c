"""The unbiased pass@k estimator over samples per task."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from math import comb

STANDARD_K = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Chance that at least one of k samples drawn from n (c correct) passes."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs 0 <= c <= n and k <= n (n={n}, c={c})")
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def reported_ks(fewest_samples: int) -> list[int]:
    """The standard k values the counts allow, plus the largest k they allow."""
    ks = {k for k in STANDARD_K if k <= fewest_samples}
    ks.add(fewest_samples)
    return sorted(ks)


def mean_pass_at_k(
    counts: Iterable[tuple[int, int]], ks: Iterable[int] | None = None
) -> dict[str, float]:
    """pass@k averaged over tasks, for each k every task has enough samples for."""
    counts = list(counts)
    if not counts:
        return {}
    fewest = min(n for n, _ in counts)
    chosen = reported_ks(fewest) if ks is None else [k for k in ks if k <= fewest]
    return {
        f"pass@{k}": float(sum(pass_at_k(n, c, k) for n, c in counts) / len(counts))
        for k in chosen
    }
