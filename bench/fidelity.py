"""Multi-fidelity (successive halving) vs full-fidelity evaluation, side by side.

For each data set and seed, the same search runs in up to three modes
(``--modes``), one after the other:

- ``full``: every candidate trains for up to ``max_epochs``
  (``min_epochs=None``);
- ``halving``: successive halving within each generation
  (``min_epochs=--min-epochs``, ``halving_factor=--factor``), same
  generations: the only difference is how the epochs are spent;
- ``halving-long``: the same, with ``--long-generations`` generations, i.e.
  part of the epochs saved spent on exploring more candidates.

All have the same population, epochs, patience and seed. Each search then
refits its best genome on the whole train split, which is scored once on
the test split. With an int seed a CPU search is reproducible, so test
accuracy, epochs and candidates do not depend on the machine's load; wall
times do.

Columns: test accuracy, total training epochs of the search (the sum over
every candidate of the epochs it trained; the refit is not counted),
candidates trained, and wall time including the refit. The issue's target:
the same test accuracy (within 1 point, mean over the seeds) with at least 3x
fewer training epochs.

Data sets:

- ``scp1``: the bundled SelfRegulationSCP1 (268 training / 293 test trials),
  decimated to 64 Hz, default EEG search space;
- ``fashion``: a stratified subset of Fashion-MNIST's training set
  (``--fashion-train`` images; the Debian package's files) scored on the full
  10 000-image test set, default MLP search space.

    python bench/fidelity.py                      # both data sets, seeds 0 1 2
    python bench/fidelity.py --datasets scp1 --seeds 0 --quick
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections import defaultdict

import numpy as np
import torch
from sklearn.utils import Bunch

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.datasets import load_eeg, load_fashion_mnist


def load(name: str, args: argparse.Namespace) -> Bunch:
    if name == "scp1":
        data = load_eeg("SelfRegulationSCP1", max_sfreq=64)
        return Bunch(
            X_train=data.X_train,
            y_train=data.y_train,
            X_test=data.X_test,
            y_test=data.y_test,
            info="SelfRegulationSCP1 at 64 Hz",
        )
    if name == "fashion":
        data = load_fashion_mnist(n_train=args.fashion_train)  # a stratified subset
        data.info = f"Fashion-MNIST, {len(data.y_train)} training images"
        return data
    raise ValueError(f"unknown data set {name!r}; use scp1 or fashion")


def run(data: Bunch, seed: int, mode: str, args: argparse.Namespace) -> dict:
    min_epochs = None if mode == "full" else args.min_epochs
    generations = args.long_generations if mode == "halving-long" else args.generations
    clf = EvolutionaryNASClassifier(
        population_size=args.population,
        n_generations=generations,
        max_epochs=args.max_epochs,
        patience=args.patience,
        min_epochs=min_epochs,
        halving_factor=args.factor,
        n_jobs=args.n_jobs,
        random_state=seed,
    )
    start = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    wall = time.perf_counter() - start
    return {
        "accuracy": float(np.mean(clf.predict(data.X_test) == data.y_test)),
        "epochs": sum(int(e.get("epochs", 0)) for e in clf.evaluations_),
        "trained": clf.n_evaluations_,
        "full": sum(e["status"] == "ok" for e in clf.evaluations_),
        "wall": wall,
        "valid": clf.best_score_,
        "best": str(clf.best_genome_),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["scp1", "fashion"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=6)
    parser.add_argument("--min-epochs", type=int, default=1)
    parser.add_argument("--factor", type=int, default=3)
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=["full", "halving", "halving-long"],
        default=["full", "halving", "halving-long"],
    )
    parser.add_argument(
        "--long-generations", type=int, default=10, help="generations of halving-long"
    )
    parser.add_argument("--fashion-train", type=int, default=6000)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--quick", action="store_true", help="tiny settings, to smoke-test")
    args = parser.parse_args()
    if args.quick:
        args.population, args.generations, args.max_epochs, args.fashion_train = 4, 2, 4, 600

    cpu = platform.processor() or platform.machine()
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {cpu}, {os.cpu_count()} CPUs; "
        f"population {args.population}, {args.generations} generations, max_epochs "
        f"{args.max_epochs}, patience {args.patience}, halving: min_epochs {args.min_epochs}, "
        f"factor {args.factor}, n_jobs={args.n_jobs}",
        flush=True,
    )
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # failed candidates: counted
    table = []
    for name in args.datasets:
        data = load(name, args)
        print(f"\n## {data.info}: train {data.X_train.shape}, test {data.X_test.shape}", flush=True)
        results = defaultdict(list)
        for seed in args.seeds:
            for mode in args.modes:
                row = run(data, seed, mode, args)
                results[mode].append(row)
                print(
                    f"  seed {seed} {mode:<8} test {row['accuracy']:.4f}  valid "
                    f"{row['valid']:.4f}  epochs {row['epochs']:>5}  trained {row['trained']:>3} "
                    f"({row['full']} full)  {row['wall']:6.1f} s  {row['best'][:120]}",
                    flush=True,
                )
        summary = {
            mode: {key: np.mean([r[key] for r in rows]) for key in ("accuracy", "epochs", "wall")}
            | {"std": float(np.std([r["accuracy"] for r in rows]))}
            for mode, rows in results.items()
        }
        table.append((data.info, summary))

    print("\n| data | mode | test acc. mean | std | training epochs | wall s |")
    print("|---|---|---|---|---|---|")
    for info, summary in table:
        for mode, s in summary.items():
            print(
                f"| {info} | {mode} | {s['accuracy']:.4f} | {s['std']:.4f} | "
                f"{s['epochs']:.0f} | {s['wall']:.0f} |"
            )
        if "full" not in summary:
            continue
        full = summary["full"]
        for mode in summary.keys() - {"full"}:
            halving = summary[mode]
            ratio = full["epochs"] / max(halving["epochs"], 1)
            gap = 100 * (halving["accuracy"] - full["accuracy"])
            met = ratio >= 3 and gap >= -1
            print(
                f"| {info} | {mode} vs full | {gap:+.1f} points | | {ratio:.2f}x fewer | "
                f"{full['wall'] / max(halving['wall'], 1e-9):.2f}x faster | target "
                f"{'met' if met else 'MISSED'} |"
            )


if __name__ == "__main__":
    main()
