"""Command-line interface: ``skevonas search | predict | demo | datasets``.

Run ``skevonas --help`` (or ``python -m skevonas --help``) for the commands
and ``skevonas COMMAND --help`` for each one's options (they are defined in
:mod:`skevonas.cli.parser`). Data files are read by :mod:`skevonas.cli.files`,
models are saved and loaded by :mod:`skevonas.saving` (no pickle; a
pickled model of an earlier version is read only with ``--allow-pickle``).
Exit status: 0 on success, 2 for bad options or input files (the message
starts with ``skevonas: error:``), 1 when a search fails (every candidate
failed), 130 when interrupted.

Heavy imports (torch, skorch, matplotlib) happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .parser import (
    DEMO_SETTINGS,
    MODEL_FILE,
    PICKLE_MODEL_FILE,
    SEARCH_DEFAULTS,
    build_parser,
)

__all__ = ["main"]

# What `skevonas search` writes (MODEL_FILE: skevonas.save's format);
# summary.json is written last and marks a finished output folder
# (SUMMARY_MARKER in its "command" field).
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


# --------------------------------------------------------------------------- results
def _finite(value: Any) -> float | None:
    """A score for JSON: a float, or None for a missing or NaN one (a failed fold)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _cross_validated(clf: Any) -> bool:
    """Whether ``best_score_`` is a cross-validated estimate (else: the best holdout score)."""
    return any(_finite(row.get("cv_score")) is not None for row in clf.finalists_)


def _estimate_name(clf: Any) -> str:
    """What ``best_score_`` is, for the printed result: "estimated accuracy (...)"."""
    scoring = clf.scoring if isinstance(clf.scoring, str) else "score"
    how = "cross-validated" if _cross_validated(clf) else "best holdout score"
    return f"estimated {scoring} ({how})"


def _final_model_summary(clf: Any) -> dict[str, Any]:
    """The final model for summary.json: its members, the finalists, the decimation."""
    return {
        "ensemble": [
            {"key": genome.short_key(), "weight": float(weight)}
            for genome, weight in zip(clf.ensemble_genomes_, clf.ensemble_weights_, strict=True)
        ],
        "finalists": [
            {
                "key": row["genome"].short_key(),
                "holdout_score": _finite(row.get("holdout_score")),
                "cv_score": _finite(row.get("cv_score")),
                "cv_scores": [_finite(v) for v in row.get("cv_scores", ())],
                "weight": float(row.get("weight", 0.0)),
            }
            for row in clf.finalists_
        ],
        "decimation": int(clf.decimation_),
    }


