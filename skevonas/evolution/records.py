"""What a search knows: its records, its state, and how records rank.

Both loops (:mod:`skevonas.evolution.generational` and
:mod:`skevonas.evolution.asynchronous`) keep one :class:`EvaluationRecord`
per trained candidate in a :class:`SearchState`, rank records with
:func:`rank_key`, show selection what it may compare
(:func:`selection_scores`) and write one history row per generation
(:func:`record_generation`). Callbacks read the state; checkpoints save it
(:mod:`skevonas.store.checkpoint`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..spaces.genome import Genome
from .runner import Arrival

__all__ = [
    "EvaluationRecord",
    "SearchState",
    "rank_key",
    "record_generation",
    "selection_scores",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationRecord:
    """One trained candidate: its genome, score and what training reported.

    Parameters
    ----------
    genome : Genome
        The candidate.
    score : float
        Its score, higher is better; NaN if it failed.
    generation : int
        The generation that evaluated it.
    index : int
        Its position among the records of the search (0, 1, 2...); among equal
        scores the lower index ranks first.
    parents : tuple of str, default=()
        Short keys of its parents.
    status : {"ok", "failed", "partial"}, default="ok"
        Whether its evaluation succeeded; ``"partial"`` marks a candidate of a
        multi-fidelity search (:mod:`skevonas.evolution.fidelity`) stopped at a lower
        budget: its score is that budget's, and it never becomes the best.
    info : mapping, default={}
        What the evaluation reported besides the score (epochs, fit time,
        learning curves, the ``error`` of a failed candidate...).

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
    >>> record = EvaluationRecord(g, 0.9, generation=0, index=3, info={"epochs": 12})
    >>> record.ok, record.key == g.key()
    (True, True)
    >>> EvaluationRecord(g, float("nan"), 0, 4, status="failed").ok
    False
    """

    genome: Genome
    score: float
    generation: int
    index: int
    parents: tuple[str, ...] = ()
    status: str = "ok"
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The genome's canonical key (:meth:`~skevonas.Genome.key`)."""
        return self.genome.key()

    @property
    def ok(self) -> bool:
        """Whether the evaluation succeeded with a finite, full-budget score."""
        return self.status == "ok" and math.isfinite(self.score)

    @property
    def partial(self) -> bool:
        """Whether a multi-fidelity search stopped it at a lower budget, with a finite score."""
        return self.status == "partial" and math.isfinite(self.score)

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-friendly row (for a pandas DataFrame or a CSV file).

        The entries of ``info`` become columns of their own; ``key`` is the
        genome's short key and ``genome`` its :meth:`~skevonas.Genome.to_dict` form.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
        >>> row = EvaluationRecord(g, 0.9, generation=0, index=3, info={"epochs": 12}).to_dict()
        >>> row["architecture"], row["score"], row["epochs"]
        ('mlp: dense(units=8) -> output | lr=0.01', 0.9, 12)
        """
        return {
            "index": self.index,
            "generation": self.generation,
            "key": self.genome.short_key(),
            "architecture": str(self.genome),
            "score": self.score,
            "status": self.status,
            "parents": list(self.parents),
            **dict(self.info),
            "genome": self.genome.to_dict(),
        }


@dataclass
class SearchState:
    """Everything the loop knows; callbacks read it and the caller gets it back.

    Parameters
    ----------
    space_name : str
        Name of the search space.
    population_size, n_generations : int
        Genomes per generation, and generations in all.
    generation : int, default=-1
        The last generation evaluated (-1 before the first).
    population : list of EvaluationRecord
        The records of the current generation, best first.
    records : list of EvaluationRecord
        Every evaluation of the search, in order.
    cache : dict of str to EvaluationRecord
        Records by genome key: a genome met again is not evaluated again.
    history : list of dict
        One row per generation (the estimator's ``history_``).
    best : EvaluationRecord or None
        The best successful record so far.
    start_time : float
        :func:`time.perf_counter` when the search began; :attr:`elapsed`
        counts from it.
    stop_reason : str or None
        Why the search ended, once it has.
    rng : numpy.random.Generator or None
        The genetic algorithm's random generator; checkpoints save its state.
    meta : dict
        Whatever the caller keeps with the search (settings and data
        fingerprints, seeds); saved and restored with checkpoints.
    arrivals : list of Arrival
        An asynchronous search's results in order of arrival (genome key,
        budget, result: :class:`~skevonas.evolution.runner.Arrival`), which
        a warm start replays; not in checkpoints (the journal holds the same
        lines); empty for a generational search.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> state = SearchState("mlp", population_size=4, n_generations=3)
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> state.add(EvaluationRecord(g, 0.8, generation=0, index=0))
    >>> state.best.score, len(state.records), g.key() in state.cache
    (0.8, 1, True)
    """

    space_name: str
    population_size: int
    n_generations: int
    generation: int = -1
    population: list[EvaluationRecord] = field(default_factory=list)
    records: list[EvaluationRecord] = field(default_factory=list)
    cache: dict[str, EvaluationRecord] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    best: EvaluationRecord | None = None
    start_time: float = field(default_factory=time.perf_counter)
    stop_reason: str | None = None
    rng: np.random.Generator | None = None
    # Whatever the caller keeps with the search (settings and data
    # fingerprints, seeds); saved and restored with checkpoints.
    meta: dict[str, Any] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        """Seconds since the search began (a resumed search counts its earlier runs)."""
        return time.perf_counter() - self.start_time

    def add(self, record: EvaluationRecord) -> None:
        """Store a finished evaluation: records, cache and best so far.

        Among equal scores the earlier record stays the best; a failed record
        never becomes the best.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> state = SearchState("mlp", population_size=4, n_generations=3)
        >>> a, b, c = (Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (8, 16, 32))
        >>> state.add(EvaluationRecord(a, 0.8, generation=0, index=0))
        >>> state.add(EvaluationRecord(b, 0.8, generation=0, index=1))
        >>> state.add(EvaluationRecord(c, float("nan"), 0, 2, status="failed"))
        >>> state.best.index
        0
        """
        self.records.append(record)
        self._keep(record)

    def update(self, record: EvaluationRecord) -> None:
        """Put ``record`` in place of the record with its index (a later rung's result).

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> state = SearchState("mlp", population_size=4, n_generations=3)
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> state.add(EvaluationRecord(g, 0.6, 0, 0, status="partial", info={"rung": 0}))
        >>> state.update(EvaluationRecord(g, 0.8, 0, 0, info={"rung": 1}))
        >>> state.best.score, len(state.records), state.cache[g.key()].status
        (0.8, 1, 'ok')
        """
        self.records[record.index] = record
        self._keep(record)

    def _keep(self, record: EvaluationRecord) -> None:
        # the cache entry and the best so far (among equals the earlier stays)
        self.cache[record.key] = record
        if record.ok and (self.best is None or rank_key(record) < rank_key(self.best)):
            self.best = record

    def best_partial(self) -> EvaluationRecord | None:
        """The best partial record (highest budget, then score), or None.

        A multi-fidelity search that ran out of time before any candidate
        trained for its full budget falls back on it.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> state = SearchState("mlp", population_size=4, n_generations=3)
        >>> a, b = (Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (8, 16))
        >>> state.add(EvaluationRecord(a, 0.9, 0, 0, status="partial", info={"rung": 0}))
        >>> state.add(EvaluationRecord(b, 0.7, 0, 1, status="partial", info={"rung": 1}))
        >>> state.best is None, state.best_partial().index
        (True, 1)
        """
        partial = [r for r in self.records if r.partial]
        return min(partial, key=rank_key) if partial else None


def rank_key(record: EvaluationRecord) -> tuple[int, float, float, int]:
    """Sort key of records, best first.

    Full-budget scores first, higher first; then partial ones (higher rung,
    then higher score); failed last. Among equals the earlier evaluation
    wins, so ties are broken the same way whatever order workers finished in.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> records = [EvaluationRecord(g, 0.7, 0, 0, status="partial", info={"rung": 1}),
    ...            EvaluationRecord(g, 0.6, 0, 1), EvaluationRecord(g, 0.6, 0, 2)]
    >>> [r.index for r in sorted(records, key=rank_key)]
    [1, 2, 0]
    """
    if record.ok:
        return (0, 0.0, -record.score, record.index)
    if record.partial:
        return (1, -float(record.info.get("rung", 0)), -record.score, record.index)
    return (2, 0.0, 0.0, record.index)


def selection_scores(ranked: Sequence[EvaluationRecord]) -> list[float]:
    """What selection sees of a population ranked by :func:`rank_key`.

    Scores, NaN for failed candidates. When partial records are among them
    (a multi-fidelity search), scores at different budgets do not compare,
    so every candidate gets its rank instead (the best the highest).

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> selection_scores([EvaluationRecord(g, 0.9, 0, 0), EvaluationRecord(g, 0.5, 0, 1)])
    [0.9, 0.5]
    >>> selection_scores([EvaluationRecord(g, 0.9, 0, 0),
    ...                   EvaluationRecord(g, 0.5, 0, 1, status="partial")])
    [2.0, 1.0]
    """
    if not any(r.partial for r in ranked):
        return [r.score if r.ok else math.nan for r in ranked]
    n = len(ranked)
    return [float(n - i) if r.ok or r.partial else math.nan for i, r in enumerate(ranked)]


def record_generation(
    state: SearchState, n_new: int, n_hits: int, n_skipped: int, seconds: float
) -> None:
    """Append the history row of ``state.generation`` (its ``population`` ranked).

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> state = SearchState("mlp", population_size=2, n_generations=1, generation=0)
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> state.add(EvaluationRecord(g, 0.8, generation=0, index=0))
    >>> state.population = list(state.records)
    >>> record_generation(state, n_new=1, n_hits=0, n_skipped=0, seconds=1.5)
    >>> state.history[0]["best"], state.history[0]["n_evaluated"]
    (0.8, 1)
    """
    scores = np.array([r.score for r in state.population if r.ok], dtype=float)
    current = [r for r in state.records if r.generation == state.generation]
    failed = sum(1 for r in current if r.status == "failed")
    partial = sum(1 for r in current if r.status == "partial")
    stats = (
        {"best": scores.max(), "mean": scores.mean(), "std": scores.std(), "min": scores.min()}
        if scores.size
        else dict.fromkeys(("best", "mean", "std", "min"), math.nan)
    )
    state.history.append(
        {
            "generation": state.generation,
            **{k: float(v) for k, v in stats.items()},
            "best_so_far": state.best.score if state.best is not None else math.nan,
            "n_evaluated": n_new,
            "cache_hits": n_hits,
            "n_failed": failed,
            "n_partial": partial,
            "n_skipped": n_skipped,
            "seconds": seconds,
            "elapsed": state.elapsed,
            "stop_reason": None,  # set on the last generation's row
        }
    )
    logger.info("generation %d: %s", state.generation, state.history[-1])
