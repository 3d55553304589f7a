"""Command-line interface: ``skevonas demo`` and ``skevonas datasets``.

Run ``skevonas --help`` (or ``python -m skevonas --help``) for the commands.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]

# The demo's budget: chosen so the search finishes in a few minutes on 2 CPU
# cores (see docs/benchmarks.md for the measured time and accuracy).
DEMO_SETTINGS = {
    "population_size": 10,
    "n_generations": 6,
    "max_epochs": 40,
    "patience": 6,
}


def _demo(args: argparse.Namespace) -> int:
    from . import EvolutionaryNASClassifier
    from .datasets import load_eeg

    data = load_eeg(args.dataset)
    print(
        f"{data.name}: {data.origin}\n"
        f"train {data.X_train.shape}, test {data.X_test.shape} (the search never sees "
        "the test split)"
    )
    settings = dict(DEMO_SETTINGS)
    for name in ("population_size", "n_generations", "max_epochs"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    clf = EvolutionaryNASClassifier(
        **settings, n_jobs=args.n_jobs, random_state=args.random_state, verbose=2
    )
    start = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    total = time.perf_counter() - start
    accuracy = clf.score(data.X_test, data.y_test)
    print()
    print(clf.describe())
    print(f"\nbest genome as JSON: {clf.best_genome_.to_json()}")
    print(
        f"\nsearch {clf.search_time_:.1f}s + refit {clf.refit_time_:.1f}s = {total:.1f}s; "
        f"validation accuracy {clf.best_score_:.4f}; "
        f"test accuracy {accuracy:.4f} on {len(data.y_test)} held-out trials"
    )
    return 0


def _datasets(args: argparse.Namespace) -> int:
    from .datasets import EEG_DATASETS, load_eeg

    for name, info in sorted(EEG_DATASETS.items()):
        data = load_eeg(name)
        print(
            f"{name:20s} train {data.X_train.shape!s:16s} test {data.X_test.shape!s:16s} "
            f"{info.sfreq:g} Hz  {info.origin}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skevonas`` command."""
    from . import __version__
    from .datasets import list_eeg_datasets

    parser = argparse.ArgumentParser(
        prog="skevonas", description="Evolutionary neural architecture search."
    )
    parser.add_argument("--version", action="version", version=f"skevonas {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="search a CNN for a bundled EEG data set and report its test accuracy",
        description="Evolve a CNN on the training split of a bundled EEG data set, "
        "print the best architecture, its validation score and its accuracy on the "
        "test split.",
    )
    demo.add_argument("--dataset", default="SelfRegulationSCP1", choices=list_eeg_datasets())
    demo.add_argument("--population-size", dest="population_size", type=int)
    demo.add_argument("--n-generations", dest="n_generations", type=int)
    demo.add_argument("--max-epochs", dest="max_epochs", type=int)
    demo.add_argument(
        "--n-jobs",
        dest="n_jobs",
        type=int,
        default=-1,
        help="parallel candidates (default: -1, all cores)",
    )
    demo.add_argument("--random-state", dest="random_state", type=int, default=0)
    demo.set_defaults(func=_demo)

    datasets = commands.add_parser("datasets", help="list the bundled data sets")
    datasets.set_defaults(func=_datasets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skevonas`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        print(f"skevonas: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