def _finalists_text(clf: Any) -> str:
    """The finalists, one line each: key, holdout score, cv score, weight in the final model."""
    if len(clf.finalists_) < 2:
        return ""
    lines = ["finalists (holdout score, cross-validated score, weight in the final model):"]
    for row in clf.finalists_:
        cv = _finite(row.get("cv_score"))
        lines.append(
            f"  {row['genome'].short_key()}  {row['holdout_score']:.4f}  "
            f"{'-' if cv is None else f'{cv:.4f}':>6}  {row.get('weight', 0.0):.2f}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- demo, datasets
def _demo(args: argparse.Namespace) -> int:
    from .. import EvolutionaryNASClassifier
    from ..datasets import load_eeg

    # 0 (the default) keeps the recorded rate: the estimator decimates inside
    # the model (decimate="auto"); a negative rate is refused by load_eeg
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
    finalists = _finalists_text(clf)
    if finalists:
        print(finalists)
    member = " (the final model's first member)" if len(clf.ensemble_genomes_) > 1 else ""
    print(f"\nbest genome as JSON{member}: {clf.best_genome_.to_json()}")
    print(
        f"\nsearch {clf.search_time_:.1f}s + final model {clf.refit_time_:.1f}s = {total:.1f}s; "
        f"{_estimate_name(clf)} {clf.best_score_:.4f}; "
        f"test accuracy {accuracy:.4f} on {len(data.y_test)} held-out trials"
    )
    return 0


def _datasets(args: argparse.Namespace) -> int:
    from ..datasets import EEG_DATASETS, load_eeg

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


def _holds_checkpoint(folder: Path | None) -> bool:
    """Whether ``folder`` holds checkpoint files of a search (its state or its journal)."""
    from ..store.checkpoint import JOURNAL_FILE, STATE_FILE

    return folder is not None and any(
        (folder / name).is_file() for name in (STATE_FILE, JOURNAL_FILE)
    )


def _check_checkpoint_dir(checkpoint_dir: Path | None, resume: bool, overwrite: bool) -> None:
    """Refuse to resume nothing, and to start a new search over an earlier one's checkpoint."""
    from ..store.checkpoint import has_checkpoint

    if resume and checkpoint_dir is None:
        raise ValueError("--resume needs --checkpoint-dir, the folder of the search to continue")
    if resume and not has_checkpoint(checkpoint_dir):
        raise ValueError(
            f"there is no search to resume in {str(checkpoint_dir)!r}; run without "
            "--resume to start a new one"
        )
    if not resume and not overwrite and _holds_checkpoint(checkpoint_dir):
        raise ValueError(
            f"the checkpoint folder {str(checkpoint_dir)!r} holds an earlier search's "
            "checkpoint; pass --resume to continue that search, choose another "
            "--checkpoint-dir, or pass --overwrite to start a new search there (which deletes "
            "the earlier checkpoint)"
        )


def _prepare_output(folder: Path, overwrite: bool, checkpoint_dir: Path | None) -> bool:
    """Check (and create) the output folder before the search; return whether it was created.

    A non-empty folder is refused unless it holds an earlier search: its
    finished results, or (when it is also the checkpoint folder) its
    checkpoint.
    """
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"the output {str(folder)!r} is a file, not a folder")
    if not folder.exists():
        folder.mkdir(parents=True)
        return True
    same = checkpoint_dir is not None and folder.resolve() == checkpoint_dir.resolve()
    if overwrite or _is_search_output(folder) or (same and _holds_checkpoint(folder)):
        return False
    others = [
        p
        for p in folder.iterdir()
        if checkpoint_dir is None or p.resolve() != checkpoint_dir.resolve()
    ]
    if others:
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

    from ..plots import plot_fitness

    ax = plot_fitness(clf)
    ax.set_title(f"skevonas search: {clf.search_space_.name}")
    figure: Any = ax.figure
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return True


