"""Golden runs: prove that a refactor leaves the search's results unchanged.

Runs a fixed set of small, seeded searches through the public API and
writes what they decide (``evaluations_``, ``history_``, ``best_genome_``,
``predict_proba``) to a JSON file, leaving out only wall-clock fields
(``fit_time``, ``seconds``, ``elapsed``). Record before a change, compare
after::

    python bench/golden.py record golden-before.json
    # ... change the code ...
    python bench/golden.py compare golden-before.json

``--settings JSON`` adds estimator settings to every run (a run's own
settings win), e.g. to compare a later version that changed defaults, run
with the earlier defaults, against a recording of the earlier version::

    python bench/golden.py compare before.json --settings '{"lr_schedule": "constant"}'

``compare`` exits 1 and names every run and field that differs. The runs
cover full-fidelity and successive-halving searches with ``n_jobs`` 1 and 2,
an EEG search, an in-memory warm start and a search resumed from its
checkpoint and journal after a crash in its second generation; the same
for ``strategy="asynchronous"`` with one worker (whose arrival order is the
order of submission); and toy searches of both loops (a fitness computed
from the genome, runners that finish tasks in a fixed order), which need no
torch. ``--only toy`` runs the toy searches alone (seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import warnings
from typing import Any

import golden_toy
import numpy as np
from sklearn.datasets import load_digits

from skevonas import EvolutionaryNASClassifier as _Estimator
from skevonas.datasets import load_eeg
from skevonas.evolution.callbacks import SearchCallback

CLOCK_FIELDS = {"fit_time", "seconds", "elapsed"}
# Settings added to every run by --settings (a run's own settings win).
EXTRA: dict[str, Any] = {}


def EvolutionaryNASClassifier(**settings: Any) -> _Estimator:  # noqa: N802 - stands for the class
    """The estimator with ``EXTRA`` under the run's own settings."""
    return _Estimator(**{**EXTRA, **settings})


