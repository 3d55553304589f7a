"""The options of the ``skevonas`` command: its argument parser and their defaults.

:func:`build_parser` describes what each subcommand (``search``,
``predict``, ``demo``, ``datasets``) accepts; :mod:`skevonas.cli.commands` does what
they ask. A usage error, in the main command or a subcommand, prints the
usage and ``skevonas: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from ..spaces.catalogue import SPACES

__all__ = ["build_parser"]

# The demo's budget, all in this one dict: chosen so the search, the finalists'
# cross-validation and the refit finish in a few minutes on 2 CPU cores (see
# docs/benchmarks.md for the measured time and accuracy); max_time caps the
# seeds that drift to slow networks. No patience: the estimator's default
# (None, a fixed epoch budget under the cosine schedule).
DEMO_SETTINGS: dict[str, Any] = {
    "population_size": 6,
    "n_generations": 3,
    "max_epochs": 40,
    "max_time": 420.0,
}
# The demo feeds the raw recordings to the estimator, whose decimate="auto"
# decimates long EEG epochs inside the model; None: load_eeg keeps the
# recorded rate (bench/demo.py reads this too).
DEMO_MAX_SFREQ: float | None = None

# `skevonas search` defaults: the estimator's own, except n_jobs (all cores)
# and random_state (0, so that a run can be repeated). tests/test_cli.py
# checks that the others still match EvolutionaryNASClassifier's.
SEARCH_DEFAULTS: dict[str, Any] = {
    "search_space": "auto",
    "population_size": 8,
    "n_generations": 4,
    "max_epochs": 100,
    "patience": None,
    "lr_schedule": "cosine",
    "label_smoothing": 0.0,
    "class_weight": None,
    "augment": False,
    "min_epochs": "auto",
    "halving_factor": 3,
    "min_data_fraction": 1.0,
    "strategy": "generational",
    "inherit_weights": False,
    "local_rate": 0.0,
    "max_time": None,
    "scoring": "accuracy",
    "validation_fraction": 0.2,
    "holdout": "reshuffled",
    "n_finalists": 3,
    "cv": 3,
    "ensemble_size": 1,
    "calibrate": False,
    "decimate": "auto",
    "sfreq": None,
    "n_jobs": -1,
    "device": "cpu",
    "random_state": 0,
}
# The choices of --lr-schedule and --holdout (skevonas.settings.LR_SCHEDULES
# and HOLDOUTS; tests/test_cli.py checks that they agree, as this module
# does not import torch).
LR_SCHEDULES = ("cosine", "constant")
HOLDOUTS = ("reshuffled", "fixed")
# The --strategy choices (skevonas.search.strategies.STRATEGIES; tests/test_cli.py checks).
STRATEGIES = ("generational", "asynchronous")
# The --search-space choices: "auto" and the named spaces (torch-free to import).
SEARCH_SPACES = ("auto", *SPACES)

# The model file `skevonas search` writes (skevonas.save: safetensors, no
# pickle), and the pickle that earlier versions wrote instead.
MODEL_FILE = "model.skevonas"
PICKLE_MODEL_FILE = "model.joblib"


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage errors start with ``skevonas: error:``.

    argparse names the subcommand in its messages (``skevonas search:
    error: ...``); the command promises one prefix for every error, so the
    subcommand goes after it.
    """

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``skevonas: error: [COMMAND: ]message``; exit with status 2.

        Examples
        --------
        >>> import contextlib, io
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     try:
        ...         build_parser().parse_args(["search", "data.csv", "--population-size", "x"])
        ...     except SystemExit as exc:
        ...         print(exc.code)
        2
        >>> err.getvalue().splitlines()[-1]
        "skevonas: error: search: argument --population-size: invalid int value: 'x'"
        """
        self.print_usage(sys.stderr)
        command = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(2, f"skevonas: error: {command}{message}\n")


# --------------------------------------------------------------------------- option types
def int_or_none(text: str) -> int | None:
    """An option value that is an int or ``none`` (``--patience``, ``--cv``).

    Examples
    --------
    >>> int_or_none("5"), int_or_none("none"), int_or_none("None")
    (5, None, None)
    >>> int_or_none("five")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be an int or none, got 'five' instead
    """
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int or none, got {text!r} instead") from None


def auto_or_int(text: str) -> str | int:
    """An option value that is ``auto`` or an int (``--decimate``).

    Examples
    --------
    >>> auto_or_int("auto"), auto_or_int("4")
    ('auto', 4)
    >>> auto_or_int("4.5")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be auto or an int, got '4.5' instead
    """
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or an int, got {text!r} instead") from None


def auto_none_or_int(text: str) -> str | int | None:
    """An option value that is ``auto``, ``none`` or an int (``--min-epochs``).

    Examples
    --------
    >>> auto_none_or_int("auto"), auto_none_or_int("none"), auto_none_or_int("3")
    ('auto', None, 3)
    """
    if text.strip().lower() == "none":
        return None
    try:
        return auto_or_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be auto, none or an int, got {text!r} instead"
        ) from None


# --------------------------------------------------------------------------- parser
def _add_search_parser(commands: argparse._SubParsersAction) -> None:
    d = SEARCH_DEFAULTS
    search = commands.add_parser(
        "search",
        help="evolve a network for your data and save it",
        description="Evolve neural networks for a labelled data set, cross-validate the best "
        "few, refit the chosen one (or an ensemble of them) on all of it, and save the model, "
        "the best genome, the record of every candidate and a fitness plot in an output "
        "folder. DATA is a .npz file with arrays X (2-D samples x "
        "features, 3-D samples x channels x times, or 4-D images) and y (labels), a .csv "
        "file with a header row, a label column and numeric features in every other column, "
        "or MNE Epochs saved as a -epo.fif file (labels: the event names; the sampling rate "
        'is read from it; needs pip install "skevonas[mne]").',
        epilog="example: skevonas search iris.csv --label-column species --n-generations 3",
    )
    search.add_argument(
        "data", type=Path, metavar="DATA", help="the .npz, .csv or -epo.fif data file"
    )
    search.add_argument(
        "--label-column", metavar="NAME", help="the label column of a CSV file (default: label)"
    )
    search.add_argument(
        "--groups",
        metavar="NAME",
        help="the CSV column or .npz array with the group (subject, session, recording) of "
        "every sample: no internal holdout or fold then puts a group on both sides",
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
        help="write into a non-empty output folder (only skevonas's own file names are "
        "replaced), or start a new search in a --checkpoint-dir that holds an earlier one "
        "(its checkpoint is deleted)",
    )
    ga = search.add_argument_group("search settings")
    ga.add_argument(
        "--search-space",
        choices=SEARCH_SPACES,
        default=d["search_space"],
        help="model family; auto picks MLP, EEG network or 2-D CNN from X's dimensions "
        "(default: auto)",
    )
    for flag, rule in (
        ("--population-size", "networks per generation"),
        ("--n-generations", "generations to evolve"),
        ("--max-epochs", "the epoch budget of every network, and of the refit"),
    ):
        name = flag[2:].replace("-", "_")
        ga.add_argument(
            flag, type=int, default=d[name], metavar="N", help=f"{rule} (default: {d[name]})"
        )
    ga.add_argument(
        "--patience",
        type=int_or_none,
        default=d["patience"],
        metavar="N|none",
        help="stop a network after N epochs without improvement, keep its best epoch's "
        "weights and refit it for that many epochs; none trains every network for "
        "--max-epochs and keeps its last weights (default: none)",
    )
    ga.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default=d["lr_schedule"],
        help="cosine anneals every network's learning rate to zero over --max-epochs; "
        f"constant keeps it (default: {d['lr_schedule']})",
    )
    ga.add_argument(
        "--label-smoothing",
        type=float,
        default=d["label_smoothing"],
        metavar="F",
        help=f"label smoothing of the loss, in [0, 1) (default: {d['label_smoothing']})",
    )
    ga.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=d["class_weight"],
        help="balanced: weigh each class's loss by n_samples / (n_classes * its count) in "
        "the part each network trains on (default: none; scores stay unweighted)",
    )
    ga.add_argument(
        "--augment",
        action="store_true",
        default=d["augment"],
        help="augment the training batches of 3-D (EEG-like) data: random time shifts, "
        "amplitude scaling, noise and channel dropout, for every network and the refit "
        f"(default: {'on' if d['augment'] else 'off'})",
    )
    ga.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="train on the data as it is (the last of --augment and --no-augment counts)",
    )
    ga.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=d["strategy"],
        help="generational: a generation at a time; asynchronous: a new network the moment "
        "a worker frees (aging evolution, asynchronous successive halving), for many "
        f"workers (default: {d['strategy']})",
    )
    ga.add_argument(
        "--inherit-weights",
        nargs="?",
        const=True,
        type=float,
        default=d["inherit_weights"],
        metavar="SHARE",
        help="children start from their trained parent's weights wherever the layers "
        "correspond, and train on its holdout for SHARE of --max-epochs (alone: all of them; "
        "default: off)",
    )
    ga.add_argument(
        "--local-rate",
        type=float,
        default=d["local_rate"],
        metavar="F",
        help="probability that a child is one small step from an elite network (a notch "
        "wider or narrower, a kernel a notch longer or shorter, a rate nudged), and the "
        f"share of the first population near the seed networks (default: {d['local_rate']})",
    )
    ga.add_argument(
        "--min-epochs",
        type=auto_none_or_int,
        default=d["min_epochs"],
        metavar="auto|none|N",
        help="multi-fidelity evaluation: every new network trains about N epochs, the best "
        "1/F go on for F times more, and so on up to --max-epochs (successive halving); "
        "auto: from max-epochs / F**2 when --max-epochs is at least 27; none: every "
        "network trains up to --max-epochs (default: auto)",
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
        "--min-data-fraction",
        type=float,
        default=d["min_data_fraction"],
        metavar="F",
        help="with successive halving, the share of its training part a candidate's first "
        f"rung of epochs trains on (default: {d['min_data_fraction']}, all of it)",
    )
    ga.add_argument(
        "--max-time",
        type=float,
        default=d["max_time"],
        metavar="SECONDS",
        help="time budget of the whole search, final model included: when it is up, the "
        "final model is chosen from the networks trained so far (default: none)",
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
        "--holdout",
        choices=HOLDOUTS,
        default=d["holdout"],
        help="reshuffled gives every network its own held-out part (drawn from its seed); "
        f"fixed scores all of them on one (default: {d['holdout']})",
    )
    ga.add_argument(
        "--decimate",
        type=auto_or_int,
        default=d["decimate"],
        metavar="auto|N",
        help="decimate 3-D (EEG-like) data in time by N, after a low-pass filter, inside the "
        "model (so predict takes data at its recorded rate); auto: the smallest factor that "
        "leaves at most 256 time samples, or with a known sampling rate the one nearest "
        "rate / 128 Hz; 1: never (default: auto)",
    )
    ga.add_argument(
        "--sfreq",
        type=float,
        default=d["sfreq"],
        metavar="HZ",
        help="sampling rate of 3-D data in Hz (a -epo.fif file's own by default): "
        "--decimate auto aims at 128 Hz and the seed networks' time kernels are scaled to "
        "the decimated rate (default: unknown)",
    )
    ga.add_argument(
        "--initial-genomes",
        default="auto",
        metavar="FILE",
        help="networks for the first generation: a JSON file with one genome (such as an "
        "earlier search's best_genome.json) or a list of them; auto seeds an EEG search with "
        "ShallowConvNet, EEGNet and EEGNeX, an MLP search with a 2 x 512 MLP and a 2-D CNN "
        "search with a small VGG-style CNN; none starts from random genomes only "
        "(default: auto)",
    )
    ga.add_argument(
        "--random-state",
        type=int,
        default=d["random_state"],
        metavar="N",
        help=f"seed; the same seed repeats a search on CPU (default: {d['random_state']})",
    )
    final = search.add_argument_group("final model")
    final.add_argument(
        "--n-finalists",
        type=int,
        default=d["n_finalists"],
        metavar="N",
        help="after the search, the N best distinct networks (by holdout score) are "
        f"cross-validated on all the data and the final model chosen from them "
        f"(default: {d['n_finalists']})",
    )
    final.add_argument(
        "--cv",
        type=int_or_none,
        default=d["cv"],
        metavar="N|none",
        help="folds of the finalists' cross-validation; none skips it, and the best holdout "
        f"score wins alone (default: {d['cv']})",
    )
    final.add_argument(
        "--ensemble-size",
        type=int,
        default=d["ensemble_size"],
        metavar="N",
        help="the final model averages the class probabilities of at most N finalists, "
        "chosen greedily on their out-of-fold predictions and each refitted on all the "
        f"data; 1 keeps the best cross-validated one alone (default: {d['ensemble_size']})",
    )
    final.add_argument(
        "--calibrate",
        action="store_true",
        default=d["calibrate"],
        help="temperature scaling of the class probabilities, fitted on the final model's "
        "out-of-fold predictions (no extra training; default: off)",
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
        help="save the search state there after every generation, so --resume can continue "
        "it; a folder with an earlier search's checkpoint is refused without --resume or "
        "--overwrite (it may be the --output folder)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the search saved in --checkpoint-dir, after a crash or with more "
        "--n-generations (the data and the other settings must be the same)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_predict_parser(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict",
        help="predict with a model saved by skevonas search",
        description="Predict the class of every sample in DATA with a saved model and write "
        "the predictions as CSV (a column 'prediction', and with --proba one column "
        "'proba_<class>' per class). DATA is a .npz file with an array X (y optional), MNE "
        "Epochs saved as a -epo.fif file (at the model's sampling rate), or a "
        ".csv file whose columns are the features the model was trained on: matched by name "
        "when the model knows the names (a search on a CSV file keeps them), else taken in "
        "order. A label column, if there, is left out of the features and the accuracy is "
        f"printed. skevonas search writes a {MODEL_FILE} file (safetensors and JSON), which "
        "cannot run code when loaded. Earlier versions wrote a pickle "
        f"({PICKLE_MODEL_FILE}) instead, which can: it is read only with --allow-pickle, so "
        "only load models you trust.",
        epilog="example: skevonas predict skevonas-search-iris new.csv --output predictions.csv",
    )
    predict.add_argument(
        "model",
        type=Path,
        metavar="MODEL",
        help=f"a {MODEL_FILE} file, or the output folder of skevonas search",
    )
    predict.add_argument(
        "data", type=Path, metavar="DATA", help="the .npz, .csv or -epo.fif data file"
    )
    predict.add_argument(
        "--label-column",
        metavar="NAME",
        help="the label column of a CSV file, if any (default: label)",
    )
    predict.add_argument(
        "--groups",
        metavar="NAME",
        help="a groups column of a CSV file (as search --groups took), left out of the features",
    )
    predict.add_argument(
        "--output", type=Path, metavar="FILE", help="CSV file to write (default: standard output)"
    )
    predict.add_argument("--proba", action="store_true", help="add the probability of each class")
    predict.add_argument(
        "--allow-pickle",
        action="store_true",
        help=f"also read a pickled model ({PICKLE_MODEL_FILE}, as earlier versions wrote): "
        "loading a pickle can run any code, so only for files you trust",
    )


def _add_export_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="export a saved model for use without skevonas",
        description="Export a model saved by skevonas (a "
        f"{MODEL_FILE} file, or the output folder of skevonas search). --format pytorch "
        "(the default) writes into the folder OUT readable PyTorch code generated from the "
        "genome (model.py, whose load(OUT) gives predict and predict_proba on raw NumPy "
        "samples, with the class labels), the weights (model.safetensors), config.json and "
        "a model card (README.md); loading needs torch, numpy and safetensors only. "
        "--format torchscript and --format onnx write the network followed by a softmax "
        "into the file OUT (ONNX needs pip install 'skevonas[onnx]').",
        epilog="example: skevonas export skevonas-search-iris/model.skevonas iris-pytorch",
    )
    export.add_argument(
        "model",
        type=Path,
        metavar="MODEL",
        help=f"a {MODEL_FILE} file, or the output folder of skevonas search",
    )
    export.add_argument(
        "output", type=Path, metavar="OUT", help="the folder (pytorch) or file to write"
    )
    export.add_argument(
        "--format",
        dest="format",
        choices=("pytorch", "torchscript", "onnx"),
        default="pytorch",
        help="what to write (default: pytorch)",
    )
    export.add_argument(
        "--overwrite", action="store_true", help="replace what OUT already holds of the export"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skevonas`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its subcommands are ``search``, ``predict``, ``export``, ``demo`` and
        ``datasets``.

    Examples
    --------
    >>> args = build_parser().parse_args(["search", "data.csv", "--population-size", "4"])
    >>> args.command, args.population_size, args.n_generations
    ('search', 4, 4)
    """
    from .._version import __version__
    from ..datasets import list_eeg_datasets

    parser = CommandParser(
        prog="skevonas",
        description="Evolutionary neural architecture search.",
        epilog="Run 'skevonas COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"skevonas {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_search_parser(commands)
    _add_predict_parser(commands)
    _add_export_parser(commands)

    demo = commands.add_parser(
        "demo",
        help="search an EEG network for a bundled EEG data set and report its test accuracy",
        description="Evolve EEG networks on the training split of a bundled EEG data set, "
        "at its recorded rate (the estimator decimates long epochs inside the model; the "
        "first generation is seeded with ShallowConvNet, EEGNet and EEGNeX), choose the final "
        "model by cross-validating the best few, and print it, its estimated (cross-validated) "
        "accuracy and its accuracy on the test split. Default budget: "
        + ", ".join(f"{k} {v:g}" for k, v in DEMO_SETTINGS.items())
        + ".",
    )
    demo.add_argument("--dataset", default="SelfRegulationSCP1", choices=list_eeg_datasets())
    for flag in ("--population-size", "--n-generations", "--max-epochs"):
        name = flag[2:].replace("-", "_")
        demo.add_argument(
            flag,
            dest=name,
            type=int,
            metavar="N",
            help=f"(default: {DEMO_SETTINGS[name]})",
        )
    demo.add_argument(
        "--max-time",
        dest="max_time",
        type=float,
        metavar="SECONDS",
        help="time budget of the whole search, final model included "
        f"(0: no limit; default: {DEMO_SETTINGS['max_time']:g})",
    )
    demo.add_argument(
        "--n-jobs",
        dest="n_jobs",
        type=int,
        default=-1,
        metavar="N",
        help="parallel candidates (default: -1, all cores)",
    )
    demo.add_argument(
        "--random-state",
        dest="random_state",
        type=int,
        default=0,
        metavar="N",
        help="seed (default: 0)",
    )
    demo.add_argument(
        "--max-sfreq",
        dest="max_sfreq",
        type=float,
        default=0.0,
        metavar="HZ",
        help="decimate data recorded faster than this before the search (anti-aliased), "
        "instead of letting the estimator decimate it inside the model (default: 0, off: "
        "the raw data goes to the estimator)",
    )

    commands.add_parser("datasets", help="list the bundled data sets")
    return parser
