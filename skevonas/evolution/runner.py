"""What a loop hands its candidates to: tickets, runners, and the replay of a journal.

Both loops (:func:`~skevonas.evolution.generational.evolve` and
:func:`~skevonas.evolution.asynchronous.evolve_async`) turn every training
they want into a :class:`Ticket` (a genome and an epoch budget) and give it
to a :class:`Runner`: ``submit`` starts it, ``next_result`` waits for one to
finish. The search's pipeline (:class:`skevonas.search.pipeline.CandidatePipeline`)
is the runner of a real search; :class:`SerialRunner` runs a toy fitness
function, for tests and examples. The generational loop adds a barrier
(:func:`run_batch`: submit a generation's tickets, wait for all of them);
the asynchronous one submits the next ticket when a worker frees.

:class:`Replay` stands in front of a runner when a search resumes: tickets
that the journal of the interrupted run answers are not run again, and their
journaled results come back instead. With ``in_order=True`` (the
asynchronous loop, whose decisions depend on the order of arrivals) they
come back in the journal's order, and a ticket that the journal names but
the loop has not submitted when its turn comes means the journal belongs to
another search (:class:`ReplayError`); with ``in_order=False`` (the
generational loop, whose barrier makes the order irrelevant) a journaled
result comes back whenever its ticket is waiting.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

from ..spaces.genome import Genome

logger = logging.getLogger(__name__)

__all__ = [
    "Arrival",
    "ReplayError",
    "Replay",
    "Runner",
    "SerialRunner",
    "Ticket",
    "run_batch",
]


class ReplayError(ValueError):
    """The arrivals to replay are not those of this search (another seed, other settings).

    Examples
    --------
    >>> issubclass(ReplayError, ValueError)
    True
    """


@dataclass(frozen=True)
class Ticket:
    """One training a loop asks for: ``genome`` up to a budget of epochs.

    Parameters
    ----------
    number : int
        Its number among the loop's tickets (the asynchronous loop's order
        of submission; in the generational loop, within the generation). The
        runner returns results by it.
    genome : Genome
        The candidate.
    rung : int, default=0
        The rung of successive halving it trains (0 without fidelity).
    budget : int or None, default=None
        Epochs in all at that rung, or None for the full budget.
    parents : tuple of str, default=()
        Short keys of the candidate's parents.
    generation : int, default=0
        The generation (or the asynchronous loop's history row) it belongs to.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> Ticket(3, Genome("mlp", [LayerGene("dense", {"units": 8})]), rung=1, budget=9).budget
    9
    """

    number: int
    genome: Genome
    rung: int = 0
    budget: int | None = None
    parents: tuple[str, ...] = ()
    generation: int = 0


@runtime_checkable
class Runner(Protocol):
    """What a loop runs its tickets on.

    ``capacity`` tickets may be in flight at once; ``submit(ticket,
    snapshot)`` starts one (``snapshot``: the state of an earlier rung to go
    on from, or None); ``next_result()`` waits for one to finish and returns
    ``(ticket number, result)``. A result is a mapping with a ``"score"``, a
    ``"status"`` (``"ok"``, ``"failed"`` or ``"skipped"``: the time ran out
    before it started), a ``"stopped_by"`` and, after a rung below the last,
    a ``"snapshot"``.

    Examples
    --------
    :class:`SerialRunner` is one; so is the search's pipeline:

    >>> isinstance(SerialRunner(lambda ticket, snapshot: {"score": 0.5}), Runner)
    True
    """

    @property
    def capacity(self) -> int:
        """Tickets that may be in flight at once."""
        ...

    def submit(self, ticket: Ticket, snapshot: bytes | None) -> None:
        """Start training ``ticket``, going on from ``snapshot`` (None: from scratch).

        Examples
        --------
        >>> from skevonas import Genome
        >>> runner = SerialRunner(lambda ticket, snapshot: {"score": 0.5})
        >>> runner.submit(Ticket(0, Genome("mlp", [])), None)
        """
        ...

    def next_result(self) -> tuple[int, Mapping[str, Any]]:
        """Wait for a ticket in flight to finish; return ``(its number, its result)``.

        Examples
        --------
        >>> from skevonas import Genome
        >>> runner = SerialRunner(lambda ticket, snapshot: {"score": 0.5})
        >>> runner.submit(Ticket(7, Genome("mlp", [])), None)
        >>> runner.next_result()
        (7, {'score': 0.5})
        """
        ...


class SerialRunner:
    """A runner that calls ``train(ticket, snapshot)`` in this process, in order of submission.

    For toy fitness functions (tests, examples): each ticket is trained when
    its result is asked for.

    Parameters
    ----------
    train : callable
        ``train(ticket, snapshot) -> result``.
    capacity : int, default=1
        Tickets the loop may keep in flight.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> runner = SerialRunner(lambda ticket, snapshot: {"score": ticket.number / 10})
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> runner.submit(Ticket(4, genome), None)
    >>> runner.next_result()
    (4, {'score': 0.4})
    """

    def __init__(
        self,
        train: Callable[[Ticket, bytes | None], Mapping[str, Any]],
        capacity: int = 1,
    ) -> None:
        self.train = train
        self.capacity = capacity
        self._queue: deque[tuple[Ticket, bytes | None]] = deque()

    def submit(self, ticket: Ticket, snapshot: bytes | None) -> None:
        """Queue ``ticket``; it is trained when a result is asked for.

        Examples
        --------
        >>> from skevonas import Genome
        >>> runner = SerialRunner(lambda ticket, snapshot: {"score": 0.5})
        >>> runner.submit(Ticket(0, Genome("mlp", [])), None)
        """
        self._queue.append((ticket, snapshot))

    def next_result(self) -> tuple[int, Mapping[str, Any]]:
        """Train the ticket submitted first; return ``(its number, its result)``.

        Raises
        ------
        RuntimeError
            If no ticket is in flight.

        Examples
        --------
        >>> from skevonas import Genome
        >>> runner = SerialRunner(lambda ticket, snapshot: {"score": ticket.number / 10})
        >>> for number in (3, 1):
        ...     runner.submit(Ticket(number, Genome("mlp", [])), None)
        >>> runner.next_result(), runner.next_result()
        ((3, {'score': 0.3}), (1, {'score': 0.1}))
        """
        if not self._queue:
            raise RuntimeError("no ticket is in flight")
        ticket, snapshot = self._queue.popleft()
        return ticket.number, self.train(ticket, snapshot)


def run_batch(
    runner: Runner, tickets: Sequence[tuple[Ticket, bytes | None]]
) -> Iterator[tuple[Ticket, Mapping[str, Any]]]:
    """Submit every ticket, then yield ``(ticket, result)`` as each finishes: a barrier.

    The generational loop trains a generation (or, with successive halving,
    one rung of it) this way; all tickets are submitted before the first
    result is taken, so the runner can start the most expensive first.

    Raises
    ------
    RuntimeError
        If the runner returns a result for a ticket that is not in the batch,
        or for one twice.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> runner = SerialRunner(lambda ticket, snapshot: {"score": 0.5})
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> [(t.number, r["score"]) for t, r in run_batch(runner, [(Ticket(0, g), None)])]
    [(0, 0.5)]
    """
    waiting: dict[int, Ticket | None] = {}
    for ticket, snapshot in tickets:
        runner.submit(ticket, snapshot)
        waiting[ticket.number] = ticket
    while waiting:
        number, result = runner.next_result()
        done = waiting.pop(int(number), None)
        if done is None:
            raise RuntimeError(
                f"the runner returned a result for ticket {number!r}, which is not in flight"
            )
        yield done, result


class Arrival(NamedTuple):
    """A result journaled by an interrupted run: which training it answers, and the result.

    Examples
    --------
    >>> Arrival("key", 3, {"score": 0.5}).budget
    3
    """

    key: str  # the genome's key
    budget: int | None  # the ticket's budget (None: the full budget, no fidelity)
    result: Mapping[str, Any]


class Replay:
    """A runner that answers the tickets an interrupted run journaled, and runs the others.

    A ticket is answered by the journaled arrival with its genome key and
    budget (a search trains a genome at a budget at most once). Results
    that come back from the journal have no snapshot: a candidate that goes
    on from one trains from scratch up to its next budget, which on the CPU
    gives what going on from the snapshot would have.

    Parameters
    ----------
    runner : Runner
        Runs the tickets the journal does not answer.
    arrivals : iterable of Arrival
        The interrupted run's results, in the order they arrived.
    in_order : bool, default=True
        Give the journaled results back in their order, each when its turn
        comes (an asynchronous search); False: whenever its ticket is
        waiting (a generational search, whose barrier makes order irrelevant).

    Raises
    ------
    ReplayError
        From :meth:`next_result`, with ``in_order``, when the next journaled
        arrival answers no ticket in flight: the journal is another search's.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g, h = (Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (8, 16))
    >>> inner = SerialRunner(lambda ticket, snapshot: {"score": 0.9})
    >>> runner = Replay(inner, [Arrival(g.key(), None, {"score": 0.1})])
    >>> runner.submit(Ticket(0, g), None); runner.submit(Ticket(1, h), None)
    >>> runner.next_result(), runner.next_result(), runner.replayed
    ((0, {'score': 0.1}), (1, {'score': 0.9}), 1)
    """

    def __init__(self, runner: Runner, arrivals: Iterable[Arrival] = (), in_order: bool = True):
        self.runner = runner
        self.in_order = in_order
        self.replayed = 0  # journaled results given back so far
        self._pending: deque[Arrival] = deque(arrivals)
        self._open = {(a.key, a.budget) for a in self._pending}  # not yet given back
        self._held: dict[tuple[str, int | None], Ticket] = {}  # submitted, answered by the journal

    @property
    def capacity(self) -> int:
        """The wrapped runner's capacity."""
        return self.runner.capacity

    def submit(self, ticket: Ticket, snapshot: bytes | None) -> None:
        """Hold ``ticket`` if the journal answers it, else start it on the runner.

        Examples
        --------
        >>> from skevonas import Genome
        >>> g = Genome("mlp", [])
        >>> inner = SerialRunner(lambda ticket, snapshot: {"score": 0.9})
        >>> runner = Replay(inner, [Arrival(g.key(), 3, {"score": 0.1})])
        >>> runner.submit(Ticket(0, g, budget=3), None)  # answered by the journal: held
        >>> len(inner._queue)
        0
        """
        ident = (ticket.genome.key(), ticket.budget)
        if ident in self._open and ident not in self._held:
            logger.debug(
                "%s: its result at budget %s was journaled before, not trained again",
                ticket.genome.short_key(),
                ticket.budget,
            )
            self._held[ident] = ticket
        else:
            self.runner.submit(ticket, snapshot)

    def next_result(self) -> tuple[int, Mapping[str, Any]]:
        """A journaled result if one is due (see ``in_order``), else the runner's next.

        Raises
        ------
        ReplayError
            With ``in_order``, if the next journaled arrival answers no
            ticket in flight.

        Examples
        --------
        >>> from skevonas import Genome
        >>> g, h = Genome("mlp", []), Genome("mlp", [], {"lr": 0.1})
        >>> runner = Replay(SerialRunner(None), [Arrival(g.key(), None, {"score": 0.1})])
        >>> runner.submit(Ticket(0, h), None)
        >>> runner.next_result()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        skevonas.evolution.runner.ReplayError: the journal does not match this search: ...
        """
        arrival = self._due()
        if arrival is None:
            return self.runner.next_result()
        self._pending.remove(arrival)
        ident = (arrival.key, arrival.budget)
        self._open.discard(ident)
        self.replayed += 1
        return self._held.pop(ident).number, arrival.result

    def _due(self) -> Arrival | None:
        """The journaled arrival to give back now, or None to ask the runner."""
        if not self._pending:
            return None
        if not self.in_order:
            return next((a for a in self._pending if (a.key, a.budget) in self._held), None)
        arrival = self._pending[0]
        if (arrival.key, arrival.budget) not in self._held:
            raise ReplayError(
                f"the journal does not match this search: its arrival {self.replayed + 1} "
                f"(genome {arrival.key[:16]}..., budget {arrival.budget}) answers no task "
                "this search has in flight"
            )
        return arrival
