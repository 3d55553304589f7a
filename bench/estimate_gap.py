"""How far below its test accuracy an honest estimate from the train split lands (issue 15).

``bench/eeg.py`` reports skevonas's ``best_score_`` (a cross-validated
estimate on the train split) minus its test accuracy. That difference has
two parts: the estimator's own error, and how much the archive's test split
differs from the train split. This script measures the second part with a
model that has no search and no selection at all: aeon's
``MiniRocketClassifier`` (``bench/peers.py``), whose stratified k-fold
cross-validation accuracy on the train split (shuffled folds, k = 3, 5 and
10) is set beside its test accuracy after training on the whole train
split. Where the cross-validated figure is well below the test accuracy for
MiniRocket too, a gap of that size is a property of the data set's split,
not of skevonas's estimate.

    python bench/estimate_gap.py                       # 4 data sets x 3 seeds
    python bench/estimate_gap.py --datasets SelfRegulationSCP1 --seeds 0

Prints one Markdown table: per data set, the mean over seeds of the test
accuracy, of each k-fold estimate, and of estimate minus test.
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import peers
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import LabelEncoder

from skevonas.datasets import list_eeg_datasets, load_eeg

FOLDS = (3, 5, 10)


def cv_accuracy(X: np.ndarray, y: np.ndarray, k: int, seed: int) -> float:
    """MiniRocket's stratified k-fold accuracy (shuffled folds seeded with ``seed``)."""
    folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    scores = []
    for train, valid in folds.split(X, y):
        model = peers.fit_minirocket(X[train], y[train], seed)
        scores.append(np.mean(model.predict(X[valid].astype(np.float64)) == y[valid]))
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list_eeg_datasets())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(f"Machine: {platform.platform()}, {platform.python_version()}")
    peers.warm_up_minirocket()
    header = "| data set | train | test | seeds | test acc. | " + " | ".join(
        f"{k}-fold | {k}-fold - test" for k in FOLDS
    )
    rows = []
    for name in args.datasets:
        data = load_eeg(name)
        encoder = LabelEncoder().fit(data.y_train)
        y_train, y_test = encoder.transform(data.y_train), encoder.transform(data.y_test)
        test, estimates = [], {k: [] for k in FOLDS}
        for seed in args.seeds:
            model = peers.fit_minirocket(data.X_train, y_train, seed)
            test.append(np.mean(model.predict(data.X_test.astype(np.float64)) == y_test))
            for k in FOLDS:
                estimates[k].append(cv_accuracy(data.X_train, y_train, k, seed))
            print(
                f"  {name} seed {seed}: test {test[-1]:.3f}, "
                + ", ".join(f"{k}-fold {estimates[k][-1]:.3f}" for k in FOLDS),
                flush=True,
            )
        cells = [
            f"{np.mean(estimates[k]):.3f} | {np.mean(estimates[k]) - np.mean(test):+.3f}"
            for k in FOLDS
        ]
        rows.append(
            f"| {name} | {len(y_train)} | {len(y_test)} | {len(args.seeds)} | "
            f"{np.mean(test):.3f} | " + " | ".join(cells) + " |"
        )
    print()
    print(header + " |")
    print("|" + "---|" * (5 + 2 * len(FOLDS)))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
