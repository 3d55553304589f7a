"""Evolved EEG networks vs fixed EEG networks, random search and MiniRocket.

For each bundled EEG data set and seed, every method learns from the train
split only (skevonas and random search choose on an internal validation
part of it) and is scored once on the test split:

- ``skevonas``: ``EvolutionaryNASClassifier`` in the default EEG search
  space, population ``--population``, first generation seeded with
  ShallowConvNet and EEGNet-8,2 at the data's sampling rate, as many
  generations as ``--max-time`` seconds allow, then the refit;
- ``shallow`` and ``eegnet``: those two genomes (fitted to the data's length
  by the space's ``repair``) trained the same way by ``GenomeClassifier``:
  same epochs, early stopping on the same validation fraction, refit on
  the whole train split for the best epoch count;
- ``random``: one generation of as many random genomes of the same space as
  skevonas trained in that run (same epochs and early stopping);
- ``minirocket``: aeon's ``MiniRocketClassifier`` (only if aeon is
  installed; a bench-only dependency).

Recordings sampled faster than ``--max-sfreq`` (SelfRegulationSCP1 and
SCP2, 256 Hz) are first decimated to it for every method alike
(``load_eeg(name, max_sfreq=...)``: an anti-aliasing filter, then every
n-th sample; slow cortical potentials lie far below 32 Hz). ``--max-sfreq 0``
keeps the original rate.

Prints one table per data set (test accuracy mean, std, min and max over the
seeds; mean wall time including the refit; mean candidates trained).

    python bench/eeg.py                                   # 4 data sets x 3 seeds
    python bench/eeg.py --datasets SelfRegulationSCP1 --seeds 0 --max-time 60
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

from skevonas import EvolutionaryNASClassifier, GenomeClassifier, __version__
from skevonas.datasets import EEG_DATASETS, load_eeg
from skevonas.eeg import eeg_space, eegnet_genome, shallow_convnet_genome, standard_eeg_genomes

EPOCHS = {"max_epochs": 40, "patience": 6}


def run_skevonas(data, seed, args):
    clf = EvolutionaryNASClassifier(
        population_size=args.population,
        n_generations=1000,  # the time budget ends the search
        max_time=args.max_time,
        initial_genomes=standard_eeg_genomes(data.sfreq),
        n_jobs=args.n_jobs,
        random_state=seed,
        **EPOCHS,
    )
    clf.fit(data.X_train, data.y_train)
    return clf, clf.n_evaluations_, str(clf.best_genome_)


def run_random(data, n_evaluations, seed, args):
    clf = EvolutionaryNASClassifier(
        population_size=max(2, n_evaluations),
        n_generations=1,
        initial_genomes=None,
        n_jobs=args.n_jobs,
        random_state=seed,
        **EPOCHS,
    )
    clf.fit(data.X_train, data.y_train)
    return clf, clf.n_evaluations_, str(clf.best_genome_)


def run_fixed(genome, data, seed):
    space = eeg_space().bind(data.X_train.shape[1:])
    clf = GenomeClassifier(genome=space.repair(genome), random_state=seed, **EPOCHS)
    clf.fit(data.X_train, data.y_train)
    return clf, 1, str(clf.genome_)


def run_minirocket(data, seed):
    from aeon.classification.convolution_based import MiniRocketClassifier

    clf = MiniRocketClassifier(random_state=seed, n_jobs=1)
    clf.fit(data.X_train.astype(np.float64), data.y_train)
    return clf, 0, "MiniRocket (aeon)"


def run(method, data, seed, n_evaluations, args):
    """Fit one method; return ``(estimator, candidates trained, description)``."""
    if method == "skevonas":
        return run_skevonas(data, seed, args)
    if method == "random":
        return run_random(data, n_evaluations, seed, args)
    if method == "shallow":
        return run_fixed(shallow_convnet_genome(data.sfreq), data, seed)
    if method == "eegnet":
        return run_fixed(eegnet_genome(data.sfreq), data, seed)
    return run_minirocket(data, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(EEG_DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-time", type=float, default=120.0, help="skevonas search seconds")
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--max-sfreq", type=float, default=64.0, help="decimate faster data")
    args = parser.parse_args()
    try:
        import aeon

        aeon_version = aeon.__version__
    except ImportError:
        aeon_version = None
    else:  # compile numba's kernels before any timing
        rng = np.random.default_rng(0)
        run_minirocket(
            Bunch(X_train=rng.normal(size=(20, 2, 64)), y_train=np.repeat([0, 1], 10)), 0
        )

    cpu = platform.processor() or platform.machine()
    print(
        f"skevonas {__version__}, torch {torch.__version__}, aeon {aeon_version}, "
        f"{cpu}, {os.cpu_count()} CPUs; skevonas budget {args.max_time:.0f} s search + refit, "
        f"population {args.population}, n_jobs={args.n_jobs}, {EPOCHS}",
        flush=True,
    )
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # failed candidates: counted
    for name in args.datasets:
        data = load_eeg(name, max_sfreq=args.max_sfreq or None)
        sfreq = data.sfreq
        print(
            f"\n## {name} at {sfreq:g} Hz: train {data.X_train.shape}, test {data.X_test.shape}",
            flush=True,
        )
        results = defaultdict(list)
        for seed in args.seeds:
            methods = ["skevonas", "random", "shallow", "eegnet"]
            if aeon_version is not None:
                methods.append("minirocket")
            n_evaluations = 0
            for method in methods:
                start = time.perf_counter()
                clf, evaluations, what = run(method, data, seed, n_evaluations, args)
                wall = time.perf_counter() - start
                if method == "skevonas":
                    n_evaluations = evaluations
                accuracy = float(np.mean(clf.predict(data.X_test) == data.y_test))
                results[method].append((accuracy, wall, evaluations))
                print(
                    f"  seed {seed} {method:<10} test {accuracy:.3f}  {wall:6.1f} s  "
                    f"{evaluations:>3} trained  {what[:150]}",
                    flush=True,
                )
        print(f"\n| {name} | test acc. mean | std | min | max | wall s | trained |")
        print("|---|---|---|---|---|---|---|")
        for method, rows in results.items():
            acc, wall, evals = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
            print(
                f"| {method} | {acc.mean():.3f} | {acc.std():.3f} | {acc.min():.3f} | "
                f"{acc.max():.3f} | {wall.mean():.0f} | {evals.mean():.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
