"""Asynchronous evolution: aging evolution with asynchronous successive halving.

The generational loop (:func:`~skevonas.evolution.generational.evolve`) waits at the end
of every generation for its slowest candidate, and successive halving waits
at every rung. With many workers (GPU slots, a Dask cluster) most of them
then sit idle. :func:`evolve_async` has no such barrier: ``runner.capacity``
candidates are in flight at all times, and the moment one comes back the
next task is chosen from what has arrived so far:

1. **A promotion** (multi-fidelity only; asynchronous successive halving,
   Li et al., MLSys 2020): a candidate that trained a rung to its budget
   and is among the best ``1 / factor`` of the last ``population_size``
   candidates that trained that rung goes on to the next budget, from its
   snapshot, higher rungs first. (ASHA compares with every candidate since
   the start, ``rung_window="all"``; in an evolving population the peers
   that matter are the current ones, as a generation's successive halving
   compares a generation's candidates.) Protected genomes (the seeds) go
   on whatever their scores.
2. **Otherwise a new candidate**: first the initial population (seeds, then
   random genomes, as the generational loop's first generation); then,
   once results have arrived, a child bred as the generational loop breeds
   (:func:`~skevonas.evolution.operators.offspring`) from parents chosen by
   tournament among the last ``population_size`` candidates to arrive
   (aging, or regularized, evolution: Real et al., AAAI 2019) and the
   ``elite_size`` best ones of the whole search, so the best genome found
   never leaves the breeding pool. No genome is trained twice.

The search starts ``population_size + (n_generations - 1) *
(population_size - elite_size)`` candidates in all, as many as the
generational loop trains at most (its elites are not trained again), and
ends when nothing is in flight. ``history`` gets a row when
``population_size`` candidates have arrived, then one per
``population_size - elite_size`` more (a generation's worth, as the
generational loop's rows count them), the last one when the search ends;
callbacks may stop the search at each row, and candidates in flight then
finish and are recorded.

**Reproducibility.** Every decision depends only on the random generator
and on the order in which results arrived; the runner journals that order.
Given the arrivals of an interrupted search, a
:class:`~skevonas.evolution.runner.Replay` runner hands them back in that
order, so this loop makes the same decisions again: tasks answered by the
journal are not run, the ones that were in flight when the search died are
run again, and with the same arrival order the result equals that of an
uninterrupted run (``state.arrivals`` keeps the order for an in-memory warm
start). Across ``n_jobs`` (``capacity``) the arrival order differs, and so
do the genomes bred; with one worker it is the order of submission.

This module knows nothing of scikit-learn or torch, like
:mod:`skevonas.evolution.generational`; the search's pipeline
(:class:`skevonas.search.pipeline.CandidatePipeline`) is the runner of a real
search, and tests use toy ones.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..spaces.genome import Genome
from ..spaces.space import SearchSpace
from .callbacks import SearchCallback
from .fidelity import Fidelity
from .ga import GASettings
from .generational import first_generation
from .operators import offspring
from .records import EvaluationRecord, SearchState, rank_key, record_generation, selection_scores
from .runner import Arrival, Runner, Ticket

__all__ = ["evolve_async"]

logger = logging.getLogger(__name__)


@dataclass
class _Row:
    """What the history row being written counts."""

    new: int = 0  # candidates with a first result
    hits: int = 0  # bred children that were met before
    skipped: int = 0  # new candidates the time ran out for
    start: float = field(default_factory=time.perf_counter)


@dataclass
class _Candidate:
    genome: Genome
    parents: tuple[str, ...]
    index: int | None = None  # its record's index once a result has arrived
    waiting: dict[int, bytes | None] = field(default_factory=dict)  # rung -> snapshot


def evolve_async(
    space: SearchSpace,
    runner: Runner,
    ga: GASettings,
    *,
    rng: np.random.Generator,
    fidelity: Fidelity | None = None,
    rung_window: int | str | None = None,
    callbacks: Iterable[SearchCallback] = (),
    initial_population: Sequence[Genome] = (),
    checkpoint: Callable[[SearchState], None] | None = None,
    elapsed: float = 0.0,
) -> SearchState:
    """Run the asynchronous search; return its final :class:`~.records.SearchState`.

    Parameters
    ----------
    space : SearchSpace
        Bound search space; every genome the loop creates lies in it.
    runner : Runner
        Runs the tickets (``runner.capacity`` at once); a
        :class:`~skevonas.evolution.runner.Replay` runner gives an
        interrupted run's arrivals back first.
    ga : GASettings
        ``population_size`` (the aging population), ``n_generations`` (how
        many generations' worth of new candidates the search starts, see
        above), ``n_elites`` (the best candidates of the whole search that
        stay in the breeding pool) and the breeding settings, as in
        :func:`~skevonas.evolution.generational.evolve`.
    rng : numpy.random.Generator
        The only source of randomness of the loop (a resumed search passes
        a generator in the state it was at the start of the search).
    fidelity : Fidelity or None, default=None
        The rungs of successive halving (``budgets``; a waiting candidate
        goes on when it is among the best ``1 / factor`` of its rung's
        window; it is judged again at every decision while it is in the
        window, so more than one in ``factor`` may go on, see
        ``docs/design.md``) and the ``protected`` genome keys, which go on
        to the full budget whatever their scores; None for full fidelity.
    rung_window : int, "all" or None, default=None
        How many of a rung's latest (unprotected) results a promotion is
        judged against: None for ``population_size``, an int for that many,
        ``"all"`` for every result since the start (ASHA as published).
    callbacks : iterable of SearchCallback
        Hooks: each arrival (``on_evaluation_end``), each history row
        (``on_generation_end``, which may stop the search).
    initial_population : sequence of Genome
        Genomes started first (repaired into the space); the rest of the
        first ``population_size`` is sampled.
    checkpoint : callable or None, default=None
        ``checkpoint(state)`` after every history row.
    elapsed : float, default=0.0
        Seconds an interrupted run of this search had taken (a resumed
        search's ``elapsed`` counts them).

    Returns
    -------
    state : SearchState
        Records (one per candidate: its last result), history, best, the
        arrivals in order (``state.arrivals``) and why it stopped.

    Raises
    ------
    ReplayError
        From a :class:`~skevonas.evolution.runner.Replay` runner whose
        arrivals do not match the tickets this search makes (another seed,
        other settings).

    Examples
    --------
    A runner that finishes tickets in order of submission, scoring a
    genome by its first layer's width:

    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> class InOrder:
    ...     capacity = 2
    ...     def __init__(self):
    ...         self.queue = []
    ...     def submit(self, ticket, snapshot):
    ...         self.queue.append(ticket)
    ...     def next_result(self):
    ...         ticket = self.queue.pop(0)
    ...         return ticket.number, {"score": ticket.genome.layers[0]["units"] / 2048}
    >>> state = evolve_async(mlp_space().bind((4,)), InOrder(),
    ...                      GASettings(population_size=4, n_generations=3),
    ...                      rng=np.random.default_rng(0))
    >>> len(state.records), [h["n_evaluated"] for h in state.history], state.stop_reason
    (8, [4, 2, 2], 'completed 3 generations')
    """
    size = ga.population_size
    if rung_window is None:
        window: int | None = size
    elif rung_window == "all":
        window = None
    elif isinstance(rung_window, int) and not isinstance(rung_window, bool) and rung_window >= 1:
        window = rung_window
    else:
        raise ValueError(f"rung_window must be a positive int, 'all' or None, got {rung_window!r}")
    loop = _AsyncLoop(space, runner, ga, rng, fidelity or Fidelity(), list(callbacks), window)
    loop.state.start_time -= elapsed
    return loop.run(initial_population, checkpoint)


class _AsyncLoop:
    """The state and decisions of one asynchronous search (see :func:`evolve_async`)."""

    def __init__(
        self,
        space: SearchSpace,
        runner: Runner,
        ga: GASettings,
        rng: np.random.Generator,
        fidelity: Fidelity,
        callbacks: list[SearchCallback],
        window: int | None,
    ) -> None:
        self.space, self.runner, self.rng = space, runner, rng
        self.size, self.elite_size, self.breeding = ga.population_size, ga.n_elites, ga.breeding
        budgets = list(fidelity.budgets or ())
        self.budgets, self.factor, self.protected = budgets, fidelity.factor, fidelity.protected
        self.callbacks = callbacks
        # as many new candidates as a generational search trains at most
        self.limit = ga.n_candidates
        self.n_generations = ga.n_generations
        self.state = SearchState(space.name, ga.population_size, ga.n_generations, rng=rng)
        self.stopped = False  # by a callback: no new task at all
        self.candidates: dict[str, _Candidate] = {}
        self.initial: deque[Genome] = deque()
        self.started = 0  # new candidates started
        self.in_flight: dict[int, Ticket] = {}
        self.tickets = 0
        self.aging: deque[int] = deque(maxlen=ga.population_size)  # record indices
        # per rung: the last `window` unprotected results (-score, index, key),
        # and the candidates waiting there (insertion-ordered)
        self.rung_window: list[deque[tuple[float, int, str]]] = [
            deque(maxlen=window) for _ in budgets
        ]
        self.waiting: list[dict[str, None]] = [{} for _ in budgets]
        self.elites: list[EvaluationRecord] = []  # the best records, best first
        self.open_new = True  # whether new candidates may still start
        self.row = _Row()

    # ------------------------------------------------------------------ the loop
    def run(
        self,
        initial_population: Sequence[Genome],
        checkpoint: Callable[[SearchState], None] | None,
    ) -> SearchState:
        state = self.state
        # the generational loop's first generation, each genome once
        first = first_generation(
            self.space, self.size, self.rng, initial_population, self.breeding["local_rate"]
        )
        self.initial.extend({genome.key(): genome for genome, _ in first}.values())
        if checkpoint is not None:
            checkpoint(state)  # so that a crash before the first row loses nothing
        for cb in self.callbacks:
            cb.on_search_begin(state)
        state.generation = 0  # the row being counted, as a generation is
        try:
            self._fill()
            while self.in_flight:
                number, result = self.runner.next_result()
                ticket = self.in_flight.pop(int(number))
                state.arrivals.append(
                    Arrival(ticket.genome.key(), ticket.budget, _without_snapshot(result))
                )
                self._arrive(ticket, result)
                if self._row_due() and self._end_row(checkpoint):
                    self.stopped = True
                self._fill()
            if not state.history or self.row.new or self.row.skipped:
                self._end_row(checkpoint, last=True)
            if state.stop_reason is None:
                state.stop_reason = (
                    f"completed {self.n_generations} generations"
                    if self.started >= self.limit
                    else "no new candidate could be started"
                )
            if state.history:
                state.history[-1]["stop_reason"] = state.stop_reason
        finally:
            for cb in self.callbacks:
                cb.on_search_end(state)
        return state

    def _fill(self) -> None:
        """Give every free worker a task, if there is one to give."""
        while len(self.in_flight) < max(1, self.runner.capacity):
            made = self._next_ticket()
            if made is None:
                return
            ticket, snapshot = made
            self.in_flight[ticket.number] = ticket
            self.runner.submit(ticket, snapshot)

    # ------------------------------------------------------------------ decisions
    def _next_ticket(self) -> tuple[Ticket, bytes | None] | None:
        if self.stopped:
            return None
        promotion = self._promotion()
        if promotion is not None:
            key, rung = promotion
            candidate = self.candidates[key]
            snapshot = candidate.waiting.pop(rung)
            del self.waiting[rung][key]
            return self._ticket(candidate.genome, rung + 1, candidate.parents), snapshot
        if not self.open_new or self.started >= self.limit:
            return None
        made = self._new_genome()
        if made is None:
            self.open_new = False
            return None
        genome, parents = made
        self.candidates[genome.key()] = _Candidate(genome, parents)
        self.started += 1
        return self._ticket(genome, 0, parents), None

    def _ticket(self, genome: Genome, rung: int, parents: tuple[str, ...]) -> Ticket:
        budget = self.budgets[rung] if self.budgets else None
        ticket = Ticket(self.tickets, genome, rung, budget, parents, self.state.generation)
        self.tickets += 1
        return ticket

    def _promotion(self) -> tuple[str, int] | None:
        """The candidate that goes on now (key, rung it goes on from), or None.

        Protected candidates first; then, from the highest rung down, the
        best waiting candidate among the top ``floor(n / factor)`` of the
        ``n`` (at most the window) unprotected candidates that trained that
        rung last.
        """
        if len(self.budgets) < 2:
            return None
        for rung in range(len(self.budgets) - 2, -1, -1):
            for key in self.waiting[rung]:
                if key in self.protected:
                    return key, rung
        for rung in range(len(self.budgets) - 2, -1, -1):
            window = sorted(self.rung_window[rung])
            for _, _, key in window[: len(window) // self.factor]:
                if key in self.waiting[rung]:
                    return key, rung
        return None

    def _new_genome(self) -> tuple[Genome, tuple[str, ...]] | None:
        if self.initial:
            return self.initial.popleft(), ()
        seen = self._seen
        pool = self._pool()
        genomes, scores = [r.genome for r in pool], selection_scores(pool)
        for _ in range(50):
            if pool:
                child, parents = offspring(
                    genomes, scores, self.space, self.rng, **self.breeding, seen=seen
                )
            else:  # no result yet (more workers than the initial population)
                child, parents = self.space.sample(self.rng), ()
            if not seen(child.key()):
                return child, parents
            self.row.hits += 1
        return None  # the space is exhausted

    def _seen(self, key: str) -> bool:
        return key in self.candidates

    def _pool(self) -> list[EvaluationRecord]:
        """The breeding pool: the last arrivals and the best of the search, best first."""
        records = self.state.records
        usable = [i for i in self.aging if records[i].ok or records[i].partial]
        chosen = dict.fromkeys([*usable, *(r.index for r in self.elites)])
        return sorted((records[i] for i in chosen), key=rank_key)

    def _keep_elite(self, record: EvaluationRecord) -> None:
        if not (record.ok or record.partial):
            return
        kept = [r for r in self.elites if r.index != record.index]
        self.elites = sorted([*kept, record], key=rank_key)[: self.elite_size]

    # ------------------------------------------------------------------ arrivals
    def _arrive(self, ticket: Ticket, result: Mapping[str, Any]) -> None:
        state = self.state
        key = ticket.genome.key()
        candidate = self.candidates[key]
        info = dict(result)
        snapshot = info.pop("snapshot", None)
        status = info.pop("status", "ok")
        # a skipped task never trained: its score is not read
        score = math.nan if status == "skipped" else float(info.pop("score", math.nan))
        partial = False  # trained a rung below the last to its budget: it may go on
        if self.budgets and status != "skipped":
            info.update(rung=ticket.rung, budget=ticket.budget)
            last = ticket.rung == len(self.budgets) - 1
            stopped = info.get("stopped_by") == "budget"
            partial = status == "ok" and math.isfinite(score) and not last and stopped
        # callbacks see what the generational loop shows them: rung, budget, "partial"
        shown = {**result, **info, "status": "partial" if partial else status}
        for cb in self.callbacks:
            cb.on_evaluation_end(state, ticket.genome, _without_snapshot(shown))
        if status == "skipped":  # the time ran out before it started
            self.open_new = False
            if candidate.index is None:
                self.row.skipped += 1
            return
        if not math.isfinite(score) and status == "ok":
            status = "failed"
        index = len(state.records) if candidate.index is None else candidate.index
        if partial:
            status = "partial"
            candidate.waiting[ticket.rung] = snapshot
            self.waiting[ticket.rung][key] = None
            if key not in self.protected:
                self.rung_window[ticket.rung].append((-score, index, key))
        first = candidate.index is None
        # a later rung's result keeps the generation of the candidate's first
        generation = state.generation if first else state.records[index].generation
        record = EvaluationRecord(
            ticket.genome, score, generation, index, candidate.parents, status, info
        )
        if first:
            candidate.index = index
            self.row.new += 1
            self.aging.append(index)
            state.add(record)
        else:
            state.update(record)
        self._keep_elite(record)

    def _row_due(self) -> bool:
        # rows as a generational search's: the first population, then its offspring
        size = self.size if not self.state.history else self.size - self.elite_size
        return self.row.new >= max(1, size) and len(self.state.history) < self.n_generations - 1

    def _end_row(
        self, checkpoint: Callable[[SearchState], None] | None, last: bool = False
    ) -> bool:
        """Write a history row; True if a callback stops the search."""
        state = self.state
        state.population = self._pool()[: self.size]  # best first: the elites stay
        record_generation(
            state,
            self.row.new,
            self.row.hits,
            self.row.skipped,
            time.perf_counter() - self.row.start,
        )
        stop = False
        for cb in self.callbacks:
            if cb.on_generation_end(state) and state.stop_reason is None:
                state.stop_reason = f"stopped by {type(cb).__name__}"
                stop = True
        if checkpoint is not None:
            checkpoint(state)
        self.row = _Row()
        if not last:
            state.generation += 1
        return stop


def _without_snapshot(result: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "snapshot"}
