"""Evolved EEG networks vs the networks and classifiers a user would pick instead (issue 15).

For each bundled EEG data set (``skevonas.datasets.list_eeg_datasets()``) and
seed, every method learns from the archive's train split only and is scored
once on its test split. Every method gets the RAW data (``load_eeg(name)``,
the recorded sampling rate, no decimation by the bench): any decimation is a
setting of skevonas and shows in its recorded settings.

- ``skevonas``: ``EvolutionaryNASClassifier(n_jobs=-1, random_state=seed)``,
  nothing else set: the benchmark follows the library's defaults of the day;
- ``async``: the same with ``strategy="asynchronous"`` (issue 17: the
  asynchronous search trains as many candidates as the generational one);
- ``demo``: the estimator settings of ``skevonas demo``
  (``skevonas.cli.parser.DEMO_SETTINGS``, ``n_jobs=-1``), on the raw data as
  the demo itself passes it (the estimator's ``decimate="auto"`` decimates
  long epochs inside the model);
- ``random``: random search at the same number of evaluations: one generation
  of ``n_evaluations_`` random genomes (``initial_genomes=None``) of the
  ``skevonas`` run of that data set and seed, its other settings the defaults
  (needs that ``skevonas`` row, from this run or the results file);
- ``shallow``, ``eegnet``, ``eegnex``: braindecode 1.8.1's ``EEGClassifier``
  with ``ShallowFBCSPNet``, ``EEGNet`` and ``EEGNeX`` trained with the field's
  standard recipe, and ``minirocket``: aeon's ``MiniRocketClassifier``; the
  recipe and the torchaudio workaround (a stub ``torchaudio`` module, within
  ``bench/`` only) are in ``bench/peers.py``'s docstring.

The old rows ``shallow`` and ``eegnet`` (those genomes of the skevonas space
trained by ``GenomeClassifier`` with early stopping) are gone: the braindecode
peers, trained as their users train them, replace them. So are ``--max-time``,
``--population`` and ``--max-sfreq``: the skevonas rows now run the library's
own defaults on raw data.

Each (method, data set, seed) gives one row: test accuracy, the estimated
score stored as ``validation_score`` (skevonas, demo and random:
``best_score_``, the final model's cross-validated score), wall seconds of ``fit``,
candidates trained, settings, versions and machine; the search rows also
hold ``search_s`` and ``final_s`` (the search, then the finalists'
cross-validation and refits), ``stop_reason`` and ``members`` (each member
of the final model: weight, holdout and cross-validated scores, parameters
and its own test accuracy). With ``--results FILE``
(JSON lines) every row is appended as soon as it is done, rows already in the
file are not rerun unless ``--rerun`` (a long benchmark runs in pieces and
resumes), and ``--table-only`` prints the tables from the file alone.
``bench/results/`` is where these runs accumulate (``bench/results/eeg.jsonl``).

Prints the machine, each method's settings, one line per row, then one
Markdown table per data set (test accuracy mean, population std, min and max
over the seeds; mean wall seconds; mean candidates trained; mean estimated
(``validation_score``) minus test accuracy), ready for ``docs/benchmarks.md``.

    python bench/eeg.py                                      # 4 data sets x 3 seeds x 7
    nice -n 10 python bench/eeg.py --methods shallow eegnet eegnex minirocket \\
        --results bench/results/eeg.jsonl
    python bench/eeg.py --results bench/results/eeg.jsonl --table-only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections import defaultdict
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.cli.parser import DEMO_SETTINGS
from skevonas.datasets import list_eeg_datasets, load_eeg

SEARCHES = ("skevonas", "async", "demo", "random")
PEERS = ("shallow", "eegnet", "eegnex")
METHODS = (*SEARCHES, *PEERS, "minirocket")
DEFAULT_EPOCHS = 100  # bench/peers.py's DEFAULT_EPOCHS, without importing braindecode


# --------------------------------------------------------------------------- machine, settings
def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """Where the rows are measured (stored in every row)."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "skevonas": __version__,
        "braindecode": package_version("braindecode"),
        "aeon": package_version("aeon"),
    }


