"""The resume policy: which earlier search a fit may continue, and its journal.

:mod:`skevonas.checkpoint` reads and writes the files; this module decides
what they mean for a new ``fit``:

- :func:`search_meta` describes a search: the settings that decide its
  scores, a fingerprint of its data, and (for the record) every setting.
- :func:`resume_point` picks what a fit continues: the checkpoint in
  ``checkpoint_dir`` (with ``warm_start``), else the estimator's last search
  (with ``warm_start``), else nothing, in which case it clears the
  checkpoint files it finds. Whatever it continues must have been made with
  the same data and score-deciding settings, or it raises
  :class:`~skevonas.checkpoint.CheckpointError` naming every difference.
- :class:`Journal` is what the running search writes: each result as it
  arrives, and the state after each generation; on resume it hands back the
  results journaled before a crash so that they are not trained again.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .checkpoint import (
    CheckpointError,
    append_result,
    clear_checkpoint,
    has_checkpoint,
    load_checkpoint,
    load_journal,
    save_checkpoint,
)
from .evolution import SearchState
from .genome import Genome
from .space import SearchSpace

__all__ = ["Journal", "check_compatible", "describe_value", "resume_point", "search_meta"]

logger = logging.getLogger(__name__)


def describe_value(value: Any) -> Any:
    """A JSON value standing for a setting: plain values as they are, objects by type.

    Examples
    --------
    >>> describe_value({"lr": 0.1, "layers": (1, 2)})
    {'layers': [1, 2], 'lr': 0.1}
    >>> describe_value(np.random.RandomState(0))
    'RandomState instance'
    >>> describe_value(len)
    'builtins.builtin_function_or_method'
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [describe_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe_value(v) for k, v in sorted(value.items(), key=str)}
    if isinstance(value, np.random.RandomState):
        return "RandomState instance"
    kind = value if isinstance(value, type) else type(value)
    return f"{kind.__module__}.{getattr(kind, '__qualname__', kind.__name__)}"


def _score_settings(
    params: Mapping[str, Any], space_name: str, initial_genomes: Sequence[Genome]
) -> dict[str, Any]:
    """The settings a resumed search must share with the one it continues (as JSON)."""
    space, scoring, random_state = params["search_space"], params["scoring"], params["random_state"]
    min_epochs = params["min_epochs"]
    return {
        "search_space": space if isinstance(space, str) else repr(space),
        "search_space_bound": space_name,
        "initial_genomes": [g.key() for g in initial_genomes],
        "population_size": int(params["population_size"]),
        "max_epochs": int(params["max_epochs"]),
        "patience": int(params["patience"]),
        "min_epochs": None if min_epochs is None else int(min_epochs),
        "halving_factor": int(params["halving_factor"]),
        "candidate_time_limit": params["candidate_time_limit"],
        "validation_fraction": float(params["validation_fraction"]),
        "scoring": scoring if isinstance(scoring, str) else describe_value(scoring),
        "standardize": bool(params["standardize"]),
        "net_params": {
            k: describe_value(v) for k, v in sorted((params["net_params"] or {}).items())
        },
        "random_state": (
            int(random_state)
            if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
            else describe_value(random_state)
        ),
    }


