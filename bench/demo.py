"""The main job (``skevonas demo``) over several seeds: test accuracy and time.

Runs the demo's default budget (``DEMO_SETTINGS``) on SelfRegulationSCP1 at
its recorded rate, as the demo does (``DEMO_MAX_SFREQ`` is None: the
estimator decimates long epochs inside the model), for each seed: search on
the train split, one score on the test split. Prints a table: ``valid`` is
``best_score_``, the final model's cross-validated estimate, and the best
genome is the final model's first member.

    python bench/demo.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.cli.parser import DEMO_MAX_SFREQ, DEMO_SETTINGS
from skevonas.datasets import load_eeg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="SelfRegulationSCP1")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args()

    data = load_eeg(args.dataset, max_sfreq=DEMO_MAX_SFREQ)
    cpu = platform.processor() or platform.machine()
    print(f"skevonas {__version__}, torch {torch.__version__}, {cpu}, {os.cpu_count()} CPUs")
    print(f"{args.dataset} at {data.sfreq:g} Hz; settings {DEMO_SETTINGS}, n_jobs={args.n_jobs}")
    header = ["seed", " valid", "  test", "trained", "search s", "total s", "best genome"]
    print(" | ".join(header))
    rows = []
    for seed in args.seeds:
        start = time.perf_counter()
        clf = EvolutionaryNASClassifier(**DEMO_SETTINGS, n_jobs=args.n_jobs, random_state=seed)
        clf.fit(data.X_train, data.y_train)
        total = time.perf_counter() - start
        test = clf.score(data.X_test, data.y_test)
        rows.append((test, total))
        print(
            f"{seed:>4} | {clf.best_score_:6.3f} | {test:6.3f} | {clf.n_evaluations_:>7} | "
            f"{clf.search_time_:8.1f} | {total:7.1f} | {clf.best_genome_}",
            flush=True,
        )
    tests, times = np.array(rows).T
    print(
        f"mean test accuracy {tests.mean():.3f} (std {tests.std():.3f}, min {tests.min():.3f}); "
        f"mean time {times.mean():.1f}s (max {times.max():.1f}s)"
    )


if __name__ == "__main__":
    main()
