"""The evolution loop: a generational genetic algorithm with elitism and a cache.

This module knows nothing of scikit-learn or torch. It takes a bound
:class:`~skevonas.spaces.space.SearchSpace` and an ``evaluate`` function that scores
a batch of genomes, so it can be tested with a toy fitness in milliseconds.

One generation:

1. Evaluate the genomes of the population that were never evaluated before
   (the cache is keyed by :meth:`~skevonas.Genome.key`: no genome is
   trained twice in a search).
2. Record statistics, call the callbacks, stop if asked.
3. Keep the ``elite_size`` best genomes unchanged (so the best genome found
   so far always survives), and fill the rest with offspring: parents chosen
   by selection, crossed over with probability ``crossover_rate``, mutated
   with probability ``mutation_rate``, and mutated again while they
   duplicate a genome already seen.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..spaces.genome import Genome
from ..spaces.space import SearchSpace
from .callbacks import SearchCallback
from .operators import check_breeding, offspring

__all__ = [
    "EvaluationRecord",
    "SearchState",
    "evolve",
    "first_generation",
    "rank_key",
    "record_generation",
    "seed_genomes",
    "selection_scores",
]

logger = logging.getLogger(__name__)

# evaluate(genomes, generation) -> an iterable with one result mapping per
# genome, each with at least "score" (float; NaN if the candidate failed) and
# optionally "status" ("ok", "failed" or "skipped"), "error" and any other
# information worth recording. Items are either the mappings themselves, in
# the order of ``genomes``, or ``(index, mapping)`` pairs in any order (e.g. as
# parallel workers finish); either way they may be yielded as they come, and
# callbacks hear of each one as it arrives.
EvaluateFn = Callable[
    [Sequence[Genome], int], Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]]
]
CheckpointFn = Callable[["SearchState"], None]


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
    arrivals : list of (int, str, dict)
        An asynchronous search's results in order of arrival (task number,
        genome key, result), which a warm start replays; not in checkpoints
        (the journal holds the same lines); empty for a generational search.

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
    arrivals: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

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


def evolve(
    space: SearchSpace,
    evaluate: EvaluateFn,
    *,
    population_size: int,
    n_generations: int,
    rng: np.random.Generator | None = None,
    elite_size: int = 1,
    selection: str = "tournament",
    tournament_size: int = 3,
    crossover: str = "both",
    crossover_rate: float = 0.5,
    mutation_rate: float = 0.8,
    callbacks: Iterable[SearchCallback] = (),
    initial_population: Sequence[Genome] = (),
    resume: SearchState | None = None,
    checkpoint: CheckpointFn | None = None,
) -> SearchState:
    """Run the genetic algorithm and return its final :class:`SearchState`.

    Parameters
    ----------
    space : SearchSpace
        Bound search space; every genome the loop creates lies in it.
    evaluate : callable
        ``evaluate(genomes, generation)`` yields one result per genome (see
        ``EvaluateFn`` in the source): a mapping with a ``"score"`` (higher is
        better; NaN for a failed candidate), in order or as ``(index,
        mapping)`` pairs.
    population_size, n_generations : int
        Size of every generation and how many generations the search has in
        all (a resumed search counts the generations it already ran).
    rng : numpy.random.Generator
        The only source of randomness of the loop. Not needed to resume: the
        generator saved in ``resume.rng`` goes on where it stopped.
    elite_size : int
        Genomes copied unchanged into the next generation (at least 1, so
        the best genome found so far is never lost).
    selection : {"tournament", "roulette"}
        How parents are chosen.
    tournament_size : int
        Entrants per tournament.
    crossover : {"gene", "layer", "both"}
        Gene-wise, layer-wise, or either with equal probability.
    crossover_rate, mutation_rate : float
        Probability that an offspring is made by crossover (else it copies
        one parent) and that it is then mutated.
    callbacks : iterable of SearchCallback
        Hooks called as the search runs; any may stop it.
    initial_population : sequence of Genome
        Genomes placed in the first generation (repaired into the space);
        the rest is sampled.
    resume : SearchState or None
        The state of an earlier search (in memory, or loaded from a
        checkpoint) after a finished generation, or saved before its first
        one. The search goes on with the next generation: nothing already
        evaluated is evaluated again, and with the same ``evaluate`` the
        result equals that of an uninterrupted search.
    checkpoint : callable or None
        ``checkpoint(state)`` is called when a new search begins and after
        every finished generation (after the callbacks, before the next
        generation is bred); the state it sees is one ``resume`` accepts.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> space = mlp_space().bind((4,))
    >>> def evaluate(genomes, generation):
    ...     return [{"score": sum(l["units"] for l in g.layers) / 2048} for g in genomes]
    >>> state = evolve(space, evaluate, population_size=6, n_generations=5,
    ...                rng=np.random.default_rng(0))
    >>> [round(h["best"], 3) for h in state.history] == sorted(
    ...     round(h["best"], 3) for h in state.history)
    True

    A search stopped after 2 generations and resumed to 5 ends where the
    uninterrupted one did:

    >>> short = evolve(space, evaluate, population_size=6, n_generations=2,
    ...                rng=np.random.default_rng(0))
    >>> resumed = evolve(space, evaluate, population_size=6, n_generations=5, resume=short)
    >>> [r.key for r in resumed.records] == [r.key for r in state.records]
    True
    """
    check_breeding(selection, crossover)
    callbacks = list(callbacks)
    elite_size = max(1, min(elite_size, population_size))

    def breed(state: SearchState, rng: np.random.Generator) -> list[tuple[Genome, tuple[str, ...]]]:
        return _next_generation(
            state,
            space,
            rng,
            population_size,
            elite_size,
            selection,
            tournament_size,
            crossover,
            crossover_rate,
            mutation_rate,
        )

    if resume is None:
        if rng is None:
            raise ValueError("evolve needs rng (a numpy.random.Generator) unless it resumes")
        state = SearchState(space.name, population_size, n_generations, rng=rng)
        if checkpoint is not None:
            checkpoint(state)  # so that a crash in the first generation loses nothing
    else:
        state = _prepare_resume(resume, space, population_size, n_generations)
        rng = state.rng
    assert rng is not None  # checked by _prepare_resume; for type checkers
    pending: list[tuple[Genome, tuple[str, ...]]] = []
    if state.generation < 0:  # a new search, or one saved before its first generation
        pending = first_generation(space, population_size, rng, initial_population)
    elif state.generation + 1 < n_generations:
        pending = breed(state, rng)
    for cb in callbacks:
        cb.on_search_begin(state)

    try:
        for generation in range(state.generation + 1, n_generations):
            state.generation = generation
            gen_start = time.perf_counter()
            n_new, n_hits, n_skipped = _evaluate_pending(
                state, pending, evaluate, generation, callbacks
            )
            state.population = sorted(
                (state.cache[g.key()] for g, _ in pending if g.key() in state.cache),
                key=rank_key,
            )
            record_generation(state, n_new, n_hits, n_skipped, time.perf_counter() - gen_start)
            if not state.population:
                state.stop_reason = "no candidate of the generation could be evaluated"
            for cb in callbacks:
                if cb.on_generation_end(state) and state.stop_reason is None:
                    state.stop_reason = f"stopped by {type(cb).__name__}"
            if checkpoint is not None:
                checkpoint(state)
            if state.stop_reason is not None:
                break
            if generation + 1 < n_generations:
                pending = breed(state, rng)
        if state.stop_reason is None:
            state.stop_reason = f"completed {n_generations} generations"
        if state.history:
            state.history[-1]["stop_reason"] = state.stop_reason
    finally:
        for cb in callbacks:
            cb.on_search_end(state)
    return state


def _prepare_resume(
    state: SearchState, space: SearchSpace, population_size: int, n_generations: int
) -> SearchState:
    """Check that ``state`` can go on in this search and make it ready to."""
    problems = []
    if state.space_name != space.name:
        problems.append(f"search space {state.space_name!r}, not {space.name!r}")
    if state.population_size != population_size:
        problems.append(f"population_size {state.population_size}, not {population_size}")
    if state.rng is None:
        problems.append("no random generator state")
    if state.generation >= 0 and not state.population:
        problems.append("an empty population")
    if problems:
        raise ValueError("cannot resume from this search state: it has " + "; ".join(problems))
    state.n_generations = n_generations
    state.stop_reason = None
    if state.history:
        state.history[-1]["stop_reason"] = None
        state.start_time = time.perf_counter() - float(state.history[-1]["elapsed"])
    return state


def seed_genomes(space: SearchSpace, seeds: Sequence[Genome]) -> list[Genome]:
    """The initial genomes as the first generation holds them: repaired, each key once.

    :func:`evolve` places these in generation 0; the estimator protects
    their keys under successive halving, so both take them from here.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene, mlp_space
    >>> space = mlp_space().bind((4,))
    >>> wide = Genome("mlp", [LayerGene("dense", {"units": 64, "activation": "relu"})])
    >>> len(seed_genomes(space, [wide, wide]))
    1
    """
    held: dict[str, Genome] = {}
    for genome in seeds:
        genome = space.repair(genome)
        held.setdefault(genome.key(), genome)
    return list(held.values())


# --------------------------------------------------------------------------- steps
def first_generation(
    space: SearchSpace,
    size: int,
    rng: np.random.Generator,
    seeds: Sequence[Genome],
) -> list[tuple[Genome, tuple[str, ...]]]:
    """``size`` (genome, no parents) pairs: :func:`seed_genomes`, then samples (may repeat).

    Examples
    --------
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> len(first_generation(mlp_space().bind((4,)), 4, np.random.default_rng(0), []))
    4
    """
    population = {genome.key(): genome for genome in seed_genomes(space, seeds)}
    tries = 0
    while len(population) < size and tries < 50 * size:
        genome = space.sample(rng)
        population.setdefault(genome.key(), genome)
        tries += 1
    genomes = list(population.values())[:size]
    while len(genomes) < size:  # tiny space: repeat members (cache hits)
        genomes.append(genomes[len(genomes) % len(population)])
    return [(g, ()) for g in genomes]


def _evaluate_pending(
    state: SearchState,
    pending: Sequence[tuple[Genome, tuple[str, ...]]],
    evaluate: EvaluateFn,
    generation: int,
    callbacks: Sequence[SearchCallback] = (),
) -> tuple[int, int, int]:
    new: dict[str, tuple[Genome, tuple[str, ...]]] = {}
    hits = 0
    for genome, parents in pending:
        key = genome.key()
        if key in state.cache or key in new:
            hits += 1
        else:
            new[key] = (genome, parents)
    batch = list(new.values())
    items = evaluate([g for g, _ in batch], generation) if batch else ()
    results = _collect(items, batch, state, callbacks)
    first = len(state.records)
    # Records are made in the order of the batch, whatever order the
    # results came in, so indices (and ties) do not depend on the workers.
    for (genome, parents), result in zip(batch, results, strict=True):
        if result.get("status") == "skipped":  # never started: no record, no cache entry
            continue
        info = dict(result)
        score = float(info.pop("score", math.nan))
        status = info.pop("status", "ok" if math.isfinite(score) else "failed")
        state.add(
            EvaluationRecord(genome, score, generation, len(state.records), parents, status, info)
        )
    n_recorded = len(state.records) - first
    return n_recorded, hits, len(batch) - n_recorded


def _collect(
    items: Iterable[Any],
    batch: Sequence[tuple[Genome, tuple[str, ...]]],
    state: SearchState,
    callbacks: Sequence[SearchCallback],
) -> list[Mapping[str, Any]]:
    """Results of ``evaluate`` in the order of ``batch``, from either item form.

    Callbacks hear of each result as it arrives.
    """
    results: list[Mapping[str, Any] | None] = [None] * len(batch)
    count = 0
    for position, item in enumerate(items):
        index, result = (position, item) if isinstance(item, Mapping) else item
        if not 0 <= index < len(batch) or results[index] is not None:
            raise RuntimeError(
                f"evaluate returned a result for position {index!r} twice or "
                f"outside the batch of {len(batch)} genomes"
            )
        results[index] = result
        count += 1
        for cb in callbacks:
            cb.on_evaluation_end(state, batch[index][0], result)
    if count != len(batch):
        raise RuntimeError(f"evaluate returned {count} results for {len(batch)} genomes")
    return results  # type: ignore[return-value]


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


def _next_generation(
    state: SearchState,
    space: SearchSpace,
    rng: np.random.Generator,
    population_size: int,
    elite_size: int,
    selection: str,
    tournament_size: int,
    crossover: str,
    crossover_rate: float,
    mutation_rate: float,
) -> list[tuple[Genome, tuple[str, ...]]]:
    ranked = state.population
    # The best genome found so far always survives, even if a callback or a
    # custom population put it outside the current ranking.
    elites = [r.genome for r in ranked[:elite_size]]
    if state.best is not None and state.best.key not in {g.key() for g in elites}:
        elites[-1] = state.best.genome
    nxt: list[tuple[Genome, tuple[str, ...]]] = [(g, ()) for g in elites]
    taken = {g.key() for g in elites}
    scores = selection_scores(ranked)
    for _ in range(50 * population_size):
        if len(nxt) >= population_size:
            break
        child, parents = offspring(
            [r.genome for r in ranked],
            scores,
            space,
            rng,
            selection=selection,
            tournament_size=tournament_size,
            crossover=crossover,
            crossover_rate=crossover_rate,
            mutation_rate=mutation_rate,
            seen=lambda key: key in state.cache or key in taken,
        )
        if child.key() in taken:
            continue
        taken.add(child.key())
        nxt.append((child, parents))
    while len(nxt) < population_size:  # space exhausted: re-use cached genomes
        nxt.append(nxt[len(nxt) % len(elites)])
    return nxt
