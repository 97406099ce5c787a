"""Majority vote and our Dawid-Skene; ours against crowd-kit's on the same answers."""

import random

import pytest

from taskmarket.quality.aggregation import dawid_skene, majority_vote
from taskmarket.quality.simulation import make_crowd, simulate_answers

LABELS = ["cat", "dog", "bird"]


def crowd_answers(seed=7, items=400, overlap=3):
    rng = random.Random(seed)
    crowd = make_crowd(LABELS, good=12, random_clickers=6, biased=6, rng=rng)
    truth = {f"item-{n}": rng.choice(LABELS) for n in range(items)}
    return truth, simulate_answers(crowd, truth, overlap, rng)


def accuracy(estimates, truth):
    return sum(estimates[item].label == label for item, label in truth.items()) / len(truth)


def test_majority_vote_takes_the_most_common_answer_with_its_share():
    answers = [("a", "w1", "cat"), ("a", "w2", "cat"), ("a", "w3", "dog"),
               ("b", "w1", "dog"), ("b", "w2", "cat")]
    result = majority_vote(answers)
    assert (result["a"].label, round(result["a"].confidence, 3), result["a"].answers) == (
        "cat", 0.667, 3)
    assert result["b"].label == "cat"  # a tie goes to the label first seen in the batch


def test_dawid_skene_beats_majority_vote_on_a_crowd_with_bad_workers():
    truth, answers = crowd_answers(items=600, overlap=5)
    assert accuracy(dawid_skene(answers), truth) >= accuracy(majority_vote(answers), truth)
    assert accuracy(dawid_skene(answers), truth) > 0.85


@pytest.mark.parametrize("seed", range(10))
def test_on_the_simulation_crowd_dawid_skene_is_at_least_majority_vote(seed):
    # The e2e simulation's crowd (36 good, 12 random clickers, 12 biased; 950 items,
    # overlap 3) without its gold blocking, over ten seeds.
    rng = random.Random(seed)
    crowd = make_crowd(LABELS, good=36, random_clickers=12, biased=12, rng=rng)
    truth = {f"item-{n}": rng.choice(LABELS) for n in range(950)}
    answers = simulate_answers(crowd, truth, 3, rng)
    assert accuracy(dawid_skene(answers), truth) >= accuracy(majority_vote(answers), truth)


@pytest.mark.filterwarnings("ignore::Warning")  # pandas deprecations inside crowd-kit
def test_dawid_skene_agrees_with_crowd_kit():
    pd = pytest.importorskip("pandas")
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    truth, answers = crowd_answers(seed=11, items=300, overlap=3)
    frame = pd.DataFrame(answers, columns=["task", "worker", "label"])
    theirs = crowdkit.DawidSkene(n_iter=100).fit(frame)
    ours = dawid_skene(answers)
    labels = theirs.labels_
    agree = sum(ours[item].label == labels[item] for item in truth) / len(truth)
    assert agree >= 0.99
    probas = theirs.probas_
    differences = [abs(ours[item].confidence - probas.loc[item, ours[item].label])
                   for item in truth if ours[item].label == labels[item]]
    # Both stop on a tolerance (theirs on the likelihood bound, ours on the posteriors).
    assert sum(differences) / len(differences) < 0.01
    assert max(differences) < 0.1
