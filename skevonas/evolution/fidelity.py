"""Multi-fidelity evaluation: successive halving over training epochs.

A search with ``min_epochs`` set does not train every new candidate of a
generation for the full ``max_epochs``. All of them train for a short budget
(the first *rung*); the best ``1 / factor`` of them go on to the next,
``factor`` times longer, budget, continuing from where they stopped rather
than from scratch; and so on up to ``max_epochs``. Training epochs go to the
promising candidates, which is the idea of successive halving (Jamieson and
Talwalkar, 2016) as used in Hyperband (Li et al., 2018).

A candidate stopped at a lower rung keeps its score at that rung in the
search's records, with status ``"partial"`` and its ``rung`` and
``budget``: it ranks below every candidate that finished, and never becomes
the search's best. A candidate whose own early stopping (``patience``) or
time limit ends its training before its rung's budget has finished
training, as it would have with full fidelity: its score is a full-budget
score.

Successive halving judges a candidate by the first epochs of its schedule,
where small networks lead and large ones that end better (EEGNeX on
SelfRegulationSCP1, for one) still trail. So candidates may be
*protected*: they go on to the full budget whatever their early scores,
beside the best of the others. The estimator protects the genomes a search
starts from (``initial_genomes``): the standard designs it must beat are
always among its full-budget candidates.

A search resumed after a crash in the middle of such a generation replays
the generation's schedule: the rung results journaled before the crash come
back without training (:class:`~skevonas.evolution.runner.Replay`), so the
same candidates go on; one that goes on from a journaled result has no
snapshot and trains from scratch up to its next budget, which on the CPU
gives the same result as going on would have.

Fidelity can also be in data: with the estimator's ``min_data_fraction``,
the lowest rung's epochs train on a share of the training part, which the
search's pipeline passes to every candidate it trains for a loop
(:class:`~skevonas.search.pipeline.CandidatePipeline`'s ``low_data``); the
rungs and promotions here are unchanged by it.

This module holds the schedule (:class:`Fidelity`, :func:`rung_budgets`,
:func:`successive_halving`) and knows nothing of torch: the generational
loop runs each rung on its runner, and the asynchronous loop promotes by
its own rule (:mod:`skevonas.evolution.asynchronous`) over the same budgets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["Fidelity", "RungTask", "rung_budgets", "successive_halving"]


class RungTask(NamedTuple):
    """One candidate's training at one rung: which, up to how many epochs, from where.

    Examples
    --------
    >>> RungTask(position=2, epochs=9, snapshot=None).epochs
    9
    """

    position: int  # the candidate's position among those the schedule trains
    epochs: int | None  # epochs in all at this rung (None: the full budget, no rungs)
    snapshot: bytes | None  # the training state of the rung before, or None (from scratch)


# run(tasks, keep_snapshot) trains the RungTasks and yields (index, result) as
# each finishes; a result may hold a "snapshot" (bytes) to go on from, which
# is only asked for when the candidate may go on.
RunRung = Callable[[Sequence[RungTask], bool], Iterable[tuple[int, Mapping[str, Any]]]]


@dataclass(frozen=True)
class Fidelity:
    """How a search spends epochs: every candidate at full budget, or by successive halving.

    Parameters
    ----------
    budgets : tuple of int or None, default=None
        The epoch budgets of the rungs (:func:`rung_budgets`), or None: every
        candidate trains its full budget in one go.
    factor : int, default=3
        One in ``factor`` candidates goes on to the next rung.
    protected : frozenset of str, default=frozenset()
        Keys of genomes (:meth:`~skevonas.Genome.key`) that go on to the full
        budget whatever their early scores: the genomes a search starts from.

    Examples
    --------
    >>> Fidelity.halving(max_epochs=30, min_epochs=3, factor=3).budgets
    (3, 10, 30)
    >>> Fidelity.halving(max_epochs=30, min_epochs=None).budgets is None
    True
    """

    budgets: tuple[int, ...] | None = None
    factor: int = 3
    protected: frozenset[str] = frozenset()

    @classmethod
    def halving(
        cls,
        max_epochs: int,
        min_epochs: int | None,
        factor: int = 3,
        protected: Collection[str] = (),
    ) -> Fidelity:
        """Successive halving from about ``min_epochs`` to ``max_epochs`` (None: full budget).

        Examples
        --------
        >>> Fidelity.halving(27, 1, factor=3, protected=["key"])
        Fidelity(budgets=(1, 3, 9, 27), factor=3, protected=frozenset({'key'}))
        """
        budgets = None
        if min_epochs is not None:
            budgets = tuple(rung_budgets(max_epochs, min_epochs, factor))
        return cls(budgets, factor, frozenset(protected))


def rung_budgets(max_epochs: int, min_epochs: int, factor: int) -> list[int]:
    """Epoch budgets of the rungs: from about ``min_epochs`` up to ``max_epochs``.

    The budgets grow by ``factor`` and end at ``max_epochs``; the first is
    the smallest of them that is at least ``min_epochs``.

    Parameters
    ----------
    max_epochs : int
        The last (full) budget.
    min_epochs : int
        The shortest training any candidate gets, at most ``max_epochs``.
    factor : int
        Growth from one budget to the next (at least 2).

    Returns
    -------
    budgets : list of int
        Increasing, ending with ``max_epochs``.

    Examples
    --------
    >>> rung_budgets(30, 3, 3)
    [3, 10, 30]
    >>> rung_budgets(27, 1, 3)
    [1, 3, 9, 27]
    >>> rung_budgets(30, 30, 3)
    [30]
    """
    if not 1 <= min_epochs <= max_epochs:
        raise ValueError(f"min_epochs must be in [1, {max_epochs}], got {min_epochs}")
    if factor < 2:
        raise ValueError(f"factor must be >= 2, got {factor}")
    budgets = [max_epochs]
    while True:
        lower = round(budgets[0] / factor)
        if lower < min_epochs or lower >= budgets[0]:
            return budgets
        budgets.insert(0, lower)


def successive_halving(
    candidates: Sequence[int],
    budgets: Sequence[int],
    factor: int,
    run: RunRung,
    protected: Collection[int] = (),
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Train ``candidates`` by successive halving; yield each final result.

    Every candidate trains for ``budgets[0]`` epochs; of the others that
    trained a rung, the best ``ceil(n / factor)`` by score go on to the next
    budget (those among them that are still training), and so do the
    ``protected`` ones. Results are yielded as ``(index, result)`` once
    final, that is when a candidate stops going on.

    Parameters
    ----------
    candidates : sequence of int
        The candidates, known by their indices (e.g. positions in a
        generation); among equal scores the lower index goes on.
    budgets : sequence of int
        Epochs in all at each rung (:func:`rung_budgets`).
    factor : int
        One in ``factor`` candidates goes on to the next rung.
    run : callable
        ``run(tasks, keep_snapshot)`` trains the :class:`RungTask` list
        ``tasks`` and yields ``(index, result)``. A result is a mapping with a
        ``"score"``, a ``"status"`` (``"ok"``, ``"failed"`` or
        ``"skipped"``), a ``"stopped_by"`` and, when it stopped at its
        budget and ``keep_snapshot`` was true, a ``"snapshot"``. A
        candidate that stopped at its budget without a snapshot (e.g. its
        result was journaled before a crash) may go on too: its next task
        has no snapshot, so it trains from scratch up to the next budget.
    protected : collection of int, default=()
        Candidates that go on to the full budget whatever their early
        scores (unless they fail or stop on their own), outside the
        ``ceil(n / factor)`` places of the others: networks known to learn
        slowly but well, such as the standard designs a search starts from,
        which a rung early in their schedule would cut.

    Yields
    ------
    index, result : int, dict
        Final results, with ``rung`` (0-based) and ``budget`` added. Status
        ``"partial"`` marks a candidate stopped at a rung below the last;
        a candidate the deadline skipped at a later rung comes back with its
        earlier rung's result, as partial.

    Examples
    --------
    A toy ``run`` in which a candidate's score is its index; nothing stops early:

    >>> def run(tasks, keep_snapshot):
    ...     for i, epochs, snapshot in tasks:
    ...         yield i, {"score": float(i), "status": "ok", "stopped_by": "budget",
    ...                   "epochs": epochs, "snapshot": b"state" if keep_snapshot else None}
    >>> final = dict(successive_halving(range(9), [1, 3, 9], 3, run))
    >>> sorted(i for i, r in final.items() if r["status"] == "ok")
    [8]
    >>> final[7]["status"], final[7]["rung"], final[7]["epochs"]
    ('partial', 1, 3)
    >>> final[0]["status"], final[0]["budget"]
    ('partial', 1)

    Protecting candidate 0 trains it to the full budget beside the best of the others:

    >>> final = dict(successive_halving(range(9), [1, 3, 9], 3, run, protected={0}))
    >>> sorted(i for i, r in final.items() if r["status"] == "ok")
    [0, 8]
    """
    active = list(candidates)
    # Candidates that trained a rung to its budget and may go on: (result,
    # snapshot). Without a snapshot (a result journaled before a crash), the
    # next rung trains from scratch.
    waiting: dict[int, tuple[dict[str, Any], bytes | None]] = {}
    for rung, budget in enumerate(budgets):
        last = rung == len(budgets) - 1
        previous = {i: waiting.pop(i) for i in active if i in waiting}
        tasks = [RungTask(i, budget, previous[i][1] if i in previous else None) for i in active]
        scored: dict[int, dict[str, Any]] = {}  # finished this rung with a score
        for i, result in run(tasks, not last):
            result = {**result, "rung": rung, "budget": budget}
            snapshot = result.pop("snapshot", None)
            status = result.get("status", "ok")
            if status == "skipped":
                # The time ran out before this rung: the candidate keeps the
                # score of the rung before, if it has one.
                yield i, _partial(previous[i][0]) if i in previous else result
                continue
            if status == "ok" and math.isfinite(float(result.get("score", math.nan))):
                scored[i] = result
            if last or status != "ok" or result.get("stopped_by") != "budget":
                yield i, result  # finished: failed, or its own stopping rule ended it
                continue
            waiting[i] = (result, snapshot)
        others = [i for i in scored if i not in protected]
        n_keep = math.ceil(len(others) / factor)
        best = sorted(others, key=lambda i: (-float(scored[i]["score"]), i))[:n_keep]
        active = [i for i in [*sorted(set(protected) & set(scored)), *best] if i in waiting]
        for i in [i for i in waiting if i not in active]:
            yield i, _partial(waiting.pop(i)[0])
        if not active:
            return


def _partial(result: Mapping[str, Any]) -> dict[str, Any]:
    return {**result, "status": "partial"}
