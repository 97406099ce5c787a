"""A simulated crowd with known truth, for tests and benchmarks of the aggregation.

Workers answer from a confusion matrix: a good worker is mostly right, a random clicker
picks uniformly, a biased worker leans to one label whatever the truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatedWorker:
    name: str
    kind: str  # good | random | biased
    confusion: dict[str, dict[str, float]]  # truth -> {answer: probability}

    def answer(self, truth: str, rng: random.Random) -> str:
        row = self.confusion[truth]
        return rng.choices(list(row), weights=list(row.values()))[0]


def make_crowd(labels: list[str], good: int, random_clickers: int, biased: int,
               rng: random.Random) -> list[SimulatedWorker]:
    crowd = []
    for n in range(good):
        accuracy = rng.uniform(0.8, 0.97)
        rest = (1 - accuracy) / (len(labels) - 1)
        crowd.append(SimulatedWorker(f"good-{n}", "good", {
            t: {a: accuracy if a == t else rest for a in labels} for t in labels}))
    for n in range(random_clickers):
        crowd.append(SimulatedWorker(f"random-{n}", "random", {
            t: {a: 1 / len(labels) for a in labels} for t in labels}))
    for n in range(biased):
        favourite = labels[n % len(labels)]
        accuracy = rng.uniform(0.5, 0.7)

        def row(truth: str) -> dict[str, float]:
            if truth == favourite:
                return {a: 0.95 if a == truth else 0.05 / (len(labels) - 1) for a in labels}
            lean = 1 - accuracy
            others = (1 - accuracy - lean) / max(len(labels) - 2, 1)
            return {a: accuracy if a == truth else lean if a == favourite else others
                    for a in labels}
        crowd.append(SimulatedWorker(f"biased-{n}", "biased", {t: row(t) for t in labels}))
    return crowd


def simulate_answers(crowd: list[SimulatedWorker], truth: dict[str, str], overlap: int,
                     rng: random.Random) -> list[tuple[str, str, str]]:
    """(item, worker, answer) with ``overlap`` distinct workers per item."""
    answers = []
    for item, true_label in truth.items():
        for worker in rng.sample(crowd, overlap):
            answers.append((item, worker.name, worker.answer(true_label, rng)))
    return answers