def _write_outputs(clf: Any, folder: Path, summary: dict[str, Any]) -> list[str]:
    """Write the model, genome, tables, plot and summary; return the file names."""
    from .. import save
    from .files import write_table

    save(clf, folder / MODEL_FILE)
    # an earlier search's pickled model: not this search's, so it must not stay
    (folder / PICKLE_MODEL_FILE).unlink(missing_ok=True)
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
    import numpy as np

    from .. import CheckpointError, EvolutionaryNASClassifier, SearchFailedError, __version__
    from ..epochs import input_sfreq
    from .files import DEFAULT_LABEL_COLUMN, read_data

    _check_checkpoint_dir(args.checkpoint_dir, args.resume, args.overwrite)
    data = read_data(args.data, args.label_column, groups=args.groups)
    X, y = data.X, data.y
    assert y is not None  # labels are required by default
    folder = args.output or Path(f"skevonas-search-{args.data.stem}")
    settings = _search_settings(args)
    clf = EvolutionaryNASClassifier(**settings, verbose=0 if args.quiet else 1)
    clf.check_settings()  # bad settings fail here, before any folder is made
    # a -epo.fif file's own rate, unless --sfreq says it (and then they must agree)
    settings["sfreq"] = input_sfreq(clf.sfreq, data.sfreq, X.shape[1:])
    clf.set_params(sfreq=settings["sfreq"])
    created = _prepare_output(folder, args.overwrite, args.checkpoint_dir)
    n_classes = len(set(y.tolist()))
    print(
        f"{args.data}: {len(y)} samples of shape {tuple(X.shape[1:])}, {n_classes} classes; "
        f"results go to {folder}{'' if str(folder).endswith('/') else '/'}",
        flush=True,
    )
    start = time.perf_counter()
    try:
        clf.fit(X, y, groups=data.groups)
    except BaseException as exc:
        if created and not any(folder.iterdir()):
            folder.rmdir()  # nothing to keep: leave no empty folder behind
        if isinstance(exc, SearchFailedError):
            raise SearchFailed(str(exc)) from exc
        if isinstance(exc, CheckpointError):
            raise CheckpointError(f"{exc}\n(warm_start=False is: run without --resume)") from exc
        raise
    total = time.perf_counter() - start
    if data.feature_names is not None:
        # sklearn's convention, as a fit on a pandas DataFrame would set it:
        # predict then matches a CSV file's columns by name
        clf.feature_names_in_ = np.asarray(data.feature_names, dtype=object)
    is_csv = args.data.suffix.lower() == ".csv"
    summary = {
        "command": SUMMARY_MARKER,
        "skevonas_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {
            "path": str(args.data.resolve()),
            "label_column": (args.label_column or DEFAULT_LABEL_COLUMN) if is_csv else None,
            "groups": args.groups,
            "n_samples": len(y),
            "sample_shape": list(clf.sample_shape_),
            "feature_names": None if data.feature_names is None else list(data.feature_names),
            "classes": clf.classes_.tolist(),
        },
        "settings": settings,
        "search_space": clf.search_space_.name,
        "best_score": clf.best_score_,
        "best_genome_key": clf.best_genome_.short_key(),
        **_final_model_summary(clf),
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
    finalists = _finalists_text(clf)
    if finalists:
        print(finalists)
    if not _cross_validated(clf):
        print(
            "(no cross-validation: the estimate is the best holdout score, optimistic once "
            "many networks are compared)"
        )
    print(
        f"\nsearch {clf.search_time_:.1f}s + final model {clf.refit_time_:.1f}s = {total:.1f}s\n"
        f"wrote {', '.join(written)} to {folder}"
    )
    return 0


# --------------------------------------------------------------------------- predict
def _looks_like_safetensors(path: Path) -> bool:
    """Whether ``path`` starts as a safetensors file does (a length, then a JSON header)."""
    with open(path, "rb") as f:
        start = f.read(9)
    return len(start) == 9 and start[8:9] == b"{"


def _load_model(path: Path, allow_pickle: bool = False) -> Any:
    """A fitted skevonas model from a model file or a search output folder.

    A pickle (the model file of earlier versions) is read only with
    ``allow_pickle``, and with a warning.
    """
    from .. import ModelFileError, load

    if path.is_dir():
        folder, path = path, path / MODEL_FILE
        if not path.is_file() and (folder / PICKLE_MODEL_FILE).is_file():
            path = folder / PICKLE_MODEL_FILE
        elif not path.is_file():
            raise ValueError(
                f"the folder {str(folder)!r} has no {MODEL_FILE}; give the model file, or the "
                "output folder of a finished skevonas search"
            )
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {str(path)!r}")
    try:
        return load(path)
    except ModelFileError as exc:
        if _looks_like_safetensors(path):
            raise  # a damaged or crafted model file: never try it as a pickle
        if not allow_pickle:
            raise ValueError(
                f"{exc}. If it is a pickled model (the {PICKLE_MODEL_FILE} of an earlier "
                "skevonas version), pass --allow-pickle to load it: a pickle can run any code "
                "while it loads, so do that only for a file you trust"
            ) from exc
    return _load_pickle(path)