def jsonable(value: Any) -> Any:
    """``value`` with everything JSON cannot hold written as its ``repr``."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def search_estimator(method: str, seed: int, n_evaluations: int = 0) -> EvolutionaryNASClassifier:
    """The unfitted estimator of a search method (``random`` needs ``n_evaluations``)."""
    if method == "demo":
        return EvolutionaryNASClassifier(**DEMO_SETTINGS, n_jobs=-1, random_state=seed)
    clf = EvolutionaryNASClassifier(n_jobs=-1, random_state=seed)
    if method == "async":
        clf.set_params(strategy="asynchronous")
    if method == "random":
        clf.set_params(population_size=max(2, n_evaluations), n_generations=1, initial_genomes=None)
    return clf


def method_settings(method: str, epochs: int) -> dict[str, Any]:
    """Settings printed at the top (the seed and data-dependent values shown symbolically)."""
    if method in SEARCHES:
        params = search_estimator(method, 0).get_params()
        params["random_state"] = "<seed>"
        if method == "random":
            params["population_size"] = "<n_evaluations_ of the skevonas row of that seed>"
        return jsonable(params)
    import peers  # braindecode is imported only when a peer is wanted

    if method == "minirocket":
        return peers.minirocket_settings()
    return peers.peer_settings(method, epochs, sfreq="<the data's>")


# --------------------------------------------------------------------------- one row
def run_search(method: str, data: Any, seed: int, rows: dict) -> dict[str, Any] | None:
    n_evaluations = 0
    if method == "random":
        default_row = rows.get(("skevonas", data.name, seed))
        if default_row is None:
            return None
        n_evaluations = default_row["n_evaluations"]
    clf = search_estimator(method, seed, n_evaluations)
    start = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    wall = time.perf_counter() - start
    return {
        "test_accuracy": float(np.mean(clf.predict(data.X_test) == data.y_test)),
        "validation_score": float(clf.best_score_),
        "wall_s": wall,
        "search_s": float(clf.search_time_),
        "final_s": float(clf.refit_time_),
        "n_evaluations": int(clf.n_evaluations_),
        "stop_reason": clf.stop_reason_,
        "settings": jsonable(clf.get_params()),
        "model": str(clf.best_genome_),
        "members": members(clf, data.X_test, data.y_test),
    }


def members(clf: EvolutionaryNASClassifier, X: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """Each member of the final model: weight, finalist scores and its own test accuracy."""
    module = clf.best_module_
    nets = list(getattr(module, "members", [module]))
    front = getattr(module, "decimate", torch.nn.Identity())
    with torch.no_grad():
        x = front(torch.as_tensor(X, dtype=torch.float32))
        predicted = [clf.classes_[net.eval()(x).argmax(1).numpy()] for net in nets]
    rows = {row["genome"].key(): row for row in clf.finalists_}
    out = []
    for genome, weight, labels in zip(
        clf.ensemble_genomes_, clf.ensemble_weights_, predicted, strict=True
    ):
        row = rows.get(genome.key(), {})
        out.append(
            {
                "key": genome.short_key(),
                "weight": weight,
                "holdout_score": row.get("holdout_score"),
                "cv_score": row.get("cv_score"),
                "test_accuracy": float(np.mean(labels == y)),
                "n_params": int(sum(p.numel() for p in nets[len(out)].parameters())),
            }
        )
    return out


def run_peer(method: str, data: Any, seed: int, epochs: int) -> dict[str, Any]:
    import peers

    encoder = LabelEncoder().fit(data.y_train)
    y_train, y_test = encoder.transform(data.y_train), encoder.transform(data.y_test)
    start = time.perf_counter()
    if method == "minirocket":
        model = peers.fit_minirocket(data.X_train, y_train, seed)
        wall = time.perf_counter() - start
        predicted = model.predict(data.X_test.astype(np.float64))
        settings, what = peers.minirocket_settings(), "MiniRocket (aeon)"
    else:
        settings = peers.peer_settings(method, epochs, data.sfreq)
        try:
            model = peers.fit_peer(method, data.X_train, y_train, data.sfreq, seed, epochs)
        except ValueError as error:  # e.g. a zoo network whose defaults need longer trials
            shape = data.X_train.shape[1:]
            return failed_row(error, time.perf_counter() - start, settings, shape)
        wall = time.perf_counter() - start
        predicted = peers.predict_peer(model, data.X_test)
        what = peers.describe_peer(model)
    return {
        "test_accuracy": float(np.mean(predicted == y_test)),
        "validation_score": None,
        "wall_s": wall,
        "n_evaluations": 1,
        "settings": jsonable(settings),
        "model": what,
    }


def failed_row(
    error: Exception, wall: float, settings: dict[str, Any], shape: tuple[int, ...]
) -> dict[str, Any]:
    """The row of a peer that cannot be trained on this data at its defaults."""
    message = " ".join(f"{type(error).__name__}: {error}".split())
    return {
        "test_accuracy": None,
        "validation_score": None,
        "wall_s": wall,
        "n_evaluations": 0,
        "settings": jsonable(settings),
        "model": f"failed on trials of shape {shape} (the row's error)",
        "error": message,
    }


def run_row(method: str, data: Any, seed: int, rows: dict, epochs: int) -> dict[str, Any] | None:
    """Fit one method on one data set and seed; ``None`` if it cannot run yet."""
    if method in SEARCHES:
        result = run_search(method, data, seed, rows)
    else:
        result = run_peer(method, data, seed, epochs)
    if result is None:
        return None
    return {
        "method": method,
        "dataset": data.name,
        "seed": seed,
        **result,
        "sfreq": data.sfreq,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
    }


# --------------------------------------------------------------------------- results file
def read_rows(path: Path | None) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The rows of a JSON-lines file by (method, data set, seed); a later row replaces one."""
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    if path is None or not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["method"], row["dataset"], int(row["seed"])] = row
    return rows


def append_row(path: Path | None, row: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(row) + "\n")


