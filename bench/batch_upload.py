"""Batch upload against raw postTask, and aggregation time, in the same run.

Subject 1: ``add_batch_items`` in calls of 1,000 items (each item a Task of the batch,
the call's escrow reserved in one amount), items/s. Baseline: ``post_task`` one task per
command with its own escrow reservation (what a requester did before batches), tasks/s,
on a sample. Both through the Marketplace on the same PostgreSQL.
Subject 2: aggregation of 10k items x overlap 3 simulated answers: majority vote and our
Dawid-Skene (pure Python), seconds; crowd-kit's Dawid-Skene on the same answers when the
``quality`` extra is installed.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from infra import embedded_postgres  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.domain import Money  # noqa: E402
from taskmarket.domain.batch import BatchItem, BatchSpec  # noqa: E402
from taskmarket.domain.task import TaskSpec  # noqa: E402
from taskmarket.quality.aggregation import dawid_skene, majority_vote  # noqa: E402
from taskmarket.quality.simulation import make_crowd, simulate_answers  # noqa: E402

CHUNK = 1000
SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}}


def upload_rate(app, items: int) -> float:
    lab = app.create_requester("uploader")
    app.deposit_funds(lab, 10**11, "USD", f"wire-{lab}")
    batch_id = app.create_batch(lab, BatchSpec(
        title="Label", instructions="Pick one", answer_schema=SCHEMA, answer_pointer="/label",
        reward=Money(5, "USD"), overlap=3))
    started = time.perf_counter()
    for n in range(0, items, CHUNK):
        chunk = [BatchItem(payload={"image": f"{n + i}.png"}) for i in range(CHUNK)]
        app.add_batch_items(batch_id, lab, f"chunk-{n}", chunk)
    return items / (time.perf_counter() - started)


def post_rate(app, tasks: int) -> float:
    lab = app.create_requester("poster")
    app.deposit_funds(lab, 10**11, "USD", f"wire-{lab}")
    started = time.perf_counter()
    for n in range(tasks):
        app.post_task(lab, TaskSpec(title="Label", instructions="Pick one",
                                    reward=Money(5, "USD"), assignments=3,
                                    payload={"image": f"{n}.png"}))
    return tasks / (time.perf_counter() - started)


def aggregation_times(items: int) -> dict[str, float]:
    rng = random.Random(16)
    labels = ["cat", "dog", "bird"]
    crowd = make_crowd(labels, good=36, random_clickers=12, biased=12, rng=rng)
    truth = {f"item-{n}": rng.choice(labels) for n in range(items)}
    answers = simulate_answers(crowd, truth, 3, rng)
    times = {}
    for name, method in (("majority vote", majority_vote), ("Dawid-Skene (ours)", dawid_skene)):
        started = time.perf_counter()
        method(answers)
        times[name] = time.perf_counter() - started
    try:
        import pandas
        from crowdkit.aggregation import DawidSkene
    except ImportError:
        return times
    frame = pandas.DataFrame(answers, columns=["task", "worker", "label"])
    started = time.perf_counter()
    DawidSkene(n_iter=100).fit_predict(frame)
    times["Dawid-Skene (crowd-kit)"] = time.perf_counter() - started
    return times


def run(quick: bool = False, postgres=None) -> list[dict]:
    if postgres is None:
        with embedded_postgres() as own:
            return _run(quick, own)
    return _run(quick, postgres)


def _run(quick: bool, pg) -> list[dict]:
    items = 10_000 if quick else 100_000
    sample = 200 if quick else 2_000
    with pg.database("batches") as database:
        app = build_marketplace(database)
        uploads, posts = [], []
        for _ in range(1 if quick else 2):  # interleaved rounds
            posts.append(post_rate(app, sample))
            uploads.append(upload_rate(app, items))
        app.close()
    ratio = statistics.median(uploads) / statistics.median(posts)
    print(f"  batch upload ({items:,} items, calls of {CHUNK})  "
          f"{statistics.median(uploads):,.0f} items/s")
    print(f"  raw postTask ({sample:,} tasks)                {statistics.median(posts):,.0f} "
          f"tasks/s  -> upload/postTask = {ratio:.1f}x")
    scored = 3_000 if quick else 10_000
    times = aggregation_times(scored)
    for name, seconds in times.items():
        print(f"  aggregation {scored:,} items x 3: {name:<24} {seconds:.2f} s")
    results = [dict(figure="batch upload vs raw postTask", unit="items/s",
                    subject=statistics.median(uploads), subject_runs=uploads,
                    baseline="postTask", baseline_value=statistics.median(posts),
                    baseline_runs=posts, ratio=ratio, items=items)]
    ours = times["Dawid-Skene (ours)"]
    reference = times.get("Dawid-Skene (crowd-kit)")
    results.append(dict(figure=f"aggregation {scored:,} x 3", unit="s", subject=ours,
                        baseline="crowd-kit" if reference else "majority vote",
                        baseline_value=reference or times["majority vote"],
                        ratio=(reference or times["majority vote"]) / ours))
    return results


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
