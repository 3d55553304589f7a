"""When ``max_time`` cannot afford the whole refit: a shorter schedule, or the search's network?

Issue 29, item 5. When the time left cannot afford the refit of the best
genome on all the data for its planned epochs, ``fit`` either refits it for
the epochs it can afford with the learning-rate schedule laid over them
(:func:`skevonas.search.final.shorter_schedule`, when at least
``SHORTEST_REFIT`` of the epochs fit), or keeps the network the search
trained (its training part only, the whole schedule). This script measures
the two against the whole refit, on the bake-off's resamples
(``bench/bakeoff.py``: same splits, same seed genomes, same recipe), paired:

- ``whole``: the seed genome trained on the whole training part for the
  search's ``max_epochs`` (the bake-off's ``seed:<name>`` row; its
  predictions are read from ``--results`` when they are there, else it is
  trained here);
- ``half``: the same, for ``SHORTEST_REFIT * max_epochs`` epochs with the
  cosine schedule over those epochs (the shortest refit ``fit`` plans);
- ``kept``: the genome trained for ``max_epochs`` on a stratified 80 % of
  the training part (``validation_fraction=0.2``: what a candidate of the
  search trains on; the network ``fit`` keeps when even ``half`` does not
  fit), with no refit.

It prints the test accuracy per resample, the means, and the exact McNemar
test of ``half`` against ``kept`` and against ``whole`` over all test trials::

    python bench/refit_schedule.py                      # SCP1 EEGNeX, 5 resamples
    python bench/refit_schedule.py --dataset FashionMNIST-mlp --seed-genome mlp
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from bakeoff import (
    RESULTS,
    genome_classifier,
    load_problem,
    mcnemar_exact,
    n_resamples,
    predictions,
    read_rows,
    search_input,
    stratified_resample,
)
from sklearn.model_selection import train_test_split

from skevonas.search.final import SHORTEST_REFIT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="SelfRegulationSCP1")
    parser.add_argument("--seed-genome", default="eegnex", help="a bake-off seed name")
    parser.add_argument("--resamples", type=int, default=5)
    parser.add_argument("--results", type=Path, default=RESULTS, help="the bake-off's rows")
    args = parser.parse_args()
    problem = load_problem(args.dataset, quick=False)
    X, _, seeds = search_input(problem, quick=False)
    genome = seeds[args.seed_genome]
    rows = read_rows(args.results)
    correct: dict[str, list[np.ndarray]] = {"whole": [], "half": [], "kept": []}
    print(f"{args.dataset}, seed genome {args.seed_genome}, SHORTEST_REFIT {SHORTEST_REFIT}")
    print("| resample | whole | half | kept | half s | kept s |")
    print("|---|---|---|---|---|---|")
    for resample in range(n_resamples(problem, args.resamples)):
        train, test = stratified_resample(problem.y, problem.n_train, resample)
        y_test = problem.y[test]
        found: dict[str, Any] = {}
        seconds: dict[str, float] = {}
        row = rows.get((f"seed:{args.seed_genome}", args.dataset, resample, 0))
        if row is not None:
            found["whole"] = np.asarray(row["predictions"])
        for way in ("whole", "half", "kept"):
            if way in found:
                continue
            clf = genome_classifier(genome, quick=False, seed=0)
            part = train
            if way == "half":
                clf.set_params(max_epochs=int(np.ceil(SHORTEST_REFIT * clf.max_epochs)))
            if way == "kept":  # the search's training part: a stratified 80 %
                part, _ = train_test_split(
                    train, test_size=0.2, stratify=problem.y[train], random_state=0
                )
            start = time.perf_counter()
            clf.fit(X[part], problem.y[part])
            seconds[way] = time.perf_counter() - start
            found[way] = predictions(clf, X[test], len(problem.classes))["predictions"]
        for way in correct:
            correct[way].append(np.asarray(found[way]) == y_test)
        accuracy = {way: float(np.mean(correct[way][-1])) for way in correct}
        print(
            f"| r{resample} | {accuracy['whole']:.4f} | {accuracy['half']:.4f} | "
            f"{accuracy['kept']:.4f} | {seconds.get('half', 0):.0f} | "
            f"{seconds.get('kept', 0):.0f} |",
            flush=True,
        )
    pooled = {way: np.concatenate(values) for way, values in correct.items()}
    print("\n| mean | " + " | ".join(f"{pooled[w].mean():.4f}" for w in correct) + " | | |")
    for other in ("kept", "whole"):
        only_half, only_other, p = mcnemar_exact(pooled["half"], pooled[other])
        print(
            f"- half vs {other}: only half right {only_half}, only {other} right "
            f"{only_other}, exact McNemar p = {p:.3g}"
        )


if __name__ == "__main__":
    main()