# --------------------------------------------------------------------------- printing
def row_line(row: dict[str, Any], note: str = "") -> str:
    if row["test_accuracy"] is None:
        failure = f"{row['model']}: {row['error']}"
        return f"  seed {row['seed']} {row['method']:<10} {failure[:250]}{note}"
    validation = row["validation_score"]
    valid = f"valid {validation:.3f}" if validation is not None else " " * 11
    return (
        f"  seed {row['seed']} {row['method']:<10} test {row['test_accuracy']:.3f}  {valid}  "
        f"{row['wall_s']:7.1f} s  {row['n_evaluations']:>3} trained  {row['model'][:120]}{note}"
    )


def print_machines(rows: list[dict[str, Any]]) -> None:
    seen = {json.dumps(row["machine"], sort_keys=True) for row in rows if "machine" in row}
    for recorded in sorted(seen):
        described = ", ".join(f"{key} {value}" for key, value in json.loads(recorded).items())
        print(f"- rows measured on: {described}")


def print_table(name: str, rows: list[dict[str, Any]]) -> None:
    by_method = defaultdict(list)
    for row in rows:
        by_method[row["method"]].append(row)
    print(
        f"\n| {name} | seeds | test acc. mean | std | min | max | wall s | trained | valid - test |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for method in METHODS:
        failed = [row for row in by_method.get(method, []) if row["test_accuracy"] is None]
        group = [row for row in by_method.get(method, []) if row["test_accuracy"] is not None]
        if failed and not group:
            print(f"| {method} | {len(failed)} | {failed[0]['model'][:110]} | | | | | | |")
        if not group:
            continue
        acc = np.array([row["test_accuracy"] for row in group])
        wall = np.mean([row["wall_s"] for row in group])
        trained = np.mean([row["n_evaluations"] for row in group])
        gaps = [
            row["validation_score"] - row["test_accuracy"]
            for row in group
            if row["validation_score"] is not None
        ]
        gap = f"{np.mean(gaps):+.3f}" if gaps else "-"
        print(
            f"| {method} | {len(group)} | {acc.mean():.3f} | {acc.std():.3f} | {acc.min():.3f} "
            f"| {acc.max():.3f} | {wall:.0f} | {trained:.0f} | {gap} |"
        )


def print_tables(rows: dict, datasets: list[str], methods: list[str], seeds: list[int]) -> None:
    selected = [
        row
        for (method, dataset, seed), row in rows.items()
        if method in methods and dataset in datasets and seed in seeds
    ]
    print("\n## Tables")
    print("\n- std over seeds with ddof 0; wall: seconds of `fit`; trained: candidates or models")
    print_machines(selected)
    for name in datasets:
        group = [row for row in selected if row["dataset"] == name]
        if group:
            print_table(f"{name} at {group[0]['sfreq']:g} Hz", group)


# --------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list_eeg_datasets())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help="braindecode peers' fixed epochs"
    )
    parser.add_argument("--results", type=Path, help="JSON-lines file of rows (read, appended)")
    parser.add_argument("--rerun", action="store_true", help="rerun rows already in --results")
    parser.add_argument(
        "--table-only", action="store_true", help="print the tables from --results, run nothing"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.datasets) - set(list_eeg_datasets()))
    if unknown:
        parser.error(f"--datasets must be among {list_eeg_datasets()}, got {unknown} instead")
    if args.table_only and args.results is None:
        parser.error("--table-only needs --results FILE")
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs!r} instead")
    return args


def main() -> None:
    args = parse_args()
    methods = [method for method in METHODS if method in args.methods]  # random after skevonas
    rows = read_rows(args.results)
    if args.table_only:
        print_tables(rows, args.datasets, methods, args.seeds)
        return

    print("## Machine\n")
    print("\n".join(f"- {key}: {value}" for key, value in machine().items()))
    print("\n## Settings\n")
    for method in methods:
        print(f"- {method}: {json.dumps(method_settings(method, args.epochs))}")
    if "minirocket" in methods:
        import peers

        peers.warm_up_minirocket()  # numba compiles before anything is timed
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # failed candidates: counted
    warnings.filterwarnings("ignore", message="Using padding='same'")  # EEGNeX, harmless

    for name in args.datasets:
        data = load_eeg(name)
        print(
            f"\n## {name} at {data.sfreq:g} Hz: train {data.X_train.shape}, "
            f"test {data.X_test.shape}",
            flush=True,
        )
        for seed in args.seeds:
            for method in methods:
                key = (method, name, seed)
                if key in rows and not args.rerun:
                    kept = rows[key]["settings"].get("max_epochs")
                    note = " (from the results file)"
                    if method in PEERS and kept != args.epochs:
                        note = f" (from the results file, {kept} epochs; --rerun to retrain)"
                    print(row_line(rows[key], note), flush=True)
                    continue
                row = run_row(method, data, seed, rows, args.epochs)
                if row is None:
                    print(f"  seed {seed} {method:<10} skipped: needs the skevonas row first")
                    continue
                rows[key] = row
                append_row(args.results, row)
                print(row_line(row), flush=True)
    print_tables(rows, args.datasets, methods, args.seeds)


if __name__ == "__main__":
    main()
