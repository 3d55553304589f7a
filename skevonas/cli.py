"""Command-line interface: ``skevonas search | predict | demo | datasets``.

Run ``skevonas --help`` (or ``python -m skevonas --help``) for the commands
and ``skevonas COMMAND --help`` for each one's options. Data files are read
by :mod:`skevonas.io`. Exit status: 0 on success, 2 for bad options or input
files (the message starts with ``skevonas: error:``), 1 when a search fails
(every candidate failed).

Heavy imports (torch, skorch, matplotlib) happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .spaces import SPACES

__all__ = ["main"]

# The demo's budget: chosen so the search finishes in a few minutes on 2 CPU
# cores (see docs/benchmarks.md for the measured time and accuracy). Most
# seeds finish the 6 generations in 1 to 7 minutes; max_time caps the ones
# that drift to slow networks, so the demo ends within about 9 minutes.
DEMO_SETTINGS = {
    "population_size": 10,
    "n_generations": 6,
    "max_epochs": 40,
    "patience": 6,
    "max_time": 480.0,
}
# The demo decimates faster recordings to this rate (Hz): slow cortical
# potentials need no 256 Hz, and every convolution costs 4x less.
DEMO_MAX_SFREQ = 64.0

# `skevonas search` defaults: the estimator's own, except n_jobs (all cores)
# and random_state (0, so that a run can be repeated). tests/test_cli.py
# checks that the others still match EvolutionaryNASClassifier's.
SEARCH_DEFAULTS: dict[str, Any] = {
    "search_space": "auto",
    "population_size": 10,
    "n_generations": 5,
    "max_epochs": 30,
    "patience": 5,
    "min_epochs": None,
    "halving_factor": 3,
    "max_time": None,
    "scoring": "accuracy",
    "validation_fraction": 0.2,
    "n_jobs": -1,
    "device": "cpu",
    "random_state": 0,
}
# The --search-space choices: "auto" and the named spaces (torch-free to import).
SEARCH_SPACES = ("auto", *SPACES)

# What `skevonas search` writes; summary.json is written last and marks a
# finished output folder (SUMMARY_MARKER in its "command" field).
MODEL_FILE = "model.joblib"
SUMMARY_FILE = "summary.json"
OUTPUT_FILES = (
    MODEL_FILE,
    "best_genome.json",
    "evaluations.csv",
    "history.csv",
    "fitness.png",
    SUMMARY_FILE,
)
SUMMARY_MARKER = "skevonas search"
EVALUATION_COLUMNS = (
    "index",
    "generation",
    "key",
    "architecture",
    "score",
    "status",
    "epochs",
    "best_epoch",
    "stopped_by",
    "fit_time",
    "n_params",
    "parents",
    "error",
)


class SearchFailed(Exception):
    """Carries a search failure to ``main`` (exit status 1)."""


# --------------------------------------------------------------------------- demo, datasets
def _demo(args: argparse.Namespace) -> int:
    from . import EvolutionaryNASClassifier
    from .datasets import load_eeg

    # 0 keeps the recorded rate; a negative rate is refused by load_eeg
    data: Any = load_eeg(args.dataset, max_sfreq=args.max_sfreq or None)  # a Bunch
    print(
        f"{data.name}: {data.origin}\n"
        f"train {data.X_train.shape}, test {data.X_test.shape} at {data.sfreq:g} Hz "
        "(the search never sees the test split)"
    )
    settings: dict[str, Any] = dict(DEMO_SETTINGS)
    for name in ("population_size", "n_generations", "max_epochs"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if args.max_time is not None:
        settings["max_time"] = None if args.max_time == 0 else args.max_time
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
        data: Any = load_eeg(name)  # a Bunch
        print(
            f"{name:20s} train {data.X_train.shape!s:16s} test {data.X_test.shape!s:16s} "
            f"{info.sfreq:g} Hz  {info.origin}"
        )
    return 0


# --------------------------------------------------------------------------- search
def _search_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The estimator's keyword arguments from the options (verbose excluded)."""
    settings = {name: getattr(args, name) for name in SEARCH_DEFAULTS}
    if "," in settings["device"]:
        settings["device"] = [d.strip() for d in settings["device"].split(",")]
    if args.checkpoint_dir is not None:
        settings["checkpoint_dir"] = str(args.checkpoint_dir)
    settings["warm_start"] = bool(args.resume)
    settings["initial_genomes"] = _initial_genomes(args.initial_genomes)
    return settings


