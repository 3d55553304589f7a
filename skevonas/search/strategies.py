"""The search step of ``fit``: the engine, and the loop that drives it.

:func:`search_engine` builds the :class:`~skevonas.search.pipeline.SearchEngine` of a
fit from the estimator's settings; :func:`run_search` runs the estimator's
``strategy`` on it: the generational loop (:func:`~skevonas.evolution.generational.evolve`,
one batch per generation) or the asynchronous one
(:func:`~skevonas.evolution.asynchronous.evolve_async`, a new task the moment a
worker frees, on a :class:`~skevonas.search.pool.TaskStream`). Both return the
:class:`~skevonas.evolution.generational.SearchState` that :mod:`skevonas.search.final` takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..evolution.asynchronous import ReplayError, evolve_async
from ..evolution.generational import SearchState, evolve
from ..settings import STRATEGIES, min_epochs_for
from ..store.checkpoint import CheckpointError
from .pipeline import SearchEngine
from .pool import TaskStream
from .runner import CandidateRunner

if TYPE_CHECKING:
    from ..evolution.callbacks import SearchCallback
    from ..spaces.genome import Genome
    from ..spaces.space import SearchSpace
    from ..store.resume import Journal
    from ..training.candidate import CandidateData, TrainSettings

__all__ = ["STRATEGIES", "run_search", "search_engine"]


def search_engine(
    params: dict[str, Any],
    parts: CandidateData,
    settings: TrainSettings,
    entropy: int,
    journal: Journal,
    deadline: float | None,
    protected: Sequence[str],
) -> SearchEngine:
    """The engine that trains a fit's candidates, from the estimator's ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import EvolutionaryNASClassifier
    >>> from skevonas.training.candidate import CandidateData, TrainSettings
    >>> from skevonas.store.resume import Journal
    >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
    >>> params = EvolutionaryNASClassifier(n_jobs=1, max_epochs=9, min_epochs=1).get_params()
    >>> engine = search_engine(params, data, TrainSettings(max_epochs=9), 0, Journal(None, {}),
    ...                        None, [])
    >>> engine.budgets
    [1, 3, 9]
    """
    return SearchEngine(
        parts,
        settings,
        entropy=entropy,
        device=params["device"],
        candidates_per_device=params["candidates_per_device"],
        n_jobs=params["n_jobs"],
        torch_threads=params["torch_threads"],
        deadline=deadline,
        min_epochs=min_epochs_for(
            params["min_epochs"], params["max_epochs"], params["halving_factor"]
        ),
        halving_factor=params["halving_factor"],
        protected=protected,
        journal=journal,
    )


def run_search(
    params: dict[str, Any],
    space: SearchSpace,
    engine: SearchEngine,
    *,
    rng: np.random.Generator,
    callbacks: Sequence[SearchCallback],
    initial_population: Sequence[Genome],
    resume: SearchState | None,
    journal: Journal,
) -> SearchState:
    """Run the estimator's ``strategy`` on ``engine`` (inside its ``with`` block).

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.
    space : SearchSpace
        The bound search space.
    engine : SearchEngine
        Trains the candidates.
    rng : numpy.random.Generator
        The genetic algorithm's generator, fresh from the search's seed
        (a resumed generational search goes on with the saved one instead;
        a resumed asynchronous one replays its journaled arrivals from the
        start, so it needs the fresh one).
    callbacks : sequence of SearchCallback
        The search's hooks.
    initial_population : sequence of Genome
        The genomes the search starts from.
    resume : SearchState or None
        The state a warm start continues.
    journal : Journal
        Where results go; a resumed asynchronous search replays ``journal.arrivals``
        (or the arrivals of ``resume`` when there is no checkpoint folder).

    Returns
    -------
    state : SearchState

    Raises
    ------
    CheckpointError
        If an asynchronous search's journal does not match the search that
        continues it.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import EvolutionaryNASClassifier, mlp_space
    >>> from skevonas.training.candidate import CandidateData, TrainSettings
    >>> from skevonas.store.resume import Journal
    >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
    >>> params = EvolutionaryNASClassifier(population_size=3, n_generations=2, n_jobs=1,
    ...                                    strategy="asynchronous").get_params()
    >>> engine = SearchEngine(data, TrainSettings(), entropy=0, n_jobs=1,
    ...                       worker=lambda task, data: {"score": 0.5, "status": "ok"})
    >>> with engine:
    ...     state = run_search(params, mlp_space().bind((2,)), engine,
    ...                        rng=np.random.default_rng(0), callbacks=[],
    ...                        initial_population=[], resume=None, journal=Journal(None, {}))
    >>> len(state.records), state.stop_reason
    (4, 'completed 2 generations')
    """
    breeding = {
        "population_size": params["population_size"],
        "n_generations": params["n_generations"],
        "rng": rng,
        "elite_size": min(params["elite_size"], params["population_size"] - 1),
        "selection": params["selection"],
        "tournament_size": params["tournament_size"],
        "crossover": params["crossover"],
        "crossover_rate": params["crossover_rate"],
        "mutation_rate": params["mutation_rate"],
        "callbacks": callbacks,
        "initial_population": initial_population,
        "checkpoint": journal.checkpoint,
    }
    if params["strategy"] == "generational":
        return evolve(space, engine.evaluate, resume=resume, **breeding)
    replay = journal.arrivals or (resume.arrivals if resume is not None else [])
    elapsed = 0.0
    if resume is not None and resume.history:
        elapsed = float(resume.history[-1]["elapsed"])
    pool = engine.devices.pool
    resources = {"GPU": 1 / pool.per_device} if pool is not None else None
    with TaskStream(engine.n_jobs, shared=[engine.data], resources=resources) as stream:
        runner = CandidateRunner(engine, stream, params["population_size"])
        try:
            return evolve_async(
                space,
                runner,
                budgets=engine.budgets,
                halving_factor=engine.halving_factor,
                protected=engine.protected,
                replay=replay,
                elapsed=elapsed,
                **breeding,
            )
        except ReplayError as exc:
            raise CheckpointError(
                f"cannot continue the asynchronous search: {exc}. "
                "Use warm_start=False to start anew."
            ) from None
