"""The zoo's genomes in skevonas's own training pipeline, without a search (issue 15).

A diagnostic for the data sets where the search misses braindecode's
networks: is it the pipeline (decimation, standardisation, the recipe) or
the search's choice among candidates? Each genome of ``--genomes``
(``eegnet``: EEGNet-8,2; ``eegnex``: EEGNeX; ``shallow``: ShallowConvNet,
as the EEG space expresses them, the genomes that seed every EEG search) is
trained by :class:`skevonas.GenomeClassifier` as the search's refit trains
its final model: the whole train split (no validation part), the
cosine schedule over ``--epochs`` (default 100, the estimator's default),
optimizer, learning rate and batch from the genome (the seeds: Adam, lr
1e-3, batch 32), per-channel
standardisation, one torch thread. The data are decimated as the search
decimates them (``--decimate``, default ``"auto"``:
:func:`skevonas.settings.decimation` and
:func:`skevonas.prepare.decimate_data`, e.g. SelfRegulationSCP2's 256 Hz by 5
to 51.2 Hz, EyesOpenShut not at all), and the genome is built for the rate
that leaves. Scored once on the archive's test split. Prints one line per run, then a Markdown table
(mean, population std, min, max over the seeds; mean wall seconds of
``fit``).

    python bench/fixed_genomes.py --datasets SelfRegulationSCP2 EyesOpenShut
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from skevonas import GenomeClassifier, eegnet_genome, eegnex_genome, shallow_convnet_genome
from skevonas.datasets import load_eeg
from skevonas.prepare import decimate_data
from skevonas.settings import decimation

GENOMES = {"eegnet": eegnet_genome, "eegnex": eegnex_genome, "shallow": shallow_convnet_genome}


def run(
    dataset: str, genome: str, seed: int, decimate: str | int, epochs: int
) -> tuple[float, float]:
    data = load_eeg(dataset)
    factor = decimation(decimate, data.X_train.shape[1:])
    X_train, X_test = decimate_data(data.X_train, factor), decimate_data(data.X_test, factor)
    clf = GenomeClassifier(
        GENOMES[genome](sfreq=float(data.sfreq) / factor),
        max_epochs=epochs,
        validation_fraction=None,
        random_state=seed,
    )
    start = time.perf_counter()
    clf.fit(X_train, data.y_train)
    seconds = time.perf_counter() - start
    return float(np.mean(clf.predict(X_test) == data.y_test)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["SelfRegulationSCP2"])
    parser.add_argument("--genomes", nargs="+", choices=list(GENOMES), default=["eegnet", "eegnex"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--decimate", type=lambda v: v if v == "auto" else int(v), default="auto")
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {args.epochs} epochs, decimate={args.decimate}, one thread")
    rows = []
    for dataset in args.datasets:
        for genome in args.genomes:
            scores, times = [], []
            for seed in args.seeds:
                accuracy, seconds = run(dataset, genome, seed, args.decimate, args.epochs)
                print(f"{dataset} {genome} seed {seed}: test {accuracy:.3f} in {seconds:.0f} s")
                scores.append(accuracy)
                times.append(seconds)
            rows.append((dataset, genome, scores, times))
    print()
    print("| data set | genome | seeds | test acc. mean | std | min | max | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for dataset, genome, scores, times in rows:
        print(
            f"| {dataset} | {genome} | {len(scores)} | {statistics.fmean(scores):.3f} | "
            f"{statistics.pstdev(scores):.3f} | {min(scores):.3f} | {max(scores):.3f} | "
            f"{statistics.fmean(times):.0f} |"
        )


if __name__ == "__main__":
    main()