def _initial_genomes(value: str) -> str | list[Any] | None:
    """``--initial-genomes``: "auto", "none", or a JSON file of one genome or a list."""
    if value == "auto":
        return "auto"
    if value == "none":
        return None
    path = Path(value)
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(
            f"--initial-genomes: cannot read {value!r} ({exc.strerror or exc}); give auto, "
            "none, or a JSON file with a genome (e.g. an earlier search's best_genome.json) "
            "or a list of genomes"
        ) from exc
    except ValueError as exc:
        raise ValueError(f"--initial-genomes: {value!r} is not valid JSON: {exc}") from exc
    genomes = loaded if isinstance(loaded, list) else [loaded]
    if not genomes:
        raise ValueError(f"--initial-genomes: {value!r} holds an empty list")
    return genomes


def _is_search_output(folder: Path) -> bool:
    """Whether ``folder`` holds what an earlier ``skevonas search`` wrote."""
    try:
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("command") == SUMMARY_MARKER


def _prepare_output(folder: Path, overwrite: bool, checkpoint_dir: Path | None) -> bool:
    """Check (and create) the output folder before the search; return whether it was created."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"the output {str(folder)!r} is a file, not a folder")
    if not folder.exists():
        folder.mkdir(parents=True)
        return True
    others = [
        p
        for p in folder.iterdir()
        if checkpoint_dir is None or p.resolve() != checkpoint_dir.resolve()
    ]
    if others and not overwrite and not _is_search_output(folder):
        names = sorted(p.name for p in others)
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ValueError(
            f"the output folder {str(folder)!r} is not empty ({shown}) and holds no earlier "
            "skevonas search; choose another folder with --output, or pass --overwrite to "
            "write into it anyway"
        )
    return False


def _save_fitness_plot(clf: Any, path: Path) -> bool:
    """Draw the fitness plot into ``path``; False when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import plot_fitness

    ax = plot_fitness(clf)
    ax.set_title(f"skevonas search: {clf.search_space_.name}")
    figure: Any = ax.figure
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return True