def _load_pickle(path: Path) -> Any:
    """A fitted skevonas model from a pickle (``--allow-pickle``), with a warning."""
    import joblib
    from sklearn.utils.validation import check_is_fitted

    from ..base import NetClassifierBase

    print(
        f"skevonas: warning: loading {str(path)!r} as a pickle (--allow-pickle): a pickle can "
        "run any code while it loads, so this is safe only for a file you trust. To convert "
        'it once into the safe format: python -c "import joblib, skevonas; '
        f"skevonas.save(joblib.load('{path}'), '{MODEL_FILE}')\"",
        file=sys.stderr,
    )
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - unpickling fails in many ways
        raise ValueError(
            f"{str(path)!r} is not a skevonas model file (written by skevonas search or "
            f"skevonas.save), nor a pickled one: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(model, NetClassifierBase):
        raise ValueError(
            f"{str(path)!r} holds a {type(model).__module__}.{type(model).__qualname__}, "
            "not a skevonas classifier"
        )
    check_is_fitted(model)
    return model


def _match_features(model: Any, data: Any, path: Path, info: Any) -> Any:
    """The samples with the model's features in its order: CSV columns matched by name.

    Without names on either side (an ``.npz`` file, a model trained on
    arrays), the columns are taken in order.
    """
    expected = getattr(model, "feature_names_in_", None)
    found = data.feature_names
    if expected is None or found is None:
        return data.X
    expected = [str(name) for name in expected]
    if list(found) == expected:
        return data.X
    if sorted(found) == sorted(expected):  # CSV column names are distinct
        print(
            f"note: the columns of {str(path)!r} are in another order than the model's "
            "features; they were matched by name",
            file=info,
        )
        return data.X[:, [found.index(name) for name in expected]]
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    problems = [
        f"{what} {names[:10]}{' ...' if len(names) > 10 else ''}"
        for what, names in (("missing", missing), ("not features of the model", unexpected))
        if names
    ]
    raise ValueError(
        f"the columns of {str(path)!r} do not match the features the model was trained on: "
        f"{'; '.join(problems)}. The model's features are {expected[:20]}"
        f"{' ...' if len(expected) > 20 else ''}; the label column ('label', or the one "
        "--label-column names) is left out"
    )


def _predict(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np

    from ..epochs import check_sfreq
    from .files import read_data, write_table

    model = _load_model(args.model, args.allow_pickle)
    data = read_data(args.data, args.label_column, require_labels=False, groups=args.groups)
    check_sfreq(getattr(model, "sfreq_", None), data.sfreq, f"the model {str(args.model)!r}")
    info = sys.stdout if args.output else sys.stderr  # keep stdout for the CSV
    X = _match_features(model, data, args.data, info)
    try:
        with warnings.catch_warnings():  # the columns were matched by name above
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
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
    n_rows = write_table(args.output or sys.stdout, columns, rows)
    if args.output:
        print(f"wrote {n_rows} predictions to {args.output}", file=info)
    if data.y is not None:
        truth, predicted = np.asarray(data.y).astype(str), predictions.astype(str)
        unknown = sorted(set(truth.tolist()) - set(classes.astype(str).tolist()))
        if unknown:
            print(f"note: labels the model never saw: {unknown[:10]}", file=info)
        print(f"accuracy {np.mean(truth == predicted):.4f} on {len(truth)} samples", file=info)
    return 0


# --------------------------------------------------------------------------- export
def _export(args: argparse.Namespace) -> int:
    from ..store.export import to_onnx, to_pytorch, to_torchscript

    model = _load_model(args.model)
    out = args.output
    if args.format == "pytorch":
        try:
            to_pytorch(model, out, overwrite=args.overwrite)
        except TypeError as exc:  # a layer that cannot be written as code
            raise ValueError(f"cannot export {str(args.model)!r} as PyTorch code: {exc}") from exc
        print(f"wrote {out}/model.py, model.safetensors, config.json and README.md")
        return 0
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{str(out)!r} exists; pass --overwrite to replace it")
    if args.format == "torchscript":
        to_torchscript(model, out)
    else:
        try:
            to_onnx(model, out)
        except ImportError as exc:  # the optional ONNX packages
            raise ValueError(str(exc)) from exc
    print(f"wrote {out}")
    return 0


COMMANDS = {
    "search": _search,
    "predict": _predict,
    "export": _export,
    "demo": _demo,
    "datasets": _datasets,
}


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
        return int(COMMANDS[args.command](args))
    except SearchFailed as exc:
        print(f"skevonas: error: the search failed: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `skevonas predict ... | head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError, ImportError) as exc:  # ImportError: an optional extra
        print(f"skevonas: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skevonas: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
