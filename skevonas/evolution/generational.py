"""The generational loop: a genetic algorithm with elitism and a cache, a generation at a time.

This module knows nothing of scikit-learn or torch. It takes a bound
:class:`~skevonas.spaces.space.SearchSpace` and a
:class:`~skevonas.evolution.runner.Runner` that trains tickets (the search's
pipeline, or a toy fitness in a :class:`~skevonas.evolution.runner.SerialRunner`,
tested in milliseconds).

One generation:

1. Train the genomes of the population that were never trained before
   (the cache is keyed by :meth:`~skevonas.Genome.key`: no genome is
   trained twice in a search): every ticket is submitted, then the loop
   waits for all of them (:func:`~skevonas.evolution.runner.run_batch`, the
   barrier); with successive halving (:class:`~skevonas.evolution.fidelity.Fidelity`)
   one rung at a time (:func:`~skevonas.evolution.fidelity.successive_halving`).
2. Record statistics, call the callbacks, stop if asked.
3. Keep the ``n_elites`` best genomes unchanged (so the best genome found
   so far always survives), and fill the rest with offspring: parents chosen
   by selection, crossed over with probability ``crossover_rate``, mutated
   with probability ``mutation_rate``, and mutated again while they
   duplicate a genome already seen.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..spaces.genome import Genome
from ..spaces.space import SearchSpace
from .callbacks import SearchCallback
from .fidelity import Fidelity, RungTask, successive_halving
from .ga import GASettings
from .operators import nudge, offspring
from .records import EvaluationRecord, SearchState, rank_key, record_generation, selection_scores
from .runner import Runner, Ticket, run_batch

__all__ = ["evolve", "first_generation", "seed_genomes", "train_generation"]

CheckpointFn = Callable[[SearchState], None]
Pending = Sequence[tuple[Genome, tuple[str, ...]]]


def evolve(
    space: SearchSpace,
    runner: Runner,
    ga: GASettings,
    *,
    rng: np.random.Generator | None = None,
    fidelity: Fidelity | None = None,
    callbacks: Iterable[SearchCallback] = (),
    initial_population: Sequence[Genome] = (),
    resume: SearchState | None = None,
    checkpoint: CheckpointFn | None = None,
) -> SearchState:
    """Run the genetic algorithm, a generation at a time, and return its final state.

    Parameters
    ----------
    space : SearchSpace
        Bound search space; every genome the loop creates lies in it.
    runner : Runner
        Trains the loop's tickets (:class:`~skevonas.evolution.runner.Runner`).
    ga : GASettings
        Population size, generations (a resumed search counts the ones it
        already ran), elites and breeding.
    rng : numpy.random.Generator
        The only source of randomness of the loop. Not needed to resume: the
        generator saved in ``resume.rng`` goes on where it stopped.
    fidelity : Fidelity or None, default=None
        Successive halving over epochs within each generation, or None (every
        candidate at full budget).
    callbacks : iterable of SearchCallback
        Hooks called as the search runs; any may stop it. They hear each
        candidate's final result as it arrives.
    initial_population : sequence of Genome
        Genomes placed in the first generation (repaired into the space);
        the rest is sampled.
    resume : SearchState or None
        The state of an earlier search (in memory, or loaded from a
        checkpoint) after a finished generation, or saved before its first
        one. The search goes on with the next generation: nothing already
        trained is trained again, and with the same runner the result
        equals that of an uninterrupted search.
    checkpoint : callable or None
        ``checkpoint(state)`` is called when a new search begins and after
        every finished generation (after the callbacks, before the next
        generation is bred); the state it sees is one ``resume`` accepts.

    Returns
    -------
    state : SearchState

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.evolution.runner import SerialRunner
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> space = mlp_space().bind((4,))
    >>> def width(ticket, snapshot):  # a toy fitness: wider networks are fitter
    ...     return {"score": sum(layer["units"] for layer in ticket.genome.layers) / 2048}
    >>> ga = GASettings(population_size=6, n_generations=5)
    >>> state = evolve(space, SerialRunner(width), ga, rng=np.random.default_rng(0))
    >>> [round(h["best"], 3) for h in state.history] == sorted(
    ...     round(h["best"], 3) for h in state.history)
    True

    A search stopped after 2 generations and resumed to 5 ends where the
    uninterrupted one did:

    >>> short = evolve(space, SerialRunner(width), GASettings(population_size=6, n_generations=2),
    ...                rng=np.random.default_rng(0))
    >>> resumed = evolve(space, SerialRunner(width), ga, resume=short)
    >>> [r.key for r in resumed.records] == [r.key for r in state.records]
    True
    """
    callbacks = list(callbacks)
    if resume is None:
        if rng is None:
            raise ValueError("evolve needs rng (a numpy.random.Generator) unless it resumes")
        state = SearchState(space.name, ga.population_size, ga.n_generations, rng=rng)
        if checkpoint is not None:
            checkpoint(state)  # so that a crash in the first generation loses nothing
    else:
        state = _prepare_resume(resume, space, ga.population_size, ga.n_generations)
        rng = state.rng
    assert rng is not None  # checked by _prepare_resume; for type checkers
    pending: Pending = []
    if state.generation < 0:  # a new search, or one saved before its first generation
        pending = first_generation(
            space, ga.population_size, rng, initial_population, ga.local_rate
        )
    elif state.generation + 1 < ga.n_generations:
        pending = _next_generation(state, space, rng, ga)
    for cb in callbacks:
        cb.on_search_begin(state)
    train = functools.partial(train_generation, runner, fidelity or Fidelity())
    try:
        for generation in range(state.generation + 1, ga.n_generations):
            state.generation = generation
            gen_start = time.perf_counter()
            n_new, n_hits, n_skipped = _evaluate_pending(state, pending, train, callbacks)
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
            if generation + 1 < ga.n_generations:
                pending = _next_generation(state, space, rng, ga)
        if state.stop_reason is None:
            state.stop_reason = f"completed {ga.n_generations} generations"
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
    local_rate: float = 0.0,
) -> list[tuple[Genome, tuple[str, ...]]]:
    """``size`` (genome, no parents) pairs: :func:`seed_genomes`, then the rest (may repeat).

    Each of the rest is, with probability ``local_rate``, a small step
    (:func:`~skevonas.evolution.operators.nudge`) from a seed genome (the
    seeds in turn), else a random sample of the space. Without seeds, or
    with ``local_rate=0``, every one is a sample and no draw is spent on the
    choice.

    Examples
    --------
    >>> from skevonas.spaces.catalogue import mlp_space, standard_mlp_genome
    >>> space = mlp_space().bind((4,))
    >>> len(first_generation(space, 4, np.random.default_rng(0), []))
    4
    >>> first = first_generation(space, 4, np.random.default_rng(0), [standard_mlp_genome()], 1.0)
    >>> [len(genome.layers) for genome, _ in first]  # the seed and three of its neighbours
    [2, 2, 2, 2]
    """
    seeded = seed_genomes(space, seeds)
    population = {genome.key(): genome for genome in seeded}
    tries = 0
    while len(population) < size and tries < 50 * size:
        if local_rate > 0 and seeded and rng.random() < local_rate:
            genome = nudge(seeded[tries % len(seeded)], space, rng)
        else:
            genome = space.sample(rng)
        population.setdefault(genome.key(), genome)
        tries += 1
    genomes = list(population.values())[:size]
    while len(genomes) < size:  # tiny space: repeat members (cache hits)
        genomes.append(genomes[len(genomes) % len(population)])
    return [(g, ()) for g in genomes]


def train_generation(
    runner: Runner, fidelity: Fidelity, batch: Pending, generation: int
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Train a generation's new genomes on ``runner``; yield ``(index, final result)``.

    Without fidelity (``fidelity.budgets`` None) one barrier of full-budget
    tickets; with it, successive halving
    (:func:`~skevonas.evolution.fidelity.successive_halving`), one barrier
    per rung, each candidate going on from its snapshot, the protected
    genomes going on whatever their early scores. Tickets are numbered from
    0 within the generation, rungs included.

    Parameters
    ----------
    runner : Runner
        Trains the tickets.
    fidelity : Fidelity
        The rungs, the halving factor and the protected genome keys.
    batch : sequence of (Genome, tuple of str)
        The genomes to train and their parents' short keys.
    generation : int
        The generation the tickets belong to.

    Yields
    ------
    index, result : int, mapping
        A genome's position in ``batch`` and its final result (under
        successive halving, with ``rung`` and ``budget``; ``"partial"`` for
        a candidate stopped at a rung below the last).

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evolution.runner import SerialRunner
    >>> def width(ticket, snapshot):  # a toy fitness; a rung below the last stops at its budget
    ...     return {"score": ticket.genome.layers[0]["units"] / 100, "status": "ok",
    ...             "stopped_by": "budget" if ticket.budget == 1 else "max_epochs"}
    >>> batch = [(Genome("mlp", [LayerGene("dense", {"units": n})]), ()) for n in (8, 64, 16)]
    >>> results = dict(train_generation(SerialRunner(width), Fidelity((1, 3), 3), batch, 0))
    >>> {i: (r["status"], r["budget"]) for i, r in sorted(results.items())}
    {0: ('partial', 1), 1: ('ok', 3), 2: ('partial', 1)}
    """
    numbers = itertools.count()  # the generation's tickets, rungs included
    rung = functools.partial(_run_rung, runner, batch, generation, fidelity.budgets, numbers)
    if fidelity.budgets is None:
        yield from rung([RungTask(i, None, None) for i in range(len(batch))], False)
        return
    protected = {i for i, (genome, _) in enumerate(batch) if genome.key() in fidelity.protected}
    yield from successive_halving(
        range(len(batch)), fidelity.budgets, fidelity.factor, rung, protected
    )


