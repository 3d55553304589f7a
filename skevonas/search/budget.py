"""The time budget of one fit: when it must end, and when its search must end.

The estimator's ``max_time`` bounds the whole ``fit``: the search, then the
finalists' cross-validation and the refit of the final model's members on
all the data (:class:`FinalStage`). A :class:`SearchBudget` is the one
object that knows both ends; the search's pipeline holds it:

- ``end`` is when ``fit`` must be done; the final stage stops there.
- ``search_end`` is when the search must be done. It starts at ``end`` and
  moves earlier as the search learns what the final stage will cost
  (:meth:`SearchBudget.keep_for_final`): whenever a candidate finishes its
  full budget, the final stage of the current best genomes is estimated
  from their own training times, and ``search_end`` is that much (times a
  margin) before ``end``.
- Candidates read ``search_end`` when they start and, while they train,
  from ``deadline_file`` after every epoch, so a moved end reaches the
  workers on this machine (a remote Dask worker keeps the end it started
  with).
- :meth:`SearchBudget.hook` is the search callback that feeds it the
  results and stops the search at the end of a generation once
  ``search_end`` has passed.

Nothing else moves the end: no settings function and no callback the user
sees.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING

from ..evolution.callbacks import SearchCallback

if TYPE_CHECKING:
    from ..evolution.records import EvaluationRecord, SearchState
    from ..spaces.genome import Genome

__all__ = ["FinalPlan", "FinalStage", "SearchBudget"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinalStage:
    """What follows the search: the finalists' cross-validation and the refits.

    Parameters
    ----------
    finalists : int, default=1
        How many of the best distinct genomes go on to the final stage.
    folds : int or None, default=None
        Folds of their cross-validation (None: none, the best holdout
        score wins alone).
    members : int, default=1
        At most this many finalists are refitted (the ensemble's size).
    calibrate : bool, default=False
        Fit a temperature on the final model's out-of-fold probabilities
        (:func:`~skevonas.training.calibration.fit_temperature`); it costs
        no training.

    Examples
    --------
    >>> FinalStage(finalists=3, folds=3).members
    1
    """

    finalists: int = 1
    folds: int | None = None
    members: int = 1
    calibrate: bool = False


@dataclass(frozen=True)
class FinalPlan:
    """How the final stage runs, decided from measured costs once the search is over.

    Parameters
    ----------
    folds : int or None
        Folds of the finalists' cross-validation; None: it does not run
        (not asked for, a single finalist, or no time for it).
    fold_end : float or None, default=None
        A :func:`time.time` value by which the folds must end, so that the
        refit still fits in ``max_time``; None: no limit.
    seconds : tuple of float or None, default=None
        What the folds and then the refits should take, from the finalists'
        own training times; None: not known (nothing measured).
    note : str or None, default=None
        Why the cross-validation was planned away (said once, as information).

    Examples
    --------
    >>> FinalPlan(folds=5).note is None
    True
    """

    folds: int | None
    fold_end: float | None = None
    seconds: tuple[float, float] | None = None
    note: str | None = None


class SearchBudget:
    """The time budget of one fit (see the module docstring); None ``max_time``: no budget.

    Use it as a context manager while the search runs (it keeps
    ``deadline_file``).

    One refit of a genome is estimated from its own training: its time per
    epoch, times the epochs the refit trains, times ``scale`` (all the data
    over the internal training part). With two finalists or more and
    ``folds``, each finalist trains ``folds`` folds of ``(folds - 1) /
    folds`` of that; then the ``members`` costliest finalists are refitted.
    Without ``folds`` the best score wins alone: its refit is all there is.
    Each of the two stages runs on ``workers`` in parallel, as long as its
    longest-first schedule takes; their sum, times ``margin``, is kept.

    Parameters
    ----------
    max_time : float or None
        Seconds for the whole fit.
    start : float or None, default=None
        When the fit began (a :func:`time.time` value); None: now.
    final : FinalStage, default=FinalStage()
        What follows the search.
    scale : float, default=1.0
        Samples of a refit over samples of a candidate's training.
    workers : int, default=1
        Trainings that run at once.
    full_budget : bool, default=True
        The refit trains as many epochs as the candidate did (a fixed epoch
        budget), not the epoch at which it peaked (early stopping).
    margin : float, default=1.5
        The estimate is multiplied by this, for the candidates still in
        flight when the search's time is up (they stop only at their next
        epoch end) and the noise of a shared machine.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> budget = SearchBudget(100.0, start=900.0, scale=1.25, margin=1.0, full_budget=False)
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> result = {"score": 0.9, "status": "ok", "fit_time": 8.0, "epochs": 10, "best_epoch": 5}
    >>> budget.keep_for_final(g, result)
    >>> budget.end, budget.search_end  # 0.8 s per epoch, 5 epochs, 1.25 times the data: 5 s kept
    (1000.0, 995.0)

    Two finalists, 3-fold cross-validation, both refitted, on two workers:
    the folds take 3 rounds of 10 x 2/3 s, then one round of refits (10 s):

    >>> budget = SearchBudget(100.0, start=900.0, final=FinalStage(2, 3, 2), workers=2,
    ...                       margin=1.0)
    >>> h = Genome("mlp", [LayerGene("dense", {"units": 16})])
    >>> moved = []
    >>> for genome in (g, h):
    ...     budget.keep_for_final(genome, {**result, "fit_time": 10.0})
    ...     moved.append(budget.search_end)
    >>> moved  # one finalist: its refit only; then folds and refits of two
    [990.0, 970.0]
    """

    def __init__(
        self,
        max_time: float | None,
        *,
        start: float | None = None,
        final: FinalStage = FinalStage(),
        scale: float = 1.0,
        workers: int = 1,
        full_budget: bool = True,
        margin: float = 1.5,
    ) -> None:
        self.max_time = max_time
        began = time.time() if start is None else float(start)
        self.end = None if max_time is None else began + float(max_time)
        self.final = final
        self.scale = scale
        self.workers = max(1, int(workers))
        self.full_budget = full_budget
        self.margin = margin
        self._search_end = self.end
        self._file: str | None = None
        self._best: dict[str, tuple[float, float]] = {}  # genome key: (score, refit seconds)

    # ------------------------------------------------------------------ the two ends
    @property
    def search_end(self) -> float | None:
        """When the search must be done (a :func:`time.time` value), or None."""
        return self._search_end

    @property
    def deadline_file(self) -> str | None:
        """The file holding ``search_end`` for candidates training now (inside ``with``)."""
        return self._file

    def over(self) -> bool:
        """Whether ``search_end`` has passed.

        Examples
        --------
        >>> SearchBudget(None).over(), SearchBudget(0.0, start=0.0).over()
        (False, True)
        """
        return self._search_end is not None and time.time() >= self._search_end

    def _move(self, search_end: float) -> None:
        self._search_end = search_end
        if self._file is not None:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self._file))
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(repr(float(search_end)))
            os.replace(tmp, self._file)

    def __enter__(self) -> SearchBudget:
        if self.end is not None and self._file is None:
            fd, self._file = tempfile.mkstemp(prefix="skevonas-deadline-")
            os.close(fd)
            self._move(self._search_end if self._search_end is not None else self.end)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                os.remove(self._file)
            self._file = None

    # ------------------------------------------------------------------ the reserve
    def keep_for_final(self, genome: Genome, result: Mapping) -> None:
        """Move ``search_end`` for a candidate's full-budget ``result``, if it is a finalist now.

        Results of a rung of successive halving that may go on
        (``stopped_by == "budget"``) and failed or skipped results change
        nothing; nor does a genome met before.

        Examples
        --------
        >>> from skevonas import Genome
        >>> budget = SearchBudget(100.0, start=0.0, margin=1.0)
        >>> result = {"score": 0.9, "status": "ok", "fit_time": 10.0, "epochs": 10}
        >>> budget.keep_for_final(Genome("mlp", []), {**result, "stopped_by": "budget"})
        >>> budget.search_end  # a rung that may go on: nothing kept
        100.0
        >>> budget.keep_for_final(Genome("mlp", []), result)
        >>> budget.search_end
        90.0
        """
        if result.get("status", "ok") != "ok" or result.get("stopped_by") == "budget":
            return
        self._consider(float(result.get("score", math.nan)), result, genome)

    def keep_for_records(self, records: Iterable[EvaluationRecord]) -> None:
        """:meth:`keep_for_final` for the full-budget records a resumed search holds.

        Examples
        --------
        >>> from skevonas import Genome
        >>> from skevonas.evolution import EvaluationRecord
        >>> info = {"fit_time": 4.0, "epochs": 4}
        >>> budget = SearchBudget(100.0, start=0.0, margin=1.0)
        >>> budget.keep_for_records([EvaluationRecord(Genome("mlp", []), 0.8, 0, 0, info=info)])
        >>> budget.search_end
        96.0
        """
        self._best = {}
        for record in records:
            if record.ok:
                self._consider(record.score, record.info, record.genome)

    def _consider(self, score: float, info: Mapping, genome: Genome) -> None:
        key = genome.key()
        if not math.isfinite(score) or key in self._best:
            return
        epochs = max(1, int(info.get("epochs") or 1))
        per_epoch = float(info.get("fit_time") or 0.0) / epochs
        refit_epochs = epochs if self.full_budget else int(info.get("best_epoch") or epochs)
        top = dict(
            sorted(
                {**self._best, key: (score, per_epoch * refit_epochs * self.scale)}.items(),
                key=lambda item: -item[1][0],
            )[: max(1, self.final.finalists)]
        )
        if key not in top:
            return
        self._best = top
        seconds = self.final_seconds()
        if self.end is not None and seconds is not None:
            reserve = sum(seconds) * self.margin
            logger.debug("keeping %.1f s for the final stage of %d finalist(s)", reserve, len(top))
            self._move(self.end - reserve)

    def final_seconds(self, stage: FinalStage | None = None) -> tuple[float, float] | None:
        """Seconds of the finalists' folds and of the refits, as scheduled on the workers.

        Estimated from the best genomes' own training times so far (the
        ``final.finalists`` best), for ``stage`` (None: ``final``). None
        before any full-budget result.

        Examples
        --------
        >>> from skevonas import Genome
        >>> budget = SearchBudget(None, margin=1.0)
        >>> budget.final_seconds() is None
        True
        >>> budget.keep_for_final(Genome("mlp", []), {"score": 0.9, "fit_time": 4.0, "epochs": 4})
        >>> budget.final_seconds()
        (0.0, 4.0)
        """
        if not self._best:
            return None
        stage = self.final if stage is None else stage
        costs = [cost for _, cost in self._best.values()]  # best score first
        fold_costs: list[float] = []
        refits = costs[:1]  # without cross-validation the best score wins alone
        if stage.folds and len(costs) > 1:
            share = (stage.folds - 1) / stage.folds
            fold_costs = [c * share for c in costs for _ in range(stage.folds)]
            refits = sorted(costs, reverse=True)[: max(1, stage.members)]
        return _makespan(fold_costs, self.workers), _makespan(refits, self.workers)

    def refit_seconds(self, genomes: Iterable[Genome]) -> float | None:
        """Seconds the refits of ``genomes`` should take on the workers; None if one is unmeasured.

        Examples
        --------
        >>> from skevonas import Genome
        >>> budget = SearchBudget(None, margin=1.0)
        >>> g = Genome("mlp", [])
        >>> budget.keep_for_final(g, {"score": 0.9, "fit_time": 4.0, "epochs": 4})
        >>> budget.refit_seconds([g]), budget.refit_seconds([Genome("cnn1d", [])])
        (4.0, None)
        """
        costs = [self._best.get(genome.key()) for genome in genomes]
        if any(cost is None for cost in costs):
            return None
        return _makespan([cost[1] for cost in costs if cost is not None], self.workers)

    def plan_final(
        self, n_finalists: int, stage: FinalStage | None = None, now: float | None = None
    ) -> FinalPlan:
        """How the final ``stage`` (None: ``final``) of ``n_finalists`` runs, from measured costs.

        The finalists' cross-validation runs when it is asked for, there are
        two finalists or more, and, with ``max_time``, its folds and then
        the refit (with ``margin``) fit in the time left; the folds must
        then end by ``fold_end``. Otherwise the plan skips it, and its
        ``note`` says why and what that costs.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> budget = SearchBudget(100.0, start=0.0, final=FinalStage(2, folds=3), margin=1.0)
        >>> result = {"score": 0.9, "status": "ok", "fit_time": 9.0, "epochs": 10}
        >>> for units in (8, 16):
        ...     budget.keep_for_final(Genome("mlp", [LayerGene("dense", {"units": units})]), result)
        >>> budget.plan_final(2, now=40.0)  # 3 x 2 folds of 6 s, then 9 s of refit
        FinalPlan(folds=3, fold_end=91.0, seconds=(36.0, 9.0), note=None)
        >>> plan = budget.plan_final(2, now=80.0)
        >>> plan.folds, plan.seconds
        (None, (0.0, 9.0))
        >>> print(plan.note)  # doctest: +NORMALIZE_WHITESPACE
        the finalists' cross-validation was skipped: 2 finalists x 3 folds would take
        about 36 s and the refit 9 s, with 20 s of max_time left; the best holdout
        score picks the final model, a noisier choice than a cross-validated score
        """
        stage = self.final if stage is None else stage
        folds = stage.folds if stage.folds and n_finalists > 1 else None
        seconds = self.final_seconds(replace(stage, folds=folds))
        if seconds is None or folds is None or self.end is None:
            return FinalPlan(folds, seconds=seconds)
        fold_s, refit_s = seconds
        left = self.end - (time.time() if now is None else now)
        if fold_s + refit_s * self.margin <= left:
            return FinalPlan(folds, self.end - refit_s * self.margin, seconds)
        alone = self.final_seconds(replace(stage, folds=None))
        note = (
            f"the finalists' cross-validation was skipped: {n_finalists} finalists x "
            f"{folds} folds would take about {fold_s:.0f} s and the refit {refit_s:.0f} s, "
            f"with {max(0.0, left):.0f} s of max_time left; the best holdout score picks "
            "the final model, a noisier choice than a cross-validated score"
        )
        return FinalPlan(None, seconds=alone, note=note)

    def hook(self) -> SearchCallback:
        """The search callback that feeds this budget and stops the search at ``search_end``.

        Without ``max_time`` it only measures the finalists' costs (for
        :meth:`plan_final` and the progress display).

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import mlp_space
        >>> from skevonas.evolution import GASettings, SerialRunner, evolve
        >>> runner = SerialRunner(lambda ticket, snapshot: {"score": 0.5})
        >>> state = evolve(mlp_space().bind((4,)), runner, GASettings(4, 10),
        ...                rng=np.random.default_rng(0), callbacks=[SearchBudget(0).hook()])
        >>> len(state.history), state.stop_reason
        (1, 'max_time of 0 s reached')
        """
        return _BudgetHook(self)


class _BudgetHook(SearchCallback):
    """Feeds a :class:`SearchBudget` the search's results; stops the search at its end."""

    def __init__(self, budget: SearchBudget) -> None:
        self.budget = budget

    def on_search_begin(self, state: SearchState) -> None:
        self.budget.keep_for_records(state.records)  # a resumed search has finalists already

    def on_evaluation_end(self, state: SearchState, genome: Genome, result: Mapping) -> None:
        # the result itself: records of a generation are made once it is over
        self.budget.keep_for_final(genome, result)

    def on_generation_end(self, state: SearchState) -> bool | None:
        if self.budget.over():
            state.stop_reason = f"max_time of {self.budget.max_time:g} s reached"
            return True
        return None


def _makespan(durations: list[float], workers: int) -> float:
    """How long ``durations`` take on ``workers``, longest first to the least busy.

    Examples
    --------
    >>> _makespan([3.0, 2.0, 2.0], workers=2)
    4.0
    """
    loads = [0.0] * max(1, workers)
    for duration in sorted(durations, reverse=True):
        loads[loads.index(min(loads))] += duration
    return max(loads)
