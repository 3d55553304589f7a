"""One EEG generation with 1, 2, ... concurrent candidates: time and candidates/min.

A realistic generation: the first generation of a search on
SelfRegulationSCP1 (the thesis's 1-D CNN space ``"cnn1d"``, in which the
recorded figures were measured, or ``--space eeg``; ``--population`` random
genomes, the demo's epochs and patience), run with the same seed, hence the
same genomes and the same work, with each number of concurrent candidates
in ``--concurrent`` (one torch thread per candidate). On the CPU that is
``n_jobs``; with ``--device cuda`` it is ``candidates_per_device`` on one
GPU (and as many workers). Worker processes are started once before timing
(loky keeps them between searches), as they are for every generation after
the first. The time is the search's (``search_time_``), not the refit's.
The settings alternate ``--repeats`` times; the table shows medians.

    python bench/parallel.py                                  # 2-core CPU: 1 vs 2
    python bench/parallel.py --device cuda --concurrent 1 2 4 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

import torch

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.datasets import load_eeg


def one_generation(data, device: str, concurrent: int, population: int, seed: int, space: str):
    gpu = device.startswith("cuda")
    clf = EvolutionaryNASClassifier(
        search_space=space,
        initial_genomes=None,
        population_size=population,
        n_generations=1,
        max_epochs=40,
        patience=6,
        n_jobs=concurrent,
        device=device,
        candidates_per_device=concurrent if gpu else 1,
        random_state=seed,
    )
    clf.fit(data.X_train, data.y_train)
    return clf.search_time_, clf.n_evaluations_, sorted(r["fit_time"] for r in clf.evaluations_)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--space", default="cnn1d", choices=["cnn1d", "eeg"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--concurrent", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    data = load_eeg("SelfRegulationSCP1")
    hardware = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU"
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {hardware}; SelfRegulationSCP1, space {args.space}, population "
        f"{args.population}, seed {args.seed}, device {args.device}, median of {args.repeats}"
    )
    one_generation(data, args.device, max(args.concurrent), 2, args.seed, args.space)  # warm up
    times: dict[int, list[float]] = {c: [] for c in args.concurrent}
    for _ in range(args.repeats):
        for concurrent in args.concurrent:
            seconds, n, fit_times = one_generation(
                data, args.device, concurrent, args.population, args.seed, args.space
            )
            times[concurrent].append(seconds)
    base = statistics.median(times[args.concurrent[0]])
    print(
        f"{'concurrent':>10} | {'candidates':>10} | {'generation s':>12} | "
        f"{'candidates/min':>14} | {'speed-up':>8}"
    )
    for concurrent in args.concurrent:
        t = statistics.median(times[concurrent])
        print(f"{concurrent:>10} | {n:>10} | {t:12.1f} | {60 * n / t:14.1f} | {base / t:7.2f}x")
    print(f"candidate fit times (s): {[round(t, 1) for t in fit_times]}")
    print(
        f"bound from load balance alone with 2: sum {sum(fit_times):.1f} s, longest "
        f"{max(fit_times):.1f} s -> at most "
        f"{sum(fit_times) / max(sum(fit_times) / 2, max(fit_times)):.2f}x"
    )


if __name__ == "__main__":
    main()