def _run_rung(
    runner: Runner,
    batch: Pending,
    generation: int,
    budgets: Sequence[int] | None,
    numbers: Iterator[int],
    tasks: Sequence[RungTask],
    keep_snapshot: bool,
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """One barrier: the rung's tasks as tickets; ``(index, result)`` back.

    ``keep_snapshot`` is the schedule's wish; the runner keeps a snapshot
    for every budget below the full one, which is the same.
    """
    tickets, index_of = [], {}
    for i, epochs, snapshot in tasks:
        genome, parents = batch[i]
        rung = 0 if budgets is None or epochs is None else budgets.index(epochs)
        ticket = Ticket(next(numbers), genome, rung, epochs, parents, generation)
        index_of[ticket.number] = i
        tickets.append((ticket, snapshot))
    for ticket, result in run_batch(runner, tickets):
        yield index_of[ticket.number], result


def _evaluate_pending(
    state: SearchState,
    pending: Pending,
    train: Callable[[Pending, int], Iterable[tuple[int, Mapping[str, Any]]]],
    callbacks: Sequence[SearchCallback] = (),
) -> tuple[int, int, int]:
    """Train what ``pending`` holds that was never trained; record it in the batch's order."""
    new: dict[str, tuple[Genome, tuple[str, ...]]] = {}
    hits = 0
    for genome, parents in pending:
        key = genome.key()
        if key in state.cache or key in new:
            hits += 1
        else:
            new[key] = (genome, parents)
    batch = list(new.values())
    results: list[Mapping[str, Any]] = [{}] * len(batch)
    for index, result in train(batch, state.generation) if batch else ():
        results[index] = result
        for cb in callbacks:
            cb.on_evaluation_end(state, batch[index][0], result)
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
            EvaluationRecord(
                genome, score, state.generation, len(state.records), parents, status, info
            )
        )
    n_recorded = len(state.records) - first
    return n_recorded, hits, len(batch) - n_recorded


def _next_generation(
    state: SearchState, space: SearchSpace, rng: np.random.Generator, ga: GASettings
) -> list[tuple[Genome, tuple[str, ...]]]:
    """The next generation: the elites (the best so far among them), then new offspring."""
    population_size, elite_size = ga.population_size, ga.n_elites
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
            **ga.breeding,
            seen=lambda key: key in state.cache or key in taken,
        )
        if child.key() in taken:
            continue
        taken.add(child.key())
        nxt.append((child, parents))
    while len(nxt) < population_size:  # space exhausted: re-use cached genomes
        nxt.append(nxt[len(nxt) % len(elites)])
    return nxt
