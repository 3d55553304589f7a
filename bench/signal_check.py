"""How much signal each bundled EEG set holds, and what its test split can resolve (issue 15).

Issue 15's per-set target asks skevonas to score at least the best
braindecode network on each bundled EEG set. On three of the four sets every
method measured scores near chance. This script asks two questions of the
data, so that a miss (or a hit) there can be read for what it is.

1. **Is there signal in the train split at all?** MiniRocket features
   (aeon's ``MiniRocket`` transform, 10,000 kernels, fitted once on the
   train split's signals, which uses no labels) and the ridge classifier
   aeon's ``MiniRocketClassifier`` puts on them, scored by shuffled
   stratified 5-fold cross-validation of the train split, against the same
   cross-validation with the labels permuted
   (``sklearn.model_selection.permutation_test_score``). The p-value is the
   share of permutations that score at least as well as the true labels
   (with the usual +1 in numerator and denominator). Nothing here looks at
   the test split.
2. **What can the test split resolve?** From ``bench/results/eeg.jsonl``
   (``bench/eeg.py``'s rows): each method's test accuracy, mean over seeds,
   the test split's majority-class rate, the one-sided exact binomial
   p-value of that mean against the majority rate (the mean read as one
   accuracy on the test split's ``n`` trials), and for the per-set target
   the difference between skevonas and the best braindecode network with
   the standard error of a difference of two accuracies on ``n`` trials
   (unpaired: the predictions were not kept, so the pairing of the two
   methods on the same trials cannot be used; for near-chance models, whose
   errors are nearly independent, that is about right, while for two
   accurate models that err on the same trials, as on SCP1, the paired
   standard error would be smaller).

    python bench/signal_check.py                      # 4 data sets, 1,000 permutations
    python bench/signal_check.py --datasets SelfRegulationSCP2 --permutations 200

Prints the machine and two Markdown tables, ready for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from eeg import read_rows
from scipy.stats import binomtest
from sklearn.linear_model import RidgeClassifierCV
from sklearn.model_selection import StratifiedKFold, permutation_test_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.utils import Bunch

from skevonas.datasets import list_eeg_datasets, load_eeg

RESULTS = Path(__file__).parent / "results" / "eeg.jsonl"
BRAINDECODE = ("shallow", "eegnet", "eegnex")
METHODS = ("skevonas", "demo", "random", *BRAINDECODE, "minirocket")


def minirocket_features(X: np.ndarray, seed: int) -> np.ndarray:
    """aeon's MiniRocket transform of ``X`` (fitted on ``X`` itself: it reads no labels)."""
    from aeon.transformations.collection.convolution_based import MiniRocket

    return MiniRocket(random_state=seed, n_jobs=1).fit_transform(X.astype(np.float64))


def train_signal(name: str, data: Bunch, n_permutations: int, seed: int) -> str:
    """One row of table 1: cross-validated accuracy of the train split, true vs permuted labels."""
    y = LabelEncoder().fit_transform(data.y_train)
    start = time.perf_counter()
    features = minirocket_features(data.X_train, seed)
    model = make_pipeline(
        StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    )
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    score, permuted, p_value = permutation_test_score(
        model, features, y, cv=folds, n_permutations=n_permutations, random_state=seed
    )
    majority = np.bincount(y).max() / len(y)
    seconds = time.perf_counter() - start
    print(
        f"  {name}: 5-fold {score:.3f}, permuted {permuted.mean():.3f}, p {p_value:.3f}", flush=True
    )
    return (
        f"| {name} | {len(y)} | {majority:.3f} | {score:.3f} | {permuted.mean():.3f} "
        f"| {np.quantile(permuted, 0.95):.3f} | {p_value:.3f} | {seconds:.0f} |"
    )


def resolution_rows(name: str, data: Bunch, rows: dict, seeds: list[int]) -> list[str]:
    """Rows of table 2 for one data set: each method's mean against chance, and the target's gap."""
    y_test = LabelEncoder().fit(data.y_train).transform(data.y_test)
    n = len(y_test)
    majority = np.bincount(y_test).max() / n
    means = {}
    for method in METHODS:
        accs = [rows[method, name, s]["test_accuracy"] for s in seeds if (method, name, s) in rows]
        accs = [a for a in accs if a is not None]
        if len(accs) == len(seeds):
            means[method] = float(np.mean(accs))
    lines = []
    for method, acc in means.items():
        p = binomtest(round(acc * n), n, majority, alternative="greater").pvalue
        lines.append(f"| {name} | {n} | {majority:.3f} | {method} | {acc:.3f} | {p:.3f} | | |")
    peers = {m: means[m] for m in BRAINDECODE if m in means}
    if "skevonas" in means and peers:
        best = max(peers, key=peers.__getitem__)
        a, b = means["skevonas"], peers[best]
        se = np.sqrt(a * (1 - a) / n + b * (1 - b) / n)
        lines.append(
            f"| {name} | {n} | {majority:.3f} | skevonas - {best} | {a - b:+.3f} | "
            f"| {se:.3f} | {(a - b) / se:+.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list_eeg_datasets())
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="eeg.py's seeds")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}")
    print("\n1. Signal in the train split (MiniRocket + ridge, shuffled stratified 5-fold):")
    data = {name: load_eeg(name) for name in args.datasets}
    lines = [train_signal(name, data[name], args.permutations, args.seed) for name in data]
    print(
        f"\n| data set | train trials | majority rate | 5-fold acc. | permuted mean "
        f"| permuted 95th pct | p ({args.permutations} permutations) | s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    rows = read_rows(args.results)
    print(f"\n2. What the test split resolves ({args.results.name}, mean over seeds {args.seeds}):")
    print(
        "\n| data set | test trials | majority rate | method | test acc. "
        "| p (one-sided, vs majority) | SE of difference | difference / SE |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in data:
        print("\n".join(resolution_rows(name, data[name], rows, args.seeds)))


if __name__ == "__main__":
    main()