class _Crash(SearchCallback):
    """Raises after the ``after``-th result of generation 1 (a simulated crash)."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.seen = 0

    def on_evaluation_end(self, state: Any, genome: Any, result: Any) -> None:
        if state.generation == 1:
            self.seen += 1
            if self.seen >= self.after:
                raise RuntimeError("simulated crash")


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in CLOCK_FIELDS}


def _summary(clf: _Estimator, X_test: np.ndarray) -> dict[str, Any]:
    proba = np.ascontiguousarray(clf.predict_proba(X_test))
    return {
        "evaluations": [_strip(r) for r in clf.evaluations_],
        "history": [_strip(r) for r in clf.history_],
        "best_genome": clf.best_genome_.to_json(),
        "best_score": clf.best_score_,
        "proba_sha256": hashlib.sha256(proba.tobytes()).hexdigest(),
        "proba": proba.round(6).tolist()[:5],
    }


def _digits() -> tuple[np.ndarray, ...]:
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400], X[400:500]


def run_all() -> dict[str, Any]:
    X, y, X_test = _digits()
    common = dict(population_size=6, n_generations=3, max_epochs=6, patience=3, random_state=0)
    out: dict[str, Any] = {}
    for n_jobs in (1, 2):
        clf = EvolutionaryNASClassifier(**common, n_jobs=n_jobs).fit(X, y)
        out[f"full_n_jobs{n_jobs}"] = _summary(clf, X_test)
        clf = EvolutionaryNASClassifier(**common, min_epochs=1, n_jobs=n_jobs).fit(X, y)
        out[f"halving_n_jobs{n_jobs}"] = _summary(clf, X_test)

    eeg = load_eeg("SelfRegulationSCP1", max_sfreq=32)
    clf = EvolutionaryNASClassifier(
        population_size=4, n_generations=2, max_epochs=4, patience=2, random_state=1, n_jobs=2
    ).fit(eeg.X_train[::2], eeg.y_train[::2])
    out["eeg_n_jobs2"] = _summary(clf, eeg.X_test[::4])
    clf = EvolutionaryNASClassifier(
        population_size=6,
        n_generations=2,
        max_epochs=4,
        min_epochs=1,
        halving_factor=2,
        patience=2,
        random_state=2,
        n_jobs=2,
    ).fit(eeg.X_train[::2], eeg.y_train[::2])
    out["eeg_halving_n_jobs2"] = _summary(clf, eeg.X_test[::4])

    out.update(_warm_and_resumed(X, y, X_test, common, prefix=""))
    out.update(run_asynchronous(X, y, X_test, common))
    return out


def run_asynchronous(
    X: np.ndarray, y: np.ndarray, X_test: np.ndarray, common: dict[str, Any]
) -> dict[str, Any]:
    """``strategy="asynchronous"`` with one worker: full fidelity, halving, warm start, resume."""
    out: dict[str, Any] = {}
    asynchronous = {**common, "strategy": "asynchronous", "n_jobs": 1}
    for label, extra in (("async_full", {}), ("async_halving", {"min_epochs": 1})):
        clf = EvolutionaryNASClassifier(**asynchronous, **extra).fit(X, y)
        out[label] = _summary(clf, X_test)
    out.update(_warm_and_resumed(X, y, X_test, asynchronous, prefix="async_"))
    return out


def _warm_and_resumed(
    X: np.ndarray, y: np.ndarray, X_test: np.ndarray, settings: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """An in-memory warm start (2 generations, then 3), and searches resumed after a crash.

    The crash comes in generation 1; the search resumes from its checkpoint
    and journal, at full fidelity and with successive halving.
    """
    out: dict[str, Any] = {}
    clf = EvolutionaryNASClassifier(**{**settings, "n_generations": 2}).fit(X, y)
    clf.set_params(n_generations=3, warm_start=True).fit(X, y)
    out[f"{prefix}warm_start"] = _summary(clf, X_test)
    for label, extra in (("resumed_full", {}), ("resumed_halving", {"min_epochs": 1})):
        with tempfile.TemporaryDirectory() as folder:
            clf = EvolutionaryNASClassifier(
                **settings, **extra, checkpoint_dir=folder, callbacks=[_Crash(2)]
            )
            try:
                clf.fit(X, y)
            except RuntimeError as exc:
                assert "simulated crash" in str(exc), exc
            clf.set_params(callbacks=None, warm_start=True).fit(X, y)
            out[f"{prefix}{label}"] = _summary(clf, X_test)
    return out


def _diff(a: Any, b: Any, where: str, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                found.append(f"{where}.{key}: only in {'before' if key in a else 'after'}")
            else:
                _diff(a[key], b[key], f"{where}.{key}", found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{where}[{i}]", found)
    elif json.dumps(a) != json.dumps(b):
        found.append(f"{where}: {json.dumps(a)[:120]} before, {json.dumps(b)[:120]} after")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("path")
    parser.add_argument("--settings", default="{}", help="JSON object of settings for every run")
    parser.add_argument(
        "--only", choices=("all", "toy"), default="all", help="'toy': the toy searches alone"
    )
    args = parser.parse_args(argv)
    EXTRA.update(json.loads(args.settings))
    warnings.simplefilter("ignore")
    runs = golden_toy.run_toys() if args.only == "toy" else {**golden_toy.run_toys(), **run_all()}
    results = json.loads(json.dumps(runs))  # the same JSON round trip for both sides
    if args.mode == "record":
        with open(args.path, "w") as handle:
            json.dump(results, handle, indent=1, sort_keys=True)
        print(f"recorded {len(results)} runs in {args.path}")
        return 0
    with open(args.path) as handle:
        before = json.load(handle)
    found: list[str] = []
    _diff(before, results, "", found)
    for line in found[:50]:
        print(line)
    print(
        f"{len(results)} runs compared: {'identical' if not found else f'{len(found)} differences'}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
