"""The journal of a running search: each result written the moment it arrives.

``evaluations.jsonl`` in the checkpoint folder (written by
:func:`~skevonas.store.checkpoint.append_result`) gets one line per candidate's
final result, and in a multi-fidelity search one line per rung result
(:mod:`skevonas.evolution.fidelity`), each marked with the search's id. After a
crash, :func:`read_journal` hands back this search's lines, each checked
(:mod:`skevonas.store.checkpoint_checks`), and a :class:`Journal` returns them to the search
engine instead of training those candidates again. A successive-halving
generation is replayed rung by rung from its rung results, so that the
promotions are those of the interrupted run.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..evolution.generational import SearchState
from ..spaces.genome import Genome
from .checkpoint import (
    JOURNAL_FILE,
    CheckpointError,
    append_result,
    iter_journal,
    save_checkpoint,
)
from .checkpoint_checks import RUNG_STATUSES, STATUSES, check_genome, check_int, check_result

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
    genome = check_genome(line["genome"], space)
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
    """What a running search writes, and the results journaled before a crash.

    Parameters
    ----------
    folder : path or None
        The checkpoint folder, or None to write nothing.
    meta : dict
        The search's :func:`~skevonas.store.resume.search_meta` (with ``"entropy"`` and
        ``"search_id"``), saved with every checkpoint; its ``"search_id"``
        marks every journal line.
    reused : dict of str to dict, default=None
        Final results journaled by an interrupted run of this search, by
        genome key: handed back by :meth:`take` instead of being trained again.
    rungs : dict of (str, int) to dict, default=None
        Rung results of successive halving journaled by an interrupted run,
        by genome key and epoch budget: handed back by :meth:`take_rung`.
    lock : FolderLock or None, default=None
        The folder's lock, held while the search runs; :meth:`close` (or
        leaving a ``with`` block) releases it.
    arrivals : list of (int, str, dict), default=None
        An asynchronous search's journaled arrivals, in order (task number,
        genome key, result), for :func:`~skevonas.evolution.asynchronous.evolve_async`
        to replay.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> journal = Journal(None, {}, {g.key(): {"score": 0.5}}, {(g.key(), 3): {"score": 0.4}})
    >>> journal.take(g), journal.take(g), journal.checkpoint is None
    ({'score': 0.5}, None, True)
    >>> journal.take_rung(g, 3), journal.take_rung(g, 9)
    ({'score': 0.4}, None)
    """

    def __init__(
        self,
        folder: str | os.PathLike | None,
        meta: dict[str, Any],
        reused: dict[str, dict[str, Any]] | None = None,
        rungs: dict[tuple[str, int], dict[str, Any]] | None = None,
        lock: FolderLock | None = None,
        arrivals: list[tuple[int, str, dict[str, Any]]] | None = None,
    ) -> None:
        self.folder = folder
        self.arrivals = list(arrivals or [])
        self.meta = meta
        self.reused = dict(reused or {})
        self.rungs = dict(rungs or {})
        self.lock = lock

    @property
    def search_id(self) -> str | None:
        """The id on this search's journal lines (``meta["search_id"]``)."""
        return self.meta.get("search_id")

    def take(self, genome: Genome) -> dict[str, Any] | None:
        """The journaled final result of ``genome`` (once), or None if it must be trained.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> journal = Journal(None, {}, reused={g.key(): {"score": 0.5}})
        >>> journal.take(g), journal.take(g)
        ({'score': 0.5}, None)
        """
        return self.reused.pop(genome.key(), None)

    def take_rung(self, genome: Genome, budget: int) -> dict[str, Any] | None:
        """The journaled result of ``genome``'s rung of ``budget`` epochs (once), or None.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> journal = Journal(None, {}, rungs={(g.key(), 3): {"score": 0.4}})
        >>> journal.take_rung(g, 9), journal.take_rung(g, 3), journal.take_rung(g, 3)
        (None, {'score': 0.4}, None)
        """
        return self.rungs.pop((genome.key(), int(budget)), None)

    def record(self, generation: int, genome: Genome, result: Mapping[str, Any]) -> None:
        """Journal one candidate's final result (nothing without a folder, or if skipped).

        Examples
        --------
        >>> import tempfile
        >>> from skevonas import Genome, LayerGene
        >>> tmp = tempfile.TemporaryDirectory()
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> journal = Journal(tmp.name, {"search_id": "s1"})
        >>> journal.record(0, g, {"score": 0.5, "status": "ok"})
        >>> [e.result for e in read_journal(tmp.name, "s1")]
        [{'score': 0.5, 'status': 'ok'}]
        >>> tmp.cleanup()
        """
        if self.folder is not None and result.get("status") != "skipped":
            append_result(self.folder, generation, genome, result, search_id=self.search_id)

    def record_rung(
        self, generation: int, genome: Genome, budget: int, result: Mapping[str, Any]
    ) -> None:
        """Journal the result of one rung of ``budget`` epochs, without its snapshot.

        Examples
        --------
        >>> import tempfile
        >>> from skevonas import Genome, LayerGene
        >>> tmp = tempfile.TemporaryDirectory()
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> journal = Journal(tmp.name, {"search_id": "s1"})
        >>> journal.record_rung(0, g, 3, {"score": 0.4, "status": "ok", "snapshot": b"..."})
        >>> [(e.budget, e.result) for e in read_journal(tmp.name, "s1")]
        [(3, {'score': 0.4, 'status': 'ok'})]
        >>> tmp.cleanup()
        """
        self._append(generation, genome, result, budget=budget)

    def record_arrival(
        self, generation: int, ticket: int, genome: Genome, budget: int | None, result: Mapping
    ) -> None:
        """Journal the arrival of task ``ticket`` of an asynchronous search, without its snapshot.

        Examples
        --------
        >>> import tempfile
        >>> from skevonas import Genome, LayerGene
        >>> tmp = tempfile.TemporaryDirectory()
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
        >>> journal = Journal(tmp.name, {"search_id": "s1"})
        >>> journal.record_arrival(0, 5, g, 3, {"score": 0.4, "status": "ok", "snapshot": b""})
        >>> [(e.ticket, e.budget, e.result) for e in read_journal(tmp.name, "s1")]
        [(5, 3, {'score': 0.4, 'status': 'ok'})]
        >>> tmp.cleanup()
        """
        self._append(generation, genome, result, budget=budget, ticket=ticket)

    def _append(self, generation: int, genome: Genome, result: Mapping, **where: Any) -> None:
        # a line without the snapshot; nothing without a folder, or for a skipped task
        if self.folder is not None and result.get("status") != "skipped":
            plain = {k: v for k, v in result.items() if k != "snapshot"}
            append_result(self.folder, generation, genome, plain, search_id=self.search_id, **where)

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
        """What :func:`~.generational.evolve` calls after each generation, or None."""
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
