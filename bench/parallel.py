"""EEG searches with 1, 2, ... concurrent candidates: time and candidates/min, per strategy.

A realistic workload: a search on SelfRegulationSCP1 (the thesis's 1-D CNN
space ``"cnn1d"``, in which the recorded figures were measured, or
``--space eeg``; a first generation of ``--population`` random genomes,
``--generations`` generations in all, at most 40 epochs with patience 6,
full fidelity, the raw 256 Hz), run with the same seed with each number of
concurrent candidates in ``--concurrent`` (one torch thread per candidate)
and each strategy in ``--strategies``. On the CPU the concurrency is
``n_jobs``; with ``--device cuda`` it is ``candidates_per_device`` on one
GPU (and as many workers). With one generation both strategies train the
same genomes; with more, each breeds its own children from the same first
generation (the candidate counts are shown). Both strategies run on the
same worker pool, whose processes are started once before timing (loky
keeps them between searches; a change in the number of workers starts them
again, so a setting after another of another width pays that start). The
time is the search's (``search_time_``), not the refit's. The settings
alternate ``--repeats`` times; the table shows medians. (Recordings made
before the pool was shared, issue 28, had the asynchronous mode start its
own workers in every search.)

    python bench/parallel.py                                  # 2-core CPU: 1 vs 2
    python bench/parallel.py --whole --repeats 2              # issue 29's whole fit

``--whole`` times the whole ``fit`` instead (search, finalists' folds and
refit, wall clock), on issue 29's workload: FingerMovements (``--dataset``),
population 10, 2 generations, ``max_epochs=20``, every other setting at its
default, ``n_jobs`` from ``--concurrent``.
    python bench/parallel.py --device cuda --concurrent 1 2 4 8 \
        --strategies generational asynchronous --generations 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.datasets import load_eeg


def one_search(
    data,
    device: str,
    concurrent: int,
    population: int,
    seed: int,
    space: str,
    strategy: str,
    generations: int,
):
    gpu = device.startswith("cuda")
    clf = EvolutionaryNASClassifier(
        search_space=space,
        strategy=strategy,
        initial_genomes=None,
        population_size=population,
        n_generations=generations,
        max_epochs=40,
        patience=6,
        min_epochs=None,  # full fidelity and the raw rate: the workload recorded
        decimate=1,  # in docs/benchmarks.md before these became settings
        cv=None,  # the final stage is not timed: only the refit of the best
        n_jobs=concurrent,
        device=device,
        candidates_per_device=concurrent if gpu else 1,
        random_state=seed,
    )
    clf.fit(data.X_train, data.y_train)
    return clf.search_time_, clf.n_evaluations_, sorted(r["fit_time"] for r in clf.evaluations_)


def whole_fit(data, concurrent: int, seed: int) -> tuple[float, float, float, int]:
    """Issue 29's workload: the whole default fit, but population 10, 2 generations, 20 epochs."""
    clf = EvolutionaryNASClassifier(
        population_size=10, n_generations=2, max_epochs=20, n_jobs=concurrent, random_state=seed
    )
    start = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    wall = time.perf_counter() - start
    return wall, clf.search_time_, clf.refit_time_, clf.n_evaluations_


def main_whole(args: argparse.Namespace) -> None:
    data = load_eeg(args.dataset)
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {args.dataset}, whole fit (population 10, 2 generations, "
        f"max_epochs=20, the rest default), seed {args.seed}, median of {args.repeats}"
    )
    found: dict[int, list[tuple[float, float, float, int]]] = {c: [] for c in args.concurrent}
    for _ in range(args.repeats):  # the settings alternate, so drifts in load hit both
        for concurrent in args.concurrent:
            found[concurrent].append(whole_fit(data, concurrent, args.seed))
    base = statistics.median(t[0] for t in found[args.concurrent[0]])
    print(
        "| n_jobs | candidates | fit s (each run) | median fit s | search s | final stage s "
        "| speed-up |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|")
    for concurrent, runs in found.items():
        wall = statistics.median(t[0] for t in runs)
        search = statistics.median(t[1] for t in runs)
        final = statistics.median(t[2] for t in runs)
        each = ", ".join(f"{t[0]:.1f}" for t in runs)
        print(
            f"| {concurrent} | {runs[0][3]} | {each} | {wall:.1f} | {search:.1f} | {final:.1f} "
            f"| {base / wall:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--space", default="cnn1d", choices=["cnn1d", "eeg"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--concurrent", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=["generational"],
        choices=["generational", "asynchronous"],
    )
    parser.add_argument("--generations", type=int, default=1)
    parser.add_argument("--whole", action="store_true", help="time issue 29's whole fit")
    parser.add_argument("--dataset", default="FingerMovements", help="with --whole")
    args = parser.parse_args()
    if args.whole:
        main_whole(args)
        return
    data = load_eeg("SelfRegulationSCP1")
    hardware = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU"
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {hardware}; SelfRegulationSCP1, space {args.space}, population "
        f"{args.population}, {args.generations} generation(s), seed {args.seed}, "
        f"device {args.device}, median of {args.repeats}"
    )
    settings = [(s, c) for s in args.strategies for c in args.concurrent]
    warm = max(args.concurrent)
    one_search(data, args.device, warm, 2, args.seed, args.space, "generational", 1)  # warm up
    times: dict[tuple[str, int], list[float]] = {k: [] for k in settings}
    counts: dict[tuple[str, int], int] = {}
    fit_times: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.repeats):
        for strategy, concurrent in settings:
            seconds, n, fits = one_search(
                data,
                args.device,
                concurrent,
                args.population,
                args.seed,
                args.space,
                strategy,
                args.generations,
            )
            times[strategy, concurrent].append(seconds)
            counts[strategy, concurrent], fit_times[strategy, concurrent] = n, fits
    base = statistics.median(times[settings[0]])
    print(
        f"{'strategy':>12} | {'concurrent':>10} | {'candidates':>10} | {'search s':>8} | "
        f"{'candidates/min':>14} | {'speed-up':>8}"
    )
    for key in settings:
        t, n = statistics.median(times[key]), counts[key]
        print(
            f"{key[0]:>12} | {key[1]:>10} | {n:>10} | {t:8.1f} | {60 * n / t:14.1f} | "
            f"{base / t:7.2f}x"
        )
    fits = fit_times[settings[0]]
    print(f"candidate fit times, {settings[0][0]} (s): {[round(t, 1) for t in fits]}")
    print(
        f"bound from load balance alone with 2: sum {sum(fits):.1f} s, longest "
        f"{max(fits):.1f} s -> at most "
        f"{sum(fits) / max(sum(fits) / 2, max(fits)):.2f}x"
    )


if __name__ == "__main__":
    main()
