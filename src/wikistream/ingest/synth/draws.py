"""Fast random draws: Zipf-like ranks, calibrated inverse CDFs, heavy tails, weighted choices."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

from wikistream.ingest import calibration as cal


def zipf_index(u: float, size: int, exponent: float) -> int:
    """Map a uniform ``u`` in [0, 1) to a rank in [0, size) with P(rank k) ∝ (k + 1)^-exponent.

    Inverts the continuous power law on [1, size + 1): one power per draw, no tables, so a pool
    of a million names costs nothing until names are used.
    """
    if exponent == 1.0:
        rank = int((size + 1.0) ** u) - 1
    else:
        a = 1.0 - exponent
        rank = int((1.0 + u * ((size + 1.0) ** a - 1.0)) ** (1.0 / a)) - 1
    return rank if rank < size else size - 1


class QuantileTable:
    """An inverse CDF given as (quantile, value) points, linearly interpolated."""

    __slots__ = ("_qs", "_vs")

    def __init__(self, points: Sequence[tuple[float, int]]) -> None:
        if points[0][0] != 0.0 or points[-1][0] != 1.0:
            raise ValueError("a quantile table must run from 0.0 to 1.0")
        self._qs = [float(q) for q, _ in points]
        self._vs = [float(v) for _, v in points]

    def value(self, u: float) -> int:
        """Return the interpolated value at quantile ``u`` in [0, 1)."""
        qs = self._qs
        i = bisect_right(qs, u)
        if i >= len(qs):
            return int(self._vs[-1])
        q0, q1 = qs[i - 1], qs[i]
        v0, v1 = self._vs[i - 1], self._vs[i]
        return round(v0 + (v1 - v0) * (u - q0) / (q1 - q0))


T = TypeVar("T")


class Weighted(Generic[T]):
    """A categorical distribution over ``items`` for repeated draws with ``rng.random()``."""

    __slots__ = ("_cum", "items")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        total = float(sum(weights))
        self.items = list(items)
        self._cum = [w / total for w in accumulate(weights)]
        self._cum[-1] = 1.0

    def index(self, u: float) -> int:
        """Return the index of the item that uniform ``u`` falls on."""
        return bisect_right(self._cum, u)

    def pick(self, u: float) -> T:
        """Return the item that uniform ``u`` falls on."""
        return self.items[bisect_right(self._cum, u)]


_EDIT_DELTA = QuantileTable(cal.EDIT_DELTA_QUANTILES)
_NEW_LENGTH = QuantileTable(cal.NEW_LENGTH_QUANTILES)
_PAGE_LENGTH = QuantileTable(cal.PAGE_LENGTH_QUANTILES)


def draw_edit_delta(rng: random.Random) -> int:
    """Return a byte delta for an edit: mostly small, rare large deletions and additions."""
    u = rng.random()
    if u < cal.DELETION_TAIL_SHARE:
        # Pareto above 500 bytes removed; u / share is again uniform in [0, 1).
        v = 1.0 - u / cal.DELETION_TAIL_SHARE
        removed = 500.0 * v ** (-1.0 / cal.DELETION_TAIL_ALPHA)
        return -min(int(removed), cal.DELETION_TAIL_MAX)
    return _EDIT_DELTA.value((u - cal.DELETION_TAIL_SHARE) / (1.0 - cal.DELETION_TAIL_SHARE))


def draw_new_length(rng: random.Random) -> int:
    """Return the size in bytes of a newly created page."""
    return _NEW_LENGTH.value(rng.random())


def draw_page_length(rng: random.Random) -> int:
    """Return the size in bytes of an existing page."""
    return _PAGE_LENGTH.value(rng.random())


def draw_large_deletion(rng: random.Random) -> int:
    """Return a delta below the seed's large-deletion threshold (−5 000 bytes)."""
    return -int(5001 + 40000 * rng.random() ** 2)


def draw_small_delta(rng: random.Random) -> int:
    """Return a vandal-like small change: junk added or a sentence removed."""
    return rng.choice((-1, 1)) * int(1 + 400 * rng.random() ** 3)
