"""The two strategies of a search, on one pipeline: the one place where they differ.

:func:`run_search` runs the loop a ``strategy`` names on the search's
:class:`~skevonas.search.pipeline.CandidatePipeline`:

- ``"generational"``: :func:`~skevonas.evolution.generational.evolve`, a
  generation at a time, with a barrier at the end of each generation (and of
  each rung of successive halving). A resumed search goes on from its
  checkpoint, and replays only the generation the crash interrupted: its
  journaled results answer their tickets in any order
  (``Replay(..., in_order=False)``), since the barrier makes the order
  irrelevant.
- ``"asynchronous"``: :func:`~skevonas.evolution.asynchronous.evolve_async`,
  a new ticket the moment a worker frees. Its decisions depend on the
  order of arrivals, so a resumed search starts again from the search's
  seed and replays every journaled arrival in order
  (``Replay(..., in_order=True)``); a journal of another search is a
  :class:`~skevonas.store.checkpoint.CheckpointError`.

Both hand their tickets to the same pipeline (one worker pool, one journal
writer), hear the same callbacks (the user's, then the time budget's hook,
then, with weight inheritance, the hook that keeps only the population's
weights, then the progress display) and return the
:class:`~skevonas.evolution.records.SearchState` that
:mod:`skevonas.search.final` takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..evolution.asynchronous import evolve_async
from ..evolution.fidelity import Fidelity
from ..evolution.ga import GASettings
from ..evolution.generational import evolve
from ..evolution.records import SearchState
from ..evolution.runner import Replay, ReplayError
from ..store.checkpoint import CheckpointError
from .pipeline import CandidatePipeline

if TYPE_CHECKING:
    from ..evolution.callbacks import SearchCallback
    from ..spaces.genome import Genome
    from ..spaces.space import SearchSpace

__all__ = ["STRATEGIES", "run_search"]

#: How a search runs: a generation at a time, or a new task the moment a worker frees.
STRATEGIES = ("generational", "asynchronous")


def run_search(
    space: SearchSpace,
    pipeline: CandidatePipeline,
    ga: GASettings,
    *,
    rng: np.random.Generator,
    strategy: str = "generational",
    fidelity: Fidelity | None = None,
    callbacks: Sequence[SearchCallback] = (),
    display: Sequence[SearchCallback] = (),
    initial_population: Sequence[Genome] = (),
    resume: SearchState | None = None,
) -> SearchState:
    """Run ``strategy``'s loop on ``pipeline`` (inside its ``with`` block).

    Parameters
    ----------
    space : SearchSpace
        The bound search space.
    pipeline : CandidatePipeline
        Trains the candidates; its journal holds what an interrupted run of
        this search wrote, and its budget's hook stops the search in time.
    ga : GASettings
        The genetic algorithm's settings.
    rng : numpy.random.Generator
        The genetic algorithm's generator, fresh from the search's seed
        (a resumed generational search goes on with the saved one instead;
        a resumed asynchronous one replays its journaled arrivals from the
        start, so it needs the fresh one).
    strategy : {"generational", "asynchronous"}, default="generational"
        Which loop (see the module docstring).
    fidelity : Fidelity or None, default=None
        Successive halving over epochs, or None.
    callbacks : sequence of SearchCallback, default=()
        The user's hooks.
    display : sequence of SearchCallback, default=()
        The progress display, called after everything else.
    initial_population : sequence of Genome, default=()
        The genomes the search starts from.
    resume : SearchState or None, default=None
        The state a warm start continues.

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
    >>> from skevonas import mlp_space
    >>> from skevonas.training.candidate import CandidateData
    >>> from skevonas.training.recipe import Recipe
    >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
    >>> fake = lambda task, data: {"score": 0.5, "status": "ok"}
    >>> with CandidatePipeline(data, Recipe(), entropy=0, worker=fake) as pipeline:
    ...     state = run_search(mlp_space().bind((2,)), pipeline, GASettings(3, 2),
    ...                        rng=np.random.default_rng(0), strategy="asynchronous")
    >>> len(state.records), state.stop_reason
    (4, 'completed 2 generations')
    """
    journal = pipeline.journal
    keep_weights = [pipeline.lineage.hook()] if pipeline.lineage is not None else []
    common: dict[str, Any] = {
        "rng": rng,
        "fidelity": fidelity,
        "callbacks": [*callbacks, pipeline.budget.hook(), *keep_weights, *display],
        "initial_population": initial_population,
        "checkpoint": journal.checkpoint,
    }
    if strategy == "generational":
        replay = []
        if resume is not None:
            done = {record.key for record in resume.records}
            replay = journal.arrivals(resume.generation + 1, skip=done)
        runner = Replay(pipeline, replay, in_order=False)
        return evolve(space, runner, ga, resume=resume, **common)
    if strategy != "asynchronous":
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r} instead")
    arrivals = journal.arrivals() or (list(resume.arrivals) if resume is not None else [])
    elapsed = 0.0
    if resume is not None and resume.history:
        elapsed = float(resume.history[-1]["elapsed"])
    try:
        runner = Replay(pipeline, arrivals, in_order=True)
        return evolve_async(space, runner, ga, elapsed=elapsed, **common)
    except ReplayError as exc:
        raise CheckpointError(
            f"cannot continue the asynchronous search: {exc}. Use warm_start=False to start anew."
        ) from None