def _write_outputs(clf: Any, folder: Path, summary: dict[str, Any]) -> list[str]:
    """Write the model, genome, tables, plot and summary; return the file names."""
    import joblib

    from .io import write_table

    joblib.dump(clf, folder / MODEL_FILE)
    (folder / "best_genome.json").write_text(
        clf.best_genome_.to_json(indent=1) + "\n", encoding="utf-8"
    )
    rows = [{**r, "parents": ";".join(r.get("parents", ()))} for r in clf.evaluations_]
    write_table(folder / "evaluations.csv", EVALUATION_COLUMNS, rows)
    columns = list(dict.fromkeys(key for row in clf.history_ for key in row))
    write_table(folder / "history.csv", columns, clf.history_)
    written = [MODEL_FILE, "best_genome.json", "evaluations.csv", "history.csv"]
    if _save_fitness_plot(clf, folder / "fitness.png"):
        written.append("fitness.png")
    else:
        (folder / "fitness.png").unlink(missing_ok=True)  # not an earlier run's plot
        print(
            'note: matplotlib is not installed, so no fitness.png; pip install "skevonas[plots]" '
            "to get it",
            file=sys.stderr,
        )
    written.append(SUMMARY_FILE)
    summary["files"] = written
    text = json.dumps(summary, indent=2, default=str)
    (folder / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")
    return written


def _search(args: argparse.Namespace) -> int:
    from . import CheckpointError, EvolutionaryNASClassifier, SearchFailedError, __version__
    from .checkpoint import has_checkpoint
    from .io import DEFAULT_LABEL_COLUMN, load_table_or_arrays

    if args.resume and args.checkpoint_dir is None:
        raise ValueError("--resume needs --checkpoint-dir, the folder of the search to continue")
    if args.resume and not has_checkpoint(args.checkpoint_dir):
        raise ValueError(
            f"there is no search to resume in {str(args.checkpoint_dir)!r}; run without "
            "--resume to start a new one"
        )
    X, y = load_table_or_arrays(args.data, args.label_column)
    assert y is not None  # labels are required by default
    folder = args.output or Path(f"skevonas-search-{args.data.stem}")
    settings = _search_settings(args)
    clf = EvolutionaryNASClassifier(**settings, verbose=0 if args.quiet else 1)
    clf.check_settings()  # bad settings fail here, before any folder is made
    created = _prepare_output(folder, args.overwrite, args.checkpoint_dir)
    n_classes = len(set(y.tolist()))
    print(
        f"{args.data}: {len(y)} samples of shape {tuple(X.shape[1:])}, {n_classes} classes; "
        f"results go to {folder}{'' if str(folder).endswith('/') else '/'}",
        flush=True,
    )
    start = time.perf_counter()
    try:
        clf.fit(X, y)
    except BaseException as exc:
        if created and not any(folder.iterdir()):
            folder.rmdir()  # nothing to keep: leave no empty folder behind
        if isinstance(exc, SearchFailedError):
            raise SearchFailed(str(exc)) from exc
        if isinstance(exc, CheckpointError):
            raise CheckpointError(f"{exc}\n(warm_start=False is: run without --resume)") from exc
        raise
    total = time.perf_counter() - start
    is_csv = args.data.suffix.lower() == ".csv"
    summary = {
        "command": SUMMARY_MARKER,
        "skevonas_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {
            "path": str(args.data.resolve()),
            "label_column": (args.label_column or DEFAULT_LABEL_COLUMN) if is_csv else None,
            "n_samples": len(y),
            "sample_shape": list(clf.sample_shape_),
            "classes": clf.classes_.tolist(),
        },
        "settings": settings,
        "search_space": clf.search_space_.name,
        "best_score": clf.best_score_,
        "best_genome_key": clf.best_genome_.short_key(),
        "stop_reason": clf.stop_reason_,
        "n_generations_run": len(clf.history_),
        "n_candidates": len(clf.evaluations_),
        "search_time": round(clf.search_time_, 3),
        "refit_time": round(clf.refit_time_, 3),
        "total_time": round(total, 3),
    }
    written = _write_outputs(clf, folder, summary)
    print()
    print(clf.describe())
    print(
        f"\nsearch {clf.search_time_:.1f}s + refit {clf.refit_time_:.1f}s = {total:.1f}s\n"
        f"wrote {', '.join(written)} to {folder}"
    )
    return 0


