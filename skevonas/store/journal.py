"""The journal of a running search: each result written the moment it arrives.

``evaluations.jsonl`` in the checkpoint folder (written by
:func:`~skevonas.store.checkpoint.append_result`) gets one line per result
that reaches the search's pipeline, in the order they arrive: a candidate's
training, or in a multi-fidelity search one rung of it
(:mod:`skevonas.evolution.fidelity`), each marked with the search's id, the
ticket's number, its budget and its generation. Both strategies write the
same lines through one writer (:meth:`Journal.record_arrival`). After a
crash, :func:`read_journal` hands back this search's lines, each checked
(:mod:`skevonas.store.checkpoint_checks`), and :meth:`Journal.arrivals` turns
them into the :class:`~skevonas.evolution.runner.Arrival` list that a
:class:`~skevonas.evolution.runner.Replay` answers tickets from, instead of
training those candidates again; a successive-halving generation is thus
replayed rung by rung, so that the promotions are those of the interrupted
run. Journals written before one writer served both strategies (lines of
kind ``"final"`` and ``"rung"``) are read too.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..evolution.records import SearchState
from ..evolution.runner import Arrival, Ticket
from ..spaces.genome import Genome
from .checkpoint import (
    JOURNAL_FILE,
    CheckpointError,
    append_result,
    iter_journal,
    save_checkpoint,
)
from .checkpoint_checks import RUNG_STATUSES, STATUSES, check_int, check_result, genome_in_space

if TYPE_CHECKING:
    from ..spaces.space import SearchSpace
    from .folderlock import FolderLock

__all__ = ["Journal", "JournalEntry", "read_journal"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JournalEntry:
    """One line of the journal: a candidate's final result, or one rung's result.

    Parameters
    ----------
    line : int
        Its line number in ``evaluations.jsonl`` (from 1).
    generation : int
        The generation the candidate belongs to.
    genome : Genome
        The candidate.
    result : dict
        What its evaluation returned.
    budget : int or None
        The epochs of a rung of successive halving, or None for a final result.
    ticket : int or None, default=None
        In an asynchronous search, the number of the task whose arrival the
        line is (its ``budget`` then is the rung's, or None without rungs).

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> JournalEntry(1, 0, g, {"score": 0.5}, budget=3).final
    False
    """

    line: int
    generation: int
    genome: Genome
    result: dict[str, Any]
    budget: int | None = None
    ticket: int | None = None

    @property
    def final(self) -> bool:
        """Whether it is a candidate's final result (not one rung's, not an arrival)."""
        return self.budget is None and self.ticket is None


def read_journal(
    directory: str | os.PathLike,
    search_id: str | None,
    *,
    space: SearchSpace | None = None,
    max_epochs: int | None = None,
) -> list[JournalEntry]:
    """The journal lines of one search, in order, each checked.

    Lines that are not journal lines (cut short by a crash, binary garbage)
    are skipped, and lines of another search are ignored, each with a logged
    warning. Lines of this search must hold a genome in ``space`` and a
    sound result, or the journal is refused.

    Parameters
    ----------
    directory : path
        The checkpoint folder.
    search_id : str or None
        The search whose lines to keep (``meta["search_id"]``); None keeps
        lines that name no search (journals written before lines had one).
    space : SearchSpace or None, default=None
        The bound search space every genome must lie in.
    max_epochs : int or None, default=None
        The most epochs a candidate trains.

    Returns
    -------
    entries : list of JournalEntry

    Raises
    ------
    CheckpointError
        Naming the line, its genome and what is wrong with it.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skevonas import mlp_space
    >>> space = mlp_space().bind((4,))
    >>> g = space.sample(np.random.default_rng(0))
    >>> tmp = tempfile.TemporaryDirectory()
    >>> append_result(tmp.name, 0, g, {"score": 0.5}, search_id="a", budget=3)
    >>> append_result(tmp.name, 0, g, {"score": 0.9}, search_id="b")  # another search's
    >>> [(e.result["score"], e.budget) for e in read_journal(tmp.name, "a", space=space)]
    [(0.5, 3)]
    >>> huge = g.replace(layers=[g.layers[0].replace(units=200_000)])
    >>> append_result(tmp.name, 0, huge, {"score": 1.0}, search_id="a")
    >>> try:
    ...     read_journal(tmp.name, "a", space=space)
    ... except CheckpointError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    line 3 of the journal '.../evaluations.jsonl' is damaged or crafted:
    its genome ... lies outside the search space 'mlp': ...
    >>> tmp.cleanup()
    """
    path = Path(directory) / JOURNAL_FILE
    entries, foreign = [], 0
    for number, line in iter_journal(directory):
        if line.get("search") != search_id:
            foreign += 1
            continue
        try:
            entries.append(_journal_entry(number, line, space, max_epochs))
        except ValueError as exc:
            raise CheckpointError(
                f"line {number} of the journal {str(path)!r} is damaged or crafted: {exc}"
            ) from None
    if foreign:
        logger.warning(
            "ignored %d lines of %s written by another search than %s", foreign, path, search_id
        )
    return entries


def _journal_entry(
    number: int, line: dict[str, Any], space: SearchSpace | None, max_epochs: int | None
) -> JournalEntry:
    genome = genome_in_space(line["genome"], space)
    try:
        generation = check_int(line["generation"], "its generation", 0)
        kind, budget = line.get("kind", "final"), line.get("budget")
        ticket = None
        if kind == "ticket":
            ticket = check_int(line.get("ticket"), "its task number", 0)
        elif (kind, budget is None) not in (("final", True), ("rung", False)):
            raise ValueError(f"its kind {kind!r} and budget {budget!r} disagree")
        if budget is not None:
            check_int(budget, "its budget", 1, max_epochs or math.inf)
        statuses = STATUSES if budget is None and ticket is None else RUNG_STATUSES
        result = check_result(line["result"], statuses, max_epochs)
        if "score" not in result:
            raise ValueError("its result has no score")
    except ValueError as exc:
        raise ValueError(f"({genome.short_key()}) {exc}") from None
    return JournalEntry(number, generation, genome, dict(result), budget, ticket)


class Journal:
    """What a running search writes, and what an interrupted run of it wrote.

    Parameters
    ----------
    folder : path or None
        The checkpoint folder, or None to write nothing.
    meta : dict
        The search's :func:`~skevonas.store.resume.search_meta` (with ``"entropy"`` and
        ``"search_id"``), saved with every checkpoint; its ``"search_id"``
        marks every journal line.
    entries : list of JournalEntry, default=None
        This search's lines written by an interrupted run (:func:`read_journal`),
        which :meth:`arrivals` hands back for a replay.
    lock : FolderLock or None, default=None
        The folder's lock, held while the search runs; :meth:`close` (or
        leaving a ``with`` block) releases it.

    Examples
    --------
    >>> import tempfile
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evolution.runner import Ticket
    >>> tmp = tempfile.TemporaryDirectory()
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> journal = Journal(tmp.name, {"search_id": "s1"})
    >>> journal.record_arrival(Ticket(0, g, budget=3, generation=1), {"score": 0.4})
    >>> again = Journal(tmp.name, {"search_id": "s1"}, read_journal(tmp.name, "s1"))
    >>> again.arrivals(generation=1) == [(g.key(), 3, {"score": 0.4})]
    True
    >>> tmp.cleanup()
    """

    def __init__(
        self,
        folder: str | os.PathLike | None,
        meta: dict[str, Any],
        entries: list[JournalEntry] | None = None,
        lock: FolderLock | None = None,
    ) -> None:
        self.folder = folder
        self.meta = meta
        self.entries = list(entries or [])
        self.lock = lock

    @property
    def search_id(self) -> str | None:
        """The id on this search's journal lines (``meta["search_id"]``)."""
        return self.meta.get("search_id")

    def record_arrival(self, ticket: Ticket, result: Mapping[str, Any]) -> None:
        """Journal ``ticket``'s result without its snapshot (nothing if skipped, or no folder).

        Examples
        --------
        >>> import tempfile
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.evolution.runner import Ticket
        >>> tmp = tempfile.TemporaryDirectory()
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> journal = Journal(tmp.name, {"search_id": "s1"})
        >>> journal.record_arrival(Ticket(5, g, budget=3), {"score": 0.4, "snapshot": b""})
        >>> [(e.ticket, e.budget, e.result) for e in read_journal(tmp.name, "s1")]
        [(5, 3, {'score': 0.4})]
        >>> tmp.cleanup()
        """
        if self.folder is None or result.get("status") == "skipped":
            return
        plain = {k: v for k, v in result.items() if k != "snapshot"}
        append_result(
            self.folder,
            ticket.generation,
            ticket.genome,
            plain,
            search_id=self.search_id,
            budget=ticket.budget,
            ticket=ticket.number,
        )

    def arrivals(self, generation: int | None = None, skip: Collection[str] = ()) -> list[Arrival]:
        """The journaled results to replay, in the order they arrived.

        Parameters
        ----------
        generation : int or None, default=None
            Only the lines of this generation (a generational search goes on
            from its checkpoint, so only the interrupted generation is
            replayed); None: every line (an asynchronous search replays all
            its arrivals).
        skip : collection of str, default=()
            Genome keys whose lines are left out (genomes a checkpoint holds).

        Returns
        -------
        arrivals : list of Arrival
            Genome key, the ticket's budget (None: the full budget without
            fidelity) and the result. Of a journal written before one writer
            served both strategies, a generation's ``"rung"`` lines stand for
            its trainings, and its ``"final"`` lines only where it has no
            rung lines (they repeat the rungs' results).

        Examples
        --------
        >>> import tempfile
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.store.checkpoint import append_result
        >>> tmp = tempfile.TemporaryDirectory()
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> append_result(tmp.name, 1, g, {"score": 0.4}, search_id="s", budget=3)  # older lines
        >>> append_result(tmp.name, 1, g, {"score": 0.4, "status": "partial"}, search_id="s")
        >>> journal = Journal(tmp.name, {"search_id": "s"}, read_journal(tmp.name, "s"))
        >>> [(a.budget, a.result) for a in journal.arrivals(generation=1)]  # the rung only
        [(3, {'score': 0.4})]
        >>> journal.arrivals(generation=2), journal.arrivals(skip=[g.key()])
        ([], [])
        >>> tmp.cleanup()
        """
        chosen = [
            e
            for e in self.entries
            if (generation is None or e.generation == generation) and e.genome.key() not in skip
        ]
        rungs = {e.generation for e in chosen if e.ticket is None and e.budget is not None}
        return [
            Arrival(e.genome.key(), e.budget, e.result)
            for e in chosen
            if not e.final or e.generation not in rungs
        ]

    def save(self, state: SearchState) -> None:
        """Write ``state`` (with the search's meta) as the checkpoint.

        Examples
        --------
        >>> import tempfile
        >>> from skevonas.store.checkpoint import load_checkpoint
        >>> tmp = tempfile.TemporaryDirectory()
        >>> journal = Journal(tmp.name, {"search_id": "s1"})
        >>> journal.save(SearchState("mlp", population_size=4, n_generations=2))
        >>> load_checkpoint(tmp.name).meta
        {'search_id': 's1'}
        >>> tmp.cleanup()
        """
        assert self.folder is not None
        state.meta = self.meta
        save_checkpoint(self.folder, state)

    @property
    def checkpoint(self) -> Callable[[SearchState], None] | None:
        """What the loops call after each generation (or history row), or None."""
        return self.save if self.folder is not None else None

    def close(self) -> None:
        """Release the folder's lock: the search is over (writing stays possible).

        Examples
        --------
        >>> import tempfile
        >>> from skevonas.store.folderlock import FolderLock
        >>> tmp = tempfile.TemporaryDirectory()
        >>> with Journal(tmp.name, {}, lock=FolderLock(tmp.name).acquire()) as journal:
        ...     journal.lock.held
        True
        >>> journal.lock.held
        False
        >>> tmp.cleanup()
        """
        if self.lock is not None:
            self.lock.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
