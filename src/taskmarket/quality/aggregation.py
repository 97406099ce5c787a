"""Majority vote and Dawid-Skene over (item, worker, label) answers. Pure Python.

Dawid and Skene (1979) estimate, by expectation-maximisation, each worker's confusion
matrix (how often it says label l when the truth is k) and each item's posterior over the
true label. This follows the formulation of Toloka's crowd-kit (initialised from majority
vote probabilities, confusion counts clipped at a small epsilon, priors re-estimated each
round, stopping when the likelihood gains less than ``tol``); tests/unit/test_aggregation.py checks it gives crowd-kit's labels on the same
answers when crowd-kit (the optional ``quality`` extra) is installed. Ours avoids pulling
pandas, scikit-learn and transformers into every install.

Labels are any hashable values (the job passes canonical JSON texts). Ties are broken by
the label's order of first appearance, so results are deterministic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

EPS = 1e-10  # crowd-kit's clip for confusion counts


@dataclass(frozen=True)
class Estimate:
    label: Hashable
    confidence: float  # posterior (Dawid-Skene) or vote share (majority)
    answers: int


Answer = tuple[Hashable, Hashable, Hashable]  # (item, worker, label)


def _vote_shares(answers: list[Answer]) -> tuple[dict, list]:
    votes: dict[Hashable, dict[Hashable, int]] = defaultdict(dict)
    labels: dict[Hashable, None] = {}
    for item, _worker, label in answers:
        labels.setdefault(label, None)
        votes[item][label] = votes[item].get(label, 0) + 1
    return votes, list(labels)


def majority_vote(answers: Iterable[Answer]) -> dict[Hashable, Estimate]:
    answers = list(answers)
    votes, labels = _vote_shares(answers)
    order = {label: n for n, label in enumerate(labels)}
    result = {}
    for item, counts in votes.items():
        total = sum(counts.values())
        best = min(counts, key=lambda label: (-counts[label], order[label]))
        result[item] = Estimate(best, counts[best] / total, total)
    return result


def dawid_skene(answers: Iterable[Answer], n_iter: int = 100,
                tol: float = 1e-5) -> dict[Hashable, Estimate]:
    answers = list(answers)
    if not answers:
        return {}
    votes, labels = _vote_shares(answers)
    k = len(labels)
    index = {label: n for n, label in enumerate(labels)}
    items = list(votes)
    item_at = {item: n for n, item in enumerate(items)}
    workers = list(dict.fromkeys(worker for _, worker, _ in answers))
    worker_at = {worker: n for n, worker in enumerate(workers)}
    coded = [(item_at[i], worker_at[w], index[label]) for i, w, label in answers]
    by_item: list[list[tuple[int, int]]] = [[] for _ in items]
    for i, w, label in coded:
        by_item[i].append((w, label))
    # posteriors start as vote shares
    probas = []
    for item in items:
        counts = votes[item]
        total = sum(counts.values())
        probas.append([counts.get(label, 0) / total for label in labels])
    previous = -math.inf
    for _ in range(n_iter):
        priors = [sum(p[c] for p in probas) / len(items) for c in range(k)]
        # M-step: errors[w][observed][true], normalised over observed labels per truth
        errors = [[[0.0] * k for _ in range(k)] for _ in workers]
        for i, w, label in coded:
            row = errors[w][label]
            for c, p in enumerate(probas[i]):
                row[c] += p
        log_errors = []
        for matrix in errors:
            for row in matrix:
                for c in range(k):
                    row[c] = max(row[c], EPS)
            totals = [sum(matrix[obs][c] for obs in range(k)) for c in range(k)]
            log_errors.append([[math.log(matrix[obs][c] / totals[c]) for c in range(k)]
                               for obs in range(k)])
        # E-step; the data's log-likelihood comes with it (EM never lowers it)
        log_priors = [math.log(p) if p > 0 else -math.inf for p in priors]
        likelihood = 0.0
        for i, given in enumerate(by_item):
            scores = list(log_priors)
            for w, label in given:
                row = log_errors[w][label]
                for c in range(k):
                    scores[c] += row[c]
            top = max(scores)
            weights = [math.exp(s - top) if s > -math.inf else 0.0 for s in scores]
            total = sum(weights)
            probas[i] = [x / total for x in weights]
            likelihood += top + math.log(total)
        if likelihood - previous < tol * abs(likelihood):  # relative, as sizes vary
            break
        previous = likelihood
    result = {}
    for i, item in enumerate(items):
        p = probas[i]
        best = max(range(k), key=lambda c: (p[c], -c))
        result[item] = Estimate(labels[best], p[best], len(by_item[i]))
    return result


METHODS = {"MAJORITY_VOTE": majority_vote, "DAWID_SKENE": dawid_skene}
