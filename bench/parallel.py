"""One EEG generation with n_jobs=1 vs n_jobs=2: wall time and speed-up.

A realistic generation: the first generation of a search on
SelfRegulationSCP1 (the default 1-D CNN space, ``--population`` random
genomes, the demo's epochs and patience), run with the same seed, hence the
same genomes and the same work, with 1 and then 2 workers (one torch thread
per candidate in both). Worker processes are started once before timing
(loky keeps them between searches), as they are for every generation after
the first. The time is the search's (``search_time_``), not the refit's.
The runs alternate ``--repeats`` times; the table shows medians.

    python bench/parallel.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

import torch

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.datasets import load_eeg


def one_generation(data, n_jobs: int, population: int, seed: int) -> tuple[float, int, list]:
    clf = EvolutionaryNASClassifier(
        population_size=population,
        n_generations=1,
        max_epochs=40,
        patience=6,
        n_jobs=n_jobs,
        random_state=seed,
    )
    clf.fit(data.X_train, data.y_train)
    return clf.search_time_, clf.n_evaluations_, sorted(r["fit_time"] for r in clf.evaluations_)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_eeg("SelfRegulationSCP1")
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; SelfRegulationSCP1, population {args.population}, "
        f"seed {args.seed}, median of {args.repeats}"
    )
    one_generation(data, 2, 2, args.seed)  # start the worker processes
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for n_jobs in (1, 2):
            seconds, n, fit_times = one_generation(data, n_jobs, args.population, args.seed)
            times[n_jobs].append(seconds)
    t1, t2 = statistics.median(times[1]), statistics.median(times[2])
    print(f"{'n_jobs':>6} | {'candidates':>10} | {'generation s':>12} | {'candidates/min':>14}")
    for n_jobs, t in ((1, t1), (2, t2)):
        print(f"{n_jobs:>6} | {n:>10} | {t:12.1f} | {60 * n / t:14.1f}")
    print(f"speed-up n_jobs=2 / n_jobs=1: {t1 / t2:.2f}x")
    print(f"candidate fit times (s): {[round(t, 1) for t in fit_times]}")
    print(
        f"bound from load balance alone: sum {sum(fit_times):.1f} s over 2 workers, "
        f"longest {max(fit_times):.1f} s -> at most "
        f"{sum(fit_times) / max(sum(fit_times) / 2, max(fit_times)):.2f}x"
    )


if __name__ == "__main__":
    main()
