"""The search's pipeline: trains the candidates both loops ask for, on one worker pool.

A :class:`CandidatePipeline` holds what every training of one ``fit`` is done with and where:
the shared training / validation parts, the recipe, the seed entropy, the device plan, the time
budget, the journal and the worker pool. It is the :class:`~skevonas.evolution.runner.Runner` of
both loops, so that everything about how a candidate is scheduled, journaled and resumed is
written once:

- :meth:`~CandidatePipeline.submit` turns a loop's
  :class:`~skevonas.evolution.runner.Ticket` (a genome and a budget of
  epochs: a full training, or one rung of successive halving going on from
  a snapshot) into the one :class:`~skevonas.training.tasks.CandidateTask`
  of that genome and budget (:meth:`~CandidatePipeline.candidate_task`: its
  seed, holdout, deadline and threads) and queues it on the
  :class:`~skevonas.search.pool.WorkerPool`, most expensive first;
- :meth:`~CandidatePipeline.next_result` takes the next result, journals it
  (:meth:`~skevonas.store.journal.Journal.record_arrival`) before the loop
  sees it, and hands it back;
- a resumed search puts a :class:`~skevonas.evolution.runner.Replay` in
  front of it (:func:`~skevonas.search.strategies.run_search`), which
  answers the journaled tickets.

The generational loop is this pipeline with a barrier at the end of each generation (and
rung); the asynchronous loop submits a ticket whenever a worker frees. After the search, the
same pool trains the finalists' folds (:meth:`~CandidatePipeline.cross_validate`) and the final
members (:meth:`~CandidatePipeline.refit_all`). The worker is a constructor argument, so the
pipeline is tested with fake ones.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from skorch import NeuralNetClassifier

from ..evolution.runner import Ticket
from ..spaces.builders.layers import channel_stats
from ..spaces.genome import Genome
from ..spaces.networks import estimate_macs
from ..store.journal import Journal
from ..store.weights import WEIGHTS_DIR, WeightStore
from ..training.candidate import CandidateData, Split, candidate_seed, fit_final
from ..training.devices import DevicePlan, resolve_devices, threads_per_worker
from ..training.recipe import Recipe
from ..training.tasks import (
    CandidateTask,
    RefitPlan,
    RefitTask,
    Worker,
    run_refit,
    run_task,
    warn_if_failed,
)
from .budget import FinalStage, SearchBudget
from .lineage import Lineage
from .pool import WorkerPool, Workers

__all__ = ["CandidatePipeline", "RefitPlan"]

logger = logging.getLogger(__name__)


class CandidatePipeline:
    """Trains and scores the candidates of a search, in parallel; one per ``fit``.

    Use it as a context manager (it holds the workers, the budget's deadline
    file and the journal's lock), and hand it to a loop as its runner.

    Parameters
    ----------
    data : CandidateData
        The internal training and validation parts.
    recipe : Recipe
        How every candidate is trained.
    entropy : int
        The search's root seed; each candidate's seed derives from it and its genome.
    workers : Workers or None, default=None
        Devices, workers and threads (None: ``Workers()``, one CPU worker).
    journal : Journal or None, default=None
        Where every result is written as it arrives; closed (its folder's lock released) when the
        pipeline's ``with`` block ends.
    max_time : float or None, default=None
        Seconds for the whole fit: the pipeline keeps the fit's time budget (:attr:`budget`, a
        :class:`~skevonas.search.budget.SearchBudget`): candidates still training at its search end
        stop, candidates not started are skipped, and the search ends early enough for ``final``.
    started : float or None, default=None
        When the fit began (a :func:`time.time` value); None: now.
    final : FinalStage or None, default=None
        What follows the search, which the budget keeps time for (None: ``FinalStage()``, the refit
        of the best genome alone).
    worker : callable, default=run_task
        ``worker(task, data) -> result``; top-level and picklable when ``n_jobs`` is not 1.
    inherit : float, default=0.0
        Weight inheritance (:attr:`lineage`, a :class:`~skevonas.search.lineage.Lineage`), when not
        0: children start from a trained parent's weights and train on its holdout, for this share
        of ``recipe.max_epochs``; every candidate's weights are kept, in the journal's folder too
        (with ``max_time`` they are kept anyway, for the final stage).
    weights : WeightStore or None, default=None
        With ``inherit``, the store to go on with (an in-memory warm start); None: a new one (in
        the journal's folder, whose files it reads).
    low_data : (int, float) or None, default=None
        Fidelity in data: every loop ticket's first ``low_data[0]`` epochs train on that share of
        its training part (never the folds'; see
        :func:`~skevonas.training.candidate.evaluate_candidate`).

    Examples
    --------
    With a fake worker whose score is the genome's first layer width, and
    the generational loop's barrier:

    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evolution.runner import Ticket, run_batch
    >>> from skevonas.training.candidate import CandidateData
    >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
    >>> def fake(task, data):
    ...     return {"score": task.genome.layers[0]["units"] / 100, "status": "ok"}
    >>> genomes = [Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (8, 16)]
    >>> with CandidatePipeline(data, Recipe(), entropy=0, worker=fake) as pipeline:
    ...     done = run_batch(pipeline, [(Ticket(i, g), None) for i, g in enumerate(genomes)])
    ...     sorted((ticket.number, result["score"]) for ticket, result in done)
    [(0, 0.08), (1, 0.16)]
    """

    def __init__(
        self,
        data: CandidateData,
        recipe: Recipe,
        *,
        entropy: int,
        workers: Workers | None = None,
        journal: Journal | None = None,
        max_time: float | None = None,
        started: float | None = None,
        final: FinalStage | None = None,
        worker: Worker = run_task,
        inherit: float = 0.0,
        weights: WeightStore | None = None,
        low_data: tuple[int, float] | None = None,
    ) -> None:
        self.data, self.recipe, self.low_data = data, recipe, low_data
        self.entropy = entropy
        self.workers = workers = workers or Workers()
        self.devices = DevicePlan.for_search(
            resolve_devices(workers.device), workers.candidates_per_device
        )
        self.n_jobs = self.devices.n_workers(workers.n_jobs)
        self.n_threads = threads_per_worker(effective_n_jobs(self.n_jobs), workers.torch_threads)
        self.budget = SearchBudget(
            max_time,
            start=started,
            final=final or FinalStage(),
            scale=self.refit_scale,
            workers=max(1, effective_n_jobs(self.n_jobs)),
            full_budget=recipe.patience is None,
        )
        self.journal = journal if journal is not None else Journal(None, {})
        self.worker = worker
        self.lineage: Lineage | None = None
        if inherit or max_time is not None:  # with max_time, a fallback for the final stage
            folder = self.journal.folder
            store = weights or WeightStore(None if folder is None else Path(folder) / WEIGHTS_DIR)
            self.lineage = Lineage(store, own_split=self._own_split, inherit=inherit)
        self._pool: WorkerPool | None = None  # while inside the `with` block

    # ------------------------------------------------------------------ workers
    def __enter__(self) -> CandidatePipeline:
        self.budget.__enter__()
        pool = self.devices.pool
        resources = {"GPU": 1 / pool.per_device} if pool is not None else None
        self._pool = WorkerPool(self.n_jobs, shared=[self.data], resources=resources)
        self._pool.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._pool is not None:
                self._pool.__exit__(kind, exc, tb)
        finally:
            self._pool = None
            try:
                self.budget.__exit__(kind, exc, tb)
            finally:
                self.journal.close()  # the search is over: release the folder's lock

    @property
    def pool(self) -> WorkerPool:
        """The worker pool (inside the ``with`` block only)."""
        if self._pool is None:
            raise RuntimeError(
                "use the CandidatePipeline as a context manager: `with pipeline: ...`"
            )
        return self._pool

    @property
    def capacity(self) -> int:
        """Trainings that run at once (the pool's workers)."""
        return self.pool.capacity

    @property
    def refit_scale(self) -> float:
        """Samples of a refit (all the data) over samples of a candidate's training part."""
        n_train = len(self.data.y_train)
        return (n_train + len(self.data.y_valid)) / max(1, n_train)

    # ------------------------------------------------------------------ the runner
    def submit(self, ticket: Ticket, snapshot: bytes | None) -> None:
        """Queue the training ``ticket`` asks for (from ``snapshot``, if any).

        Its task (:meth:`candidate_task`) trains ``ticket.budget`` epochs in
        all, or the recipe's ``max_epochs`` when the budget is None, and keeps
        a snapshot to go on from when that is below ``max_epochs``.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome
        >>> from skevonas.evolution.runner import Ticket
        >>> from skevonas.training.candidate import CandidateData
        >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
        ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
        >>> def fake(task, data):
        ...     return {"score": 0.5, "status": "ok", "epochs": task.epochs,
        ...             "kept": task.keep_snapshot}
        >>> with CandidatePipeline(data, Recipe(max_epochs=9), entropy=0, worker=fake) as run:
        ...     run.submit(Ticket(4, Genome("mlp", []), rung=0, budget=3), None)
        ...     run.next_result()
        (4, {'score': 0.5, 'status': 'ok', 'epochs': 3, 'kept': True})
        """
        full = self.recipe.max_epochs
        epochs = full if ticket.budget is None else int(ticket.budget)
        task = self.candidate_task(
            ticket.genome, ticket.number, epochs, snapshot=snapshot, keep_snapshot=epochs < full
        )
        task = replace(task, low_data=self.low_data)
        if self.lineage is not None:
            task = self.lineage.prepare(task, ticket, snapshot)
        logger.debug(
            "%s: training up to %d epochs (ticket %d)",
            ticket.genome.short_key(),
            epochs,
            ticket.number,
        )
        self.pool.submit(ticket, self.worker, task, self.data, cost=self._cost(ticket.genome))

    def next_result(self) -> tuple[int, Mapping[str, Any]]:
        """Wait for a ticket to finish; journal its result; return ``(ticket number, result)``.

        A failed result also raises a :class:`RuntimeWarning` that names the
        candidate (the search goes on).

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from skevonas import Genome
        >>> from skevonas.evolution.runner import Ticket
        >>> from skevonas.store import Journal, load_journal
        >>> from skevonas.training.candidate import CandidateData
        >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
        ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
        >>> tmp = tempfile.TemporaryDirectory()
        >>> fake = lambda task, data: {"score": 0.5, "status": "ok"}
        >>> with CandidatePipeline(data, Recipe(), entropy=0, journal=Journal(tmp.name, {}),
        ...                        worker=fake) as run:
        ...     run.submit(Ticket(0, Genome("mlp", [])), None)
        ...     run.next_result()
        (0, {'score': 0.5, 'status': 'ok'})
        >>> list(load_journal(tmp.name).values())  # journaled as it arrived
        [{'score': 0.5, 'status': 'ok'}]
        >>> tmp.cleanup()
        """
        ticket, result = self.pool.next()
        warn_if_failed(ticket.genome, result)
        if self.lineage is not None:  # kept on disk before the journal names the result
            result = self.lineage.arrived(ticket, result)
        self.journal.record_arrival(ticket, result)
        return ticket.number, result

    def _own_split(self, genome: Genome) -> Split | None:
        """The holdout ``genome`` trains on when it inherits nothing (None: the shared one)."""
        return Split(candidate_seed(self.entropy, genome)) if self.recipe.reshuffle else None

    def candidate_task(
        self,
        genome: Genome,
        slot: int,
        epochs: int,
        *,
        snapshot: bytes | None = None,
        keep_snapshot: bool = False,
        split: Split | None = None,
        return_proba: bool = False,
    ) -> CandidateTask:
        """The task that trains ``genome`` for ``epochs`` epochs in all, as this search trains.

        The one constructor of a candidate's task, for the loops' tickets
        and the finalists' folds. Its seed derives from the search's entropy
        and the genome; with reshuffled holdouts (``recipe.reshuffle``) its
        holdout is drawn from that seed, so every rung of a candidate sees
        the same split; ``split`` (a fold) overrides it.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome
        >>> from skevonas.training.candidate import CandidateData
        >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.zeros((2, 2)),
        ...                      np.array([0, 1]), n_classes=2)
        >>> task = CandidatePipeline(data, Recipe(), entropy=0).candidate_task(
        ...     Genome("mlp", []), slot=0, epochs=3)
        >>> task.epochs, task.snapshot is None, task.split == Split(task.seed)
        (3, True, True)
        """
        seed = candidate_seed(self.entropy, genome)
        if split is None:
            split = self._own_split(genome)
        return CandidateTask(
            genome=genome,
            recipe=self.recipe,
            seed=seed,
            devices=self.devices,
            slot=slot,
            n_threads=self.n_threads,
            deadline=self.budget.search_end,
            epochs=epochs,
            snapshot=snapshot,
            keep_snapshot=keep_snapshot,
            deadline_file=self.budget.deadline_file,
            split=split,
            return_proba=return_proba,
        )

    def _cost(self, genome: Genome) -> int:
        try:
            return estimate_macs(genome, self.data.X_train.shape[1:], self.data.n_classes)
        except Exception:  # noqa: BLE001 - the worker will report what is wrong
            return 0

    # ------------------------------------------------------------------ finalists
    def cross_validate(
        self,
        genomes: Sequence[Genome],
        n_folds: int,
        seed: int,
        *,
        alongside: Mapping[int, RefitPlan] | None = None,
        deadline: float | None = None,
        progress: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Score each genome by stratified ``n_folds``-fold cross-validation on all the data.

        Every genome is trained on the same folds of the search's samples
        (training part, then validation part: :meth:`CandidateData.samples
        <skevonas.training.candidate.CandidateData.samples>`), with its search seed,
        for the full budget; all folds of all genomes run in parallel, the
        most expensive first.

        With ``alongside``, the genomes it names are also refitted on all the
        data, in the same batch as the folds: a speculative refit of a likely
        winner before the winner is known, which fills the workers that the
        folds' tail leaves idle (see :meth:`can_refit_alongside`).

        Parameters
        ----------
        genomes : sequence of Genome
            The finalists.
        n_folds : int
            Folds (at least 2).
        seed : int
            Seeds the folds.
        alongside : mapping of int to RefitPlan, or None, default=None
            ``{i: plan}``: refit ``genomes[i]`` under ``plan`` beside the folds.
        deadline : float or None, default=None
            A :func:`time.time` value: folds not started by then are skipped, and folds training
            then stop after their epoch (the search's own end does not apply to the folds).
        progress : callable or None, default=None
            Called with no arguments as each fold or refit ends.

        Returns
        -------
        results : list of dict
            Per genome: ``cv_score`` (the mean fold score; NaN if a fold
            failed or was skipped), ``cv_scores`` (per fold), ``oof_proba``
            (out-of-fold class probabilities of every sample, an array, or
            None) and ``errors``; the dicts of the genomes refitted
            ``alongside`` also have ``net``: the refitted net, or None if that
            refit failed.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.training.candidate import CandidateData
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(40, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
        >>> data = CandidateData(X[:30], y[:30], X[30:], y[30:], 2)
        >>> with CandidatePipeline(data, Recipe(max_epochs=2), entropy=0) as pipeline:
        ...     [result] = pipeline.cross_validate([genome], n_folds=3, seed=0)
        >>> len(result["cv_scores"]), result["oof_proba"].shape
        (3, (40, 2))
        """
        pool = self.pool
        n_samples = len(self.data.y_train) + len(self.data.y_valid)
        share = (n_folds - 1) / n_folds
        slot = 0
        for g, genome in enumerate(genomes):
            for fold in range(n_folds):
                task = self.candidate_task(
                    genome,
                    slot,
                    self.recipe.max_epochs,
                    split=Split(seed, n_folds, fold),
                    return_proba=True,
                )
                task = replace(task, deadline=deadline, deadline_file=None)
                pool.submit(
                    ("fold", g, fold), self.worker, task, self.data, cost=self._cost(genome) * share
                )
                slot += 1
        for g, plan in (alongside or {}).items():
            stats = channel_stats(plan.X) if plan.standardize else None
            refit = self.refit_task(genomes[g], plan, 0, stats)
            pool.submit(("refit", g, 0), run_refit, refit, cost=self._cost(genomes[g]))
        scores = [[math.nan] * n_folds for _ in genomes]
        oof = [np.zeros((n_samples, self.data.n_classes)) for _ in genomes]
        errors: list[list[str]] = [[] for _ in genomes]
        nets: dict[int, Any] = {}
        for _ in range(slot + len(alongside or {})):
            (kind, g, fold), result = pool.next()
            if progress is not None:
                progress()
            if kind == "refit":
                nets[g] = result.get("net")
                if nets[g] is None:
                    logger.warning("the refit alongside the folds failed: %s", result.get("error"))
                continue
            if result["status"] != "ok":
                errors[g].append(str(result.get("error", result["status"])))
                continue
            scores[g][fold] = float(result["score"])
            valid = self.data.split_indices(Split(seed, n_folds, fold))[1]
            oof[g][valid] = result["valid_proba"]
        results = []
        for g in range(len(genomes)):
            complete = all(math.isfinite(v) for v in scores[g])
            results.append(
                {
                    "cv_score": float(np.mean(scores[g])) if complete else math.nan,
                    "cv_scores": scores[g],
                    "oof_proba": oof[g] if complete else None,
                    "errors": errors[g],
                }
            )
        for g in nets:
            results[g]["net"] = nets[g]
        return results

    def can_refit_alongside(self) -> bool:
        """Whether a refit in a worker trains exactly as :meth:`refit` would in this process.

        True with more than one worker, no GPU slots, and as many torch
        threads per worker as :meth:`refit` uses: then a refit started
        alongside the finalists' folds (``cross_validate(...,
        alongside=...)``) gives the same net as one started after them,
        only sooner.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas.training.candidate import CandidateData
        >>> data = CandidateData(np.zeros((4, 3)), np.array([0, 1, 0, 1]),
        ...                      np.zeros((2, 3)), np.array([0, 1]), n_classes=2)
        >>> CandidatePipeline(data, Recipe(), entropy=0, workers=Workers(n_jobs=1)
        ...                   ).can_refit_alongside()
        False
        """
        return (
            effective_n_jobs(self.n_jobs) > 1
            and self.devices.pool is None
            and self.n_threads == threads_per_worker(1, self.workers.torch_threads)
        )

    def refit_task(self, genome: Genome, plan: RefitPlan, slot: int, stats: Any) -> RefitTask:
        """The task that refits ``genome`` under ``plan``; ``stats``: ``plan.X``'s, or None.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome
        >>> from skevonas.training.candidate import CandidateData
        >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.zeros((2, 2)),
        ...                      np.array([0, 1]), n_classes=2)
        >>> plan = RefitPlan(np.zeros((6, 2)), np.array([0, 1] * 3), epochs=4, standardize=False,
        ...                  seed=7)
        >>> task = CandidatePipeline(data, Recipe(), entropy=0).refit_task(
        ...     Genome("mlp", []), plan, slot=0, stats=None)
        >>> task.epochs, task.seed, task.n_classes
        (4, 7, 2)
        """
        return RefitTask(
            genome=genome,
            X=plan.X,
            y=plan.y,
            n_classes=self.data.n_classes,
            epochs=plan.epochs,
            input_stats=stats,
            recipe=self._refit_recipe(plan.schedule),
            seed=plan.seed,
            devices=self.devices,
            slot=slot,
            n_threads=self.n_threads,
            stop_at=plan.stop_at,
        )

    # ------------------------------------------------------------------ refit
    def refit_all(
        self,
        genomes: Sequence[Genome],
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: Sequence[int],
        standardize: bool,
        seeds: Sequence[int],
        stop_at: float | None = None,
        progress: Callable[[], None] | None = None,
        schedule: int | None = None,
    ) -> list[NeuralNetClassifier]:
        """Train every genome on all of ``X, y``, in parallel (see :meth:`refit`).

        Parameters
        ----------
        genomes : sequence of Genome
            The members of the final model.
        X, y : ndarray
            All the training data, labels encoded.
        epochs : sequence of int
            Epochs to train, per genome.
        standardize : bool
            Whether the networks standardise their input with the statistics of ``X``.
        seeds : sequence of int
            Training seeds, per genome.
        stop_at : float or None, default=None
            When to stop at the latest.
        progress : callable or None, default=None
            Called with no arguments as each refit ends.
        schedule : int or None, default=None
            The epochs the learning-rate schedule is laid over (a shorter whole schedule); None:
            the recipe's ``max_epochs``.

        Returns
        -------
        nets : list of skorch.NeuralNetClassifier
            The trained nets, in the order of ``genomes``.

        Raises
        ------
        RuntimeError
            If a refit failed.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.training.candidate import CandidateData
        >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> genomes = [Genome("mlp", [LayerGene("dense", {"units": n, "activation": "relu"})])
        ...            for n in (4, 8)]
        >>> pipeline = CandidatePipeline(CandidateData(X[:30], y[:30], X[30:], y[30:], 2),
        ...                              Recipe(), entropy=0)
        >>> with pipeline:
        ...     nets = pipeline.refit_all(genomes, X, y, epochs=[2, 3], standardize=True,
        ...                               seeds=[0, 1])
        >>> [len(net.history) for net in nets]
        [2, 3]
        """
        tick = progress or (lambda: None)
        plans = [
            RefitPlan(X, y, e, standardize, s, stop_at, schedule)
            for e, s in zip(epochs, seeds, strict=True)
        ]
        if len(genomes) == 1 or self._pool is None:
            done = []
            for g, plan in zip(genomes, plans, strict=True):
                done.append(self.refit(g, X, y, **self._refit_options(plan)))
                tick()
            return done
        stats = channel_stats(X) if standardize else None
        # each member keeps statistics of its own (Standardize shares the arrays it gets)
        for slot, (g, plan) in enumerate(zip(genomes, plans, strict=True)):
            self.pool.submit(("refit", slot), run_refit, self.refit_task(g, plan, slot, stats))
        nets: list[Any] = [None] * len(genomes)
        for _ in genomes:
            (_, slot), result = self.pool.next()
            tick()
            if result["status"] != "ok":
                raise RuntimeError(
                    f"the refit of {genomes[slot].short_key()} failed: {result.get('error')}"
                )
            nets[slot] = result["net"]
        return nets

    def refit(
        self,
        genome: Genome,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        standardize: bool,
        seed: int,
        stop_at: float | None = None,
        schedule: int | None = None,
    ) -> NeuralNetClassifier:
        """Train ``genome`` on all of ``X, y`` for ``epochs`` epochs, as the search trains.

        In this process, on the first device, with the threads of one
        worker; ``standardize`` takes the statistics of all of ``X``; past
        ``stop_at`` (a :func:`time.time` value) training ends after the
        current epoch. See :func:`~skevonas.training.candidate.fit_final`.

        Parameters
        ----------
        genome : Genome
            The winner.
        X, y : ndarray
            All the training data, labels encoded.
        epochs, seed : int
            Epochs to train, and the training seed (the fit's refit seed).
        standardize : bool
            Whether the network standardises its input with the statistics of ``X``.
        stop_at : float or None, default=None
            When to stop at the latest.
        schedule : int or None, default=None
            The epochs the learning-rate schedule is laid over; None: ``recipe.max_epochs``.

        Returns
        -------
        net : skorch.NeuralNetClassifier
            The trained net.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.training.candidate import CandidateData
        >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> pipeline = CandidatePipeline(CandidateData(X[:30], y[:30], X[30:], y[30:], 2),
        ...                              Recipe(), entropy=0)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
        >>> net = pipeline.refit(genome, X, y, epochs=2, standardize=True, seed=0)
        >>> len(net.history)
        2
        """
        return fit_final(
            genome,
            X,
            y,
            self.data.n_classes,
            epochs=epochs,
            input_stats=channel_stats(X) if standardize else None,
            recipe=self._refit_recipe(schedule),
            seed=seed,
            device=self.devices.main,
            n_threads=threads_per_worker(1, self.workers.torch_threads),
            stop_at=stop_at,
        )

    def _refit_recipe(self, schedule: int | None) -> Recipe:
        """The recipe of a refit whose schedule is laid over ``schedule`` epochs (None: as is)."""
        return self.recipe if schedule is None else replace(self.recipe, max_epochs=schedule)

    @staticmethod
    def _refit_options(plan: RefitPlan) -> dict[str, Any]:
        """:meth:`refit`'s keyword arguments for ``plan``."""
        names = ("epochs", "standardize", "seed", "stop_at", "schedule")
        return {name: getattr(plan, name) for name in names}