def _data_fingerprint(
    X: np.ndarray, y: np.ndarray, classes: Sequence[Any] | np.ndarray
) -> dict[str, Any]:
    """What identifies the training data: shape, classes and a hash of the values."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype=np.float32).data)
    digest.update(np.ascontiguousarray(y, dtype=np.int64).data)
    return {
        "shape": [int(n) for n in X.shape],
        "classes": [str(c) for c in classes],
        "sha256": digest.hexdigest(),
    }


def search_meta(
    params: Mapping[str, Any],
    space_name: str,
    initial_genomes: Sequence[Genome],
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[Any] | np.ndarray,
) -> dict[str, Any]:
    """What a checkpoint keeps about the search that wrote it.

    Parameters
    ----------
    params : mapping
        The estimator's ``get_params()``.
    space_name : str
        Name of the bound search space.
    initial_genomes : sequence of Genome
        The genomes that seed the first generation.
    X, y : ndarray
        The data, with labels encoded as ``0 .. n_classes - 1``.
    classes : sequence
        The class labels.

    Returns
    -------
    meta : dict
        ``"settings"`` (what decides the scores), ``"data"`` (shape,
        classes, SHA-256) and ``"params"`` (every setting, for the record).
        The fit adds ``"entropy"``, its root seed.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import EvolutionaryNASClassifier
    >>> X, y = np.zeros((4, 2), dtype=np.float32), np.array([0, 1, 0, 1])
    >>> params = EvolutionaryNASClassifier(random_state=0).get_params()
    >>> meta = search_meta(params, "mlp", [], X, y, ["a", "b"])
    >>> meta["settings"]["random_state"], meta["data"]["shape"], meta["data"]["classes"]
    (0, [4, 2], ['a', 'b'])
    """
    return {
        "settings": _score_settings(params, space_name, initial_genomes),
        "data": _data_fingerprint(X, y, classes),
        "params": {k: describe_value(v) for k, v in sorted(params.items())},
    }


def check_compatible(saved: Mapping[str, Any], now: Mapping[str, Any], source: str) -> None:
    """Raise CheckpointError naming every setting or data property that changed.

    Examples
    --------
    >>> old = {"settings": {"max_epochs": 30}, "data": {"shape": [4, 2], "classes": ["a"]}}
    >>> new = {"settings": {"max_epochs": 10}, "data": {"shape": [4, 2], "classes": ["a"]}}
    >>> check_compatible(old, new, "a test")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.checkpoint.CheckpointError: cannot continue the search from a test: ...
      - max_epochs=30 there, 10 here
    ...
    """
    problems = []
    for name, value in now["settings"].items():
        old = saved.get("settings", {}).get(name, "<missing>")
        if old != value:
            problems.append(f"{name}={old!r} there, {value!r} here")
    old_data = saved.get("data", {})
    for name in ("shape", "classes"):
        if old_data.get(name) != now["data"][name]:
            problems.append(f"data {name} {old_data.get(name)!r} there, {now['data'][name]!r} here")
    if not problems and old_data.get("sha256") != now["data"].get("sha256"):
        problems.append("the data values differ (another X or y of the same shape)")
    if problems:
        raise CheckpointError(
            f"cannot continue the search from {source}: it was made with other settings "
            "or data:\n  - "
            + "\n  - ".join(problems)
            + "\nUse the same data and settings, or warm_start=False to start anew."
        )


class Journal:
    """What a running search writes, and the results journaled before a crash.

    Parameters
    ----------
    folder : path or None
        The checkpoint folder, or None to write nothing.
    meta : dict
        The search's :func:`search_meta` (with ``"entropy"``), saved with
        every checkpoint.
    reused : dict of str to dict, default=None
        Results journaled by an interrupted run of this search, by genome
        key: handed back by :meth:`take` instead of being trained again.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> journal = Journal(None, {}, {g.key(): {"score": 0.5}})
    >>> journal.take(g), journal.take(g), journal.checkpoint is None
    ({'score': 0.5}, None, True)
    """

    def __init__(
        self,
        folder: str | os.PathLike | None,
        meta: dict[str, Any],
        reused: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.folder = folder
        self.meta = meta
        self.reused = dict(reused or {})

    def take(self, genome: Genome) -> dict[str, Any] | None:
        """The journaled result of ``genome`` (once), or None if it must be trained."""
        return self.reused.pop(genome.key(), None)

    def record(self, generation: int, genome: Genome, result: Mapping[str, Any]) -> None:
        """Journal one candidate's result (nothing without a folder)."""
        if self.folder is not None and result.get("status") != "skipped":
            append_result(self.folder, generation, genome, result)

    def save(self, state: SearchState) -> None:
        """Write ``state`` (with the search's meta) as the checkpoint."""
        assert self.folder is not None
        state.meta = self.meta
        save_checkpoint(self.folder, state)

    @property
    def checkpoint(self) -> Callable[[SearchState], None] | None:
        """What :func:`~skevonas.evolution.evolve` calls after each generation, or None."""
        return self.save if self.folder is not None else None


def resume_point(
    meta: dict[str, Any],
    folder: str | os.PathLike | None,
    warm_start: bool,
    last: SearchState | None,
    space: SearchSpace | None = None,
) -> tuple[SearchState | None, Journal]:
    """The state a fit continues (or None) and the journal it writes to.

    Parameters
    ----------
    meta : dict
        This fit's :func:`search_meta`.
    folder : path or None
        The estimator's ``checkpoint_dir``.
    warm_start : bool
        Whether to continue an earlier search.
    last : SearchState or None
        The estimator's last search (``search_state_``), if any.
    space : SearchSpace or None, default=None
        The bound search space of this fit.

    Returns
    -------
    state : SearchState or None
        A copy of the state to continue, or None for a new search.
    journal : Journal
        With the results journaled after ``state`` that can be reused. Its
        ``meta`` is ``meta`` (the caller adds the entropy).

    Raises
    ------
    CheckpointError
        If what would be continued was made with other data or settings.
    """
    on_disk = has_checkpoint(folder)
    if warm_start and on_disk and folder is not None:
        state, journaled = load_checkpoint(folder), load_journal(folder)
        source = f"the checkpoint in {str(folder)!r}"
    else:
        # Whatever is in the folder is not the search that runs now.
        if folder is not None:
            if on_disk:
                logger.info("warm_start=False: clearing the checkpoint in %s", folder)
            clear_checkpoint(folder)
        if not (warm_start and last is not None):
            return None, Journal(folder, meta)
        state, journaled = copy.deepcopy(last), {}
        source = "this estimator's last fit"
    check_compatible(state.meta, meta, source)
    done = {record.key for record in state.records}
    journaled = {key: result for key, result in journaled.items() if key not in done}
    logger.info(
        "warm start from %s: %d generations and %d evaluations done, %d more journaled",
        source,
        state.generation + 1,
        len(state.records),
        len(journaled),
    )
    return state, Journal(folder, meta, journaled)
