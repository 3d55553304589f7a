"""Does ``max_time`` bound the whole ``fit``? Wall time of fit against its budget.

Runs the estimator with default settings (``n_jobs=2``) on the bundled
SelfRegulationSCP1 at its raw 256 Hz for a few ``max_time`` budgets and
seeds, and prints one row per run: the budget, the whole fit's wall time,
its search and refit parts, whether the refit was cut short (a
RuntimeWarning), the epochs the refit trained out of those planned, and the
test accuracy::

    python bench/max_time.py                 # budgets 20 and 60 s, seeds 0 and 1
    python bench/max_time.py --budgets 30 --seeds 0
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import torch

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.datasets import load_eeg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[20.0, 60.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    data = load_eeg("SelfRegulationSCP1")
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {platform.processor() or 'cpu'}; "
        f"SCP1 {data.X_train.shape} at {data.sfreq:g} Hz, n_jobs={args.n_jobs}"
    )
    print("| max_time | seed | fit (s) | search (s) | refit (s) | refit epochs | cut | test |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|")
    for budget in args.budgets:
        for seed in args.seeds:
            clf = EvolutionaryNASClassifier(max_time=budget, n_jobs=args.n_jobs, random_state=seed)
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                clf.fit(data.X_train, data.y_train)
            total = time.perf_counter() - start
            cut = any("during the refit" in str(w.message) for w in caught)
            best = clf.search_state_.best or clf.search_state_.best_partial()
            planned = int(best.info.get("best_epoch", 0)) if best is not None else 0
            print(
                f"| {budget:g} | {seed} | {total:.1f} | {clf.search_time_:.1f} | "
                f"{clf.refit_time_:.1f} | {len(clf.best_estimator_.history)} of {planned} | "
                f"{'yes' if cut else 'no'} | {clf.score(data.X_test, data.y_test):.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
