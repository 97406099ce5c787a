"""Interleaved rounds, medians and ranges: how every figure turns timings into a ratio.

These machines are noisy (2 shared cores), so a subject and its baseline are measured
alternately, round after round, in the same run on the same PostgreSQL; the order rotates
each round so that neither always runs first. A figure reports the median of the per-round
ratios, with their range.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def show(self, fmt: str = ",.0f", unit: str = "") -> str:
        unit = f" {unit}" if unit else ""
        return f"{self.median:{fmt}}{unit} ({self.low:{fmt}}-{self.high:{fmt}})"


def interleave(rounds: int, subjects: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run every subject once per round, rotating who goes first; values per subject."""
    names = list(subjects)
    results: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(subjects[name]())
    return results


def ratios(subject: Sequence[float], baseline: Sequence[float]) -> Spread:
    """Per-round ratios subject/baseline (rounds paired, so drift cancels)."""
    return Spread.of([s / b for s, b in zip(subject, baseline)])


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
