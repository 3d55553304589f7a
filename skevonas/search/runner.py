"""An asynchronous search's tasks, trained on the search engine's workers.

:func:`~skevonas.evolution.asynchronous.evolve_async` hands out
:class:`~skevonas.evolution.asynchronous.Ticket` objects one at a time;
a :class:`CandidateRunner` turns each into the
:class:`~skevonas.training.tasks.CandidateTask` the generational search would send for
that genome and budget (:meth:`SearchEngine.candidate_task
<skevonas.search.pipeline.SearchEngine.candidate_task>`: the same seed, holdout,
deadline and threads), runs it on a :class:`~skevonas.search.pool.TaskStream`,
and journals every arrival, in the order it came, before the loop sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..evolution.asynchronous import Ticket
from ..training.tasks import warn_if_failed
from .pool import TaskStream

if TYPE_CHECKING:
    from .pipeline import SearchEngine

__all__ = ["CandidateRunner"]


class CandidateRunner:
    """Runs an asynchronous search's tickets as candidate tasks; journals each arrival.

    Parameters
    ----------
    engine : SearchEngine
        The search's engine (inside its ``with`` block).
    stream : TaskStream
        Where the tasks run (inside its ``with`` block).
    population_size : int
        Arrivals per "generation's worth", the number journaled with each.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.search.pipeline import SearchEngine
    >>> from skevonas.training.candidate import CandidateData, TrainSettings
    >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
    >>> def fake(task, data):
    ...     return {"score": task.epochs / 10, "status": "ok"}
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> with SearchEngine(data, TrainSettings(max_epochs=9), entropy=0, n_jobs=1,
    ...                   worker=fake) as engine, TaskStream(1) as stream:
    ...     runner = CandidateRunner(engine, stream, population_size=4)
    ...     runner.submit(Ticket(0, genome, rung=0, budget=3), None)
    ...     runner.next_result()
    (0, {'score': 0.3, 'status': 'ok'})
    """

    def __init__(self, engine: SearchEngine, stream: TaskStream, population_size: int) -> None:
        self.engine = engine
        self.stream = stream
        self.population_size = population_size
        self.capacity = stream.capacity
        self.arrived = 0

    def submit(self, ticket: Ticket, snapshot: bytes | None) -> None:
        """Start training ``ticket`` (from ``snapshot``, if any) as soon as a worker is free."""
        engine = self.engine
        full = engine.settings.max_epochs
        epochs = full if ticket.budget is None else int(ticket.budget)
        task = engine.candidate_task(
            ticket.number, ticket.genome, ticket.number, epochs, snapshot, epochs < full
        )
        self.stream.submit(ticket, engine.worker, task, engine.data)

    def next_result(self) -> tuple[int, Mapping[str, Any]]:
        """Wait for a ticket to finish; journal it; return ``(ticket number, result)``."""
        ticket, result = self.stream.next()
        warn_if_failed(ticket.genome, result)
        self.engine.journal.record_arrival(
            self.arrived // self.population_size,
            ticket.number,
            ticket.genome,
            ticket.budget,
            result,
        )
        self.arrived += 1
        return ticket.number, result