# --------------------------------------------------------------------------- predict
def _load_model(path: Path) -> Any:
    """A fitted skevonas model from a ``model.joblib`` file or a search output folder."""
    import joblib
    from sklearn.utils.validation import check_is_fitted

    from .base import NetClassifierBase

    if path.is_dir():
        if not (path / MODEL_FILE).is_file():
            raise ValueError(
                f"the folder {str(path)!r} has no {MODEL_FILE}; give the model file, or the "
                "output folder of a finished skevonas search"
            )
        path = path / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {str(path)!r}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - unpickling fails in many ways
        raise ValueError(
            f"{str(path)!r} is not a skevonas model file (written by skevonas search, or "
            f"joblib.dump of a fitted skevonas classifier): {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(model, NetClassifierBase):
        raise ValueError(
            f"{str(path)!r} holds a {type(model).__module__}.{type(model).__qualname__}, "
            "not a skevonas classifier"
        )
    check_is_fitted(model)
    return model


def _predict(args: argparse.Namespace) -> int:
    import numpy as np

    from .io import load_table_or_arrays, write_table

    model = _load_model(args.model)
    X, y = load_table_or_arrays(args.data, args.label_column, require_labels=False)
    try:
        proba = model.predict_proba(X)
    except ValueError as exc:
        raise ValueError(f"the data in {str(args.data)!r} does not fit the model: {exc}") from exc
    classes = model.classes_
    predictions = classes[np.argmax(proba, axis=1)]
    proba_columns = [f"proba_{c}" for c in classes.tolist()]
    columns = ["prediction", *proba_columns] if args.proba else ["prediction"]
    rows = (
        {"prediction": p, **dict(zip(proba_columns, row, strict=True))}
        for p, row in zip(predictions.tolist(), proba.tolist(), strict=True)
    )
    info = sys.stdout if args.output else sys.stderr  # keep stdout for the CSV
    n_rows = write_table(args.output or sys.stdout, columns, rows)
    if args.output:
        print(f"wrote {n_rows} predictions to {args.output}", file=info)
    if y is not None:
        truth, predicted = np.asarray(y).astype(str), predictions.astype(str)
        unknown = sorted(set(truth.tolist()) - set(classes.astype(str).tolist()))
        if unknown:
            print(f"note: labels the model never saw: {unknown[:10]}", file=info)
        print(f"accuracy {np.mean(truth == predicted):.4f} on {len(truth)} samples", file=info)
    return 0


# --------------------------------------------------------------------------- parser
def _add_search_parser(commands: argparse._SubParsersAction) -> None:
    d = SEARCH_DEFAULTS
    search = commands.add_parser(
        "search",
        help="evolve a network for your data and save it",
        description="Evolve neural networks for a labelled data set, refit the best one on all "
        "of it, and save the model, the best genome, the record of every candidate and a "
        "fitness plot in an output folder. DATA is a .npz file with arrays X (2-D samples x "
        "features, 3-D samples x channels x times, or 4-D images) and y (labels), or a .csv "
        "file with a header row, a label column and numeric features in every other column.",
        epilog="example: skevonas search iris.csv --label-column species --n-generations 3",
    )
    search.add_argument("data", type=Path, metavar="DATA", help="the .npz or .csv data file")
    search.add_argument(
        "--label-column", metavar="NAME", help="the label column of a CSV file (default: label)"
    )
    search.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="folder for the results (default: skevonas-search-<DATA name> in the current "
        "folder); a non-empty "
        "folder is refused unless it holds an earlier search's results",
    )
    search.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty output folder (only skevonas's own file names are replaced)",
    )
    ga = search.add_argument_group("search settings")
    ga.add_argument(
        "--search-space",
        choices=SEARCH_SPACES,
        default=d["search_space"],
        help="model family; auto picks MLP, EEG network or 2-D CNN from X's dimensions "
        "(default: auto)",
    )
    for flag, kind, rule in (
        ("--population-size", int, "networks per generation"),
        ("--n-generations", int, "generations to evolve"),
        ("--max-epochs", int, "most epochs any network trains"),
        ("--patience", int, "epochs without improvement before a network stops"),
    ):
        name = flag[2:].replace("-", "_")
        ga.add_argument(
            flag, type=kind, default=d[name], metavar="N", help=f"{rule} (default: {d[name]})"
        )
    ga.add_argument(
        "--min-epochs",
        type=int,
        default=d["min_epochs"],
        metavar="N",
        help="multi-fidelity evaluation: every new network trains about N epochs, the best "
        "1/F go on for F times more, and so on up to --max-epochs (successive halving; "
        "default: off, every network trains up to --max-epochs)",
    )
    ga.add_argument(
        "--halving-factor",
        type=int,
        default=d["halving_factor"],
        metavar="F",
        help=f"with --min-epochs, the growth of the budgets and the share that goes on "
        f"(default: {d['halving_factor']})",
    )
    ga.add_argument(
        "--max-time",
        type=float,
        default=d["max_time"],
        metavar="SECONDS",
        help="time budget of the search; the best network so far is refitted when it is up "
        "(default: none)",
    )
    ga.add_argument(
        "--scoring",
        default=d["scoring"],
        metavar="NAME",
        help="scikit-learn scorer name, e.g. balanced_accuracy, f1_macro, roc_auc "
        f"(default: {d['scoring']})",
    )
    ga.add_argument(
        "--validation-fraction",
        type=float,
        default=d["validation_fraction"],
        metavar="F",
        help=f"share of the data held out to score networks (default: {d['validation_fraction']})",
    )
    ga.add_argument(
        "--initial-genomes",
        default="auto",
        metavar="FILE",
        help="networks for the first generation: a JSON file with one genome (such as an "
        "earlier search's best_genome.json) or a list of them; auto seeds an EEG search with "
        "ShallowConvNet and EEGNet; none starts from random genomes only (default: auto)",
    )
    ga.add_argument(
        "--random-state",
        type=int,
        default=d["random_state"],
        metavar="N",
        help=f"seed; the same seed repeats a search on CPU (default: {d['random_state']})",
    )
    run = search.add_argument_group("resources and resuming")
    run.add_argument(
        "--n-jobs",
        type=int,
        default=d["n_jobs"],
        metavar="N",
        help="networks trained in parallel (default: -1, all cores)",
    )
    run.add_argument(
        "--device",
        default=d["device"],
        metavar="D",
        help="cpu, cuda, cuda:N, auto, or a comma-separated list of devices (default: cpu)",
    )
    run.add_argument(
        "--checkpoint-dir",
        type=Path,
        metavar="DIR",
        help="save the search state there after every generation, so --resume can continue it",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the search saved in --checkpoint-dir, after a crash or with more "
        "--n-generations (the data and the other settings must be the same)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    search.set_defaults(func=_search)


def _add_predict_parser(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict",
        help="predict with a model saved by skevonas search",
        description="Predict the class of every sample in DATA with a saved model and write "
        "the predictions as CSV (a column 'prediction', and with --proba one column "
        "'proba_<class>' per class). DATA is a .npz file with an array X (y optional) or a "
        ".csv file whose columns are the features the model was trained on, in the same "
        "order; a label column, if there, is left out of the features and the accuracy is "
        "printed. Model files are pickles, which can run code when loaded: only load models "
        "you trust.",
        epilog="example: skevonas predict skevonas-search-iris new.csv --output predictions.csv",
    )
    predict.add_argument(
        "model",
        type=Path,
        metavar="MODEL",
        help=f"a {MODEL_FILE} file, or the output folder of skevonas search",
    )
    predict.add_argument("data", type=Path, metavar="DATA", help="the .npz or .csv data file")
    predict.add_argument(
        "--label-column",
        metavar="NAME",
        help="the label column of a CSV file, if any (default: label)",
    )
    predict.add_argument(
        "--output", type=Path, metavar="FILE", help="CSV file to write (default: standard output)"
    )
    predict.add_argument("--proba", action="store_true", help="add the probability of each class")
    predict.set_defaults(func=_predict)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skevonas`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its subcommands are ``search``, ``predict``, ``demo`` and ``datasets``.

    Examples
    --------
    >>> args = build_parser().parse_args(["search", "data.csv", "--population-size", "4"])
    >>> args.command, args.population_size, args.n_generations
    ('search', 4, 5)
    """
    from . import __version__
    from .datasets import list_eeg_datasets

    parser = argparse.ArgumentParser(
        prog="skevonas",
        description="Evolutionary neural architecture search.",
        epilog="Run 'skevonas COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"skevonas {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_search_parser(commands)
    _add_predict_parser(commands)

    demo = commands.add_parser(
        "demo",
        help="search an EEG network for a bundled EEG data set and report its test accuracy",
        description="Evolve an EEG network on the training split of a bundled EEG data "
        "set (the first generation seeded with ShallowConvNet and EEGNet), print the best "
        "architecture, its validation score and its accuracy on the test split.",
    )
    demo.add_argument("--dataset", default="SelfRegulationSCP1", choices=list_eeg_datasets())
    demo.add_argument("--population-size", dest="population_size", type=int)
    demo.add_argument("--n-generations", dest="n_generations", type=int)
    demo.add_argument("--max-epochs", dest="max_epochs", type=int)
    demo.add_argument(
        "--max-time",
        dest="max_time",
        type=float,
        metavar="SECONDS",
        help="stop the search after this many seconds, then refit the best network "
        f"(0: no limit; default: {DEMO_SETTINGS['max_time']:g})",
    )
    demo.add_argument(
        "--n-jobs",
        dest="n_jobs",
        type=int,
        default=-1,
        help="parallel candidates (default: -1, all cores)",
    )
    demo.add_argument("--random-state", dest="random_state", type=int, default=0)
    demo.add_argument(
        "--max-sfreq",
        dest="max_sfreq",
        type=float,
        default=DEMO_MAX_SFREQ,
        metavar="HZ",
        help="decimate data sampled faster than this (anti-aliased; 0 keeps the original "
        f"rate; default: {DEMO_MAX_SFREQ:g})",
    )
    demo.set_defaults(func=_demo)

    datasets = commands.add_parser("datasets", help="list the bundled data sets")
    datasets.set_defaults(func=_datasets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skevonas`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (without the program name); ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 for bad options or input (argparse exits with 2
        itself), 1 when the search failed, 130 when interrupted.

    Examples
    --------
    >>> main(["predict", "no-such-model.joblib", "data.csv"])
    2
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SearchFailed as exc:
        print(f"skevonas: error: the search failed: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `skevonas predict ... | head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as exc:
        print(f"skevonas: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skevonas: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
