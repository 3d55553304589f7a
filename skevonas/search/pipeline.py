"""The search engine: trains the candidates that the evolution loop asks for.

A :class:`SearchEngine` holds what every candidate of one ``fit`` is
trained with and where: the shared training / validation parts, the
training settings, the seed entropy, the device plan, the deadline, the
fidelity schedule, the journal and the parallel backend. Its
:meth:`~SearchEngine.evaluate` is the ``evaluate(genomes, generation)``
that :func:`~skevonas.evolution.generational.evolve` takes.

How a generation's genomes become results::

    evolve --genomes--> SearchEngine.evaluate
        journaled before a crash? --> the journaled result, not trained again
        otherwise --> full budget, or successive halving (skevonas.evolution.fidelity)
            --> one CandidateTask per candidate and rung, most expensive first
            --> the worker (run_task -> evaluate_candidate) in parallel
                (skevonas.search.parallel.iter_batch: a dead worker costs one retry)
        each result --> Journal.record --> back to evolve as (index, result)

With successive halving, rung results are journaled too, and a resumed
generation replays the schedule, taking journaled rung results instead of
training. Leaving the ``with`` block closes the journal (and its lock). The
worker is a constructor argument, so the engine is tested with fake ones.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import numpy as np
from joblib import Parallel, effective_n_jobs
from skorch import NeuralNetClassifier

from ..evolution.fidelity import rung_budgets, successive_halving
from ..spaces.builders.layers import channel_stats
from ..spaces.genome import Genome
from ..spaces.networks import estimate_macs
from ..store.resume import Journal
from ..training.candidate import CandidateData, Split, TrainSettings, candidate_seed, fit_final
from ..training.tasks import (
    CandidateTask,
    RefitPlan,
    Worker,
    call,
    refit_task,
    run_task,
    warn_if_failed,
)
from .devices import DevicePlan, resolve_devices, threads_per_worker
from .parallel import iter_batch, share_once, worker_pool

__all__ = ["CandidateTask", "SearchEngine", "run_task"]

logger = logging.getLogger(__name__)


class SearchEngine:
    """Trains and scores the genomes of a search, in parallel; one per ``fit``.

    Use it as a context manager (it holds the workers), and pass its
    :meth:`evaluate` to :func:`~skevonas.evolution.generational.evolve`.

    Parameters
    ----------
    data : CandidateData
        The internal training and validation parts.
    settings : TrainSettings
        How every candidate is trained.
    entropy : int
        The search's root seed; each candidate's seed derives from it and
        its genome.
    device : str or list of str, default="cpu"
        The estimator's ``device`` setting (:func:`~skevonas.search.devices.resolve_devices`).
    candidates_per_device : int, default=1
        Candidates training at once on each GPU.
    n_jobs : int or None, default=None
        Workers, as joblib counts them (with GPUs and None, one per GPU slot).
    torch_threads : int or None, default=1
        Torch threads per candidate (None shares the cores among workers).
    deadline : float or None, default=None
        The search's end (a :func:`time.time` value): candidates still
        training stop, candidates not started are skipped.
    min_epochs : int or None, default=None
        With an int, successive halving over epochs from about ``min_epochs``
        to ``settings.max_epochs`` (:mod:`skevonas.evolution.fidelity`).
    halving_factor : int, default=3
        The ratio between successive budgets.
    protected : collection of str, default=()
        Keys (:meth:`~skevonas.spaces.genome.Genome.key`) of genomes that successive
        halving trains to the full budget whatever their early scores.
    journal : Journal or None, default=None
        Where results (and rung results) are written as they arrive, and
        which journaled results come back without training; closed when the
        engine's ``with`` block ends.
    worker : callable, default=run_task
        ``worker(task, data) -> result``; top-level and picklable when
        ``n_jobs`` is not 1.

    Examples
    --------
    With a fake worker whose score is the genome's first layer width:

    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.training.candidate import CandidateData, TrainSettings
    >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
    ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
    >>> def fake(task, data):
    ...     return {"score": task.genome.layers[0]["units"] / 100, "status": "ok"}
    >>> genomes = [Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (8, 16)]
    >>> with SearchEngine(data, TrainSettings(), entropy=0, n_jobs=1, worker=fake) as engine:
    ...     sorted(engine.evaluate(genomes, generation=0))
    [(0, {'score': 0.08, 'status': 'ok'}), (1, {'score': 0.16, 'status': 'ok'})]
    """

    def __init__(
        self,
        data: CandidateData,
        settings: TrainSettings,
        *,
        entropy: int,
        device: str | Sequence[str] = "cpu",
        candidates_per_device: int = 1,
        n_jobs: int | None = None,
        torch_threads: int | None = 1,
        deadline: float | None = None,
        min_epochs: int | None = None,
        halving_factor: int = 3,
        protected: Collection[str] = (),
        journal: Journal | None = None,
        worker: Worker = run_task,
    ) -> None:
        self.data = data
        self.settings = settings
        self.entropy = entropy
        self.devices = DevicePlan.for_search(resolve_devices(device), candidates_per_device)
        self.n_jobs = self.devices.n_workers(n_jobs)
        self.torch_threads = torch_threads
        self.n_threads = threads_per_worker(effective_n_jobs(self.n_jobs), torch_threads)
        self._deadline = deadline
        self._deadline_file: str | None = None
        self.budgets = (
            None
            if min_epochs is None
            else rung_budgets(settings.max_epochs, min_epochs, halving_factor)
        )
        self.halving_factor = halving_factor
        self.protected = frozenset(protected)
        self.journal = journal if journal is not None else Journal(None, {})
        self.worker = worker
        self._parallel: Parallel | None = None  # opened when first needed
        self._shared: Any = None  # set while inside the `with` block

    # ------------------------------------------------------------------ deadline
    @property
    def deadline(self) -> float | None:
        """The search's end (a :func:`time.time` value), or None.

        Setting it moves the end for the tasks to come and, through a file
        read after every epoch, for those training now (``RefitReserve``
        moves it earlier to keep time for the refit).
        """
        return self._deadline

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._deadline = value
        if self._deadline_file is not None and value is not None:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self._deadline_file))
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(repr(float(value)))
            os.replace(tmp, self._deadline_file)

    # ------------------------------------------------------------------ workers
    def __enter__(self) -> SearchEngine:
        if self._deadline is not None:
            fd, self._deadline_file = tempfile.mkstemp(prefix="skevonas-deadline-")
            os.close(fd)
            self.deadline = self._deadline  # written to the file
        self._shared = share_once(self.data)
        self._shared.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._parallel is not None:
                self._parallel.__exit__(kind, exc, tb)
        finally:
            self._parallel = None
            try:
                if self._shared is not None:
                    self._shared.__exit__(kind, exc, tb)
            finally:
                self._shared = None
                self.journal.close()  # the search is over: release the folder's lock
                if self._deadline_file is not None:
                    with contextlib.suppress(OSError):
                        os.remove(self._deadline_file)
                    self._deadline_file = None

    def _workers(self) -> Parallel:
        # Opened on first use, so an asynchronous search's own workers
        # (skevonas.search.pool) do not run beside an idle joblib pool.
        if self._shared is None:
            raise RuntimeError("use the SearchEngine as a context manager: `with engine: ...`")
        if self._parallel is None:
            self._parallel = worker_pool(self.n_jobs)
            self._parallel.__enter__()
        return self._parallel

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, genomes: Sequence[Genome], generation: int) -> Iterator[tuple[int, dict]]:
        """Train and score ``genomes``; yield ``(index, result)`` as each is final.

        Results journaled before a crash come back first, without training;
        every new result is journaled as it arrives. With successive halving,
        the whole generation goes through the schedule again and the rung
        results journaled before a crash come back without training
        (:meth:`_halving`), so that the promotions are those of the
        interrupted run.

        Parameters
        ----------
        genomes : sequence of Genome
            The generation's genomes not in the search's cache.
        generation : int
            The generation's number (journaled with each result).

        Yields
        ------
        index, result : int, dict
            A genome's position in ``genomes`` and its final result.

        Examples
        --------
        With a fake worker that scores every genome 0.5:

        >>> import numpy as np
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.training.candidate import CandidateData, TrainSettings
        >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]),
        ...                      np.zeros((2, 2)), np.array([0, 1]), n_classes=2)
        >>> half, genome = lambda task, data: {"score": 0.5, "status": "ok"}, Genome("mlp", [])
        >>> with SearchEngine(data, TrainSettings(), entropy=0, n_jobs=1, worker=half) as engine:
        ...     list(engine.evaluate([genome], generation=0))
        [(0, {'score': 0.5, 'status': 'ok'})]
        """
        if self.budgets is not None:
            yield from self._halving(genomes, generation)
            return
        todo = []
        for i, genome in enumerate(genomes):
            journaled = self.journal.take(genome)
            if journaled is not None:
                logger.debug("%s: result journaled before, not trained again", genome.short_key())
                yield i, journaled
            else:
                todo.append((i, self.settings.max_epochs, None))
        for i, result in self._run(genomes, todo, False):
            self.journal.record(generation, genomes[i], result)
            yield i, result

    def _halving(self, genomes: Sequence[Genome], generation: int) -> Iterator[tuple[int, dict]]:
        """Successive halving over all of ``genomes``, each rung result journaled.

        A rung result journaled before a crash comes back without training
        and without a snapshot; a candidate promoted from it trains again
        from scratch up to the next budget, which on the CPU gives what going
        on from the snapshot would have (see
        :func:`~skevonas.training.candidate.evaluate_candidate`).
        """
        assert self.budgets is not None
        rung = functools.partial(self._rung, genomes, generation)
        protected = {i for i, genome in enumerate(genomes) if genome.key() in self.protected}
        for i, result in successive_halving(
            range(len(genomes)), self.budgets, self.halving_factor, rung, protected
        ):
            if self.journal.take(genomes[i]) is None:  # not journaled before the crash
                self.journal.record(generation, genomes[i], result)
            yield i, result

    def _rung(
        self,
        genomes: Sequence[Genome],
        generation: int,
        tasks: Sequence[tuple[int, int, bytes | None]],
        keep_snapshot: bool,
    ) -> Iterator[tuple[int, dict]]:
        """One rung: journaled results first, then the others trained and journaled."""
        todo = []
        for i, epochs, snapshot in tasks:
            journaled = self.journal.take_rung(genomes[i], epochs)
            if journaled is not None:
                logger.debug(
                    "%s: its %d-epoch rung was journaled before, not trained again",
                    genomes[i].short_key(),
                    epochs,
                )
                yield i, journaled
            else:
                todo.append((i, epochs, snapshot))
        epochs_of = {i: epochs for i, epochs, _ in todo}
        for i, result in self._run(genomes, todo, keep_snapshot):
            self.journal.record_rung(generation, genomes[i], epochs_of[i], result)
            yield i, result

    def _run(
        self,
        genomes: Sequence[Genome],
        tasks: Sequence[tuple[int, int, bytes | None]],
        keep_snapshot: bool,
    ) -> Iterator[tuple[int, dict]]:
        """Train ``(index, epochs, snapshot)`` tasks in parallel; yield ``(index, result)``."""
        parallel = self._workers()
        # Most expensive first (longest-processing-time order), so the
        # workers finish together.
        costs = [self._cost(genomes[i]) for i, _, _ in tasks]
        order = sorted(range(len(tasks)), key=lambda k: -costs[k])
        jobs = []
        for slot, k in enumerate(order):
            i, epochs, snapshot = tasks[k]
            task = self.candidate_task(i, genomes[i], slot, epochs, snapshot, keep_snapshot)
            jobs.append((task, self.data))
            logger.debug(
                "%s: training up to %d epochs (slot %d)", task.genome.short_key(), epochs, slot
            )
        for position, result in iter_batch(parallel, self.worker, jobs):
            task = jobs[position][0]
            warn_if_failed(task.genome, result)
            yield task.index, result

    def candidate_task(
        self,
        index: int,
        genome: Genome,
        slot: int,
        epochs: int,
        snapshot: bytes | None = None,
        keep_snapshot: bool = False,
    ) -> CandidateTask:
        """The task that trains ``genome`` for ``epochs`` epochs in all, as this search trains.

        Its seed derives from the search's entropy and the genome; with
        ``holdout="reshuffled"`` its holdout is drawn from that seed, so
        every rung of a candidate sees the same split.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome
        >>> from skevonas.training.candidate import CandidateData, TrainSettings
        >>> data = CandidateData(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.zeros((2, 2)),
        ...                      np.array([0, 1]), n_classes=2)
        >>> task = SearchEngine(data, TrainSettings(), entropy=0).candidate_task(
        ...     0, Genome("mlp", []), slot=0, epochs=3)
        >>> task.epochs, task.snapshot is None
        (3, True)
        """
        seed = candidate_seed(self.entropy, genome)
        split = Split(seed) if self.settings.reshuffle else None
        return CandidateTask(
            index,
            genome,
            self.settings,
            seed,
            self.devices,
            slot,
            self.n_threads,
            self.deadline,
            epochs,
            snapshot,
            keep_snapshot,
            self._deadline_file,
            split,
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
    ) -> list[dict[str, Any]]:
        """Score each genome by stratified ``n_folds``-fold cross-validation on all the data.

        Every genome is trained on the same folds of the search's samples
        (training part, then validation part: :meth:`CandidateData.samples
        <skevonas.training.candidate.CandidateData.samples>`), with its search seed,
        for the full budget; all folds of all genomes run in parallel.

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
        >>> from skevonas.training.candidate import CandidateData, TrainSettings
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(40, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
        >>> data = CandidateData(X[:30], y[:30], X[30:], y[30:], 2)
        >>> with SearchEngine(data, TrainSettings(max_epochs=2), entropy=0, n_jobs=1) as engine:
        ...     [result] = engine.cross_validate([genome], n_folds=3, seed=0)
        >>> len(result["cv_scores"]), result["oof_proba"].shape
        (3, (40, 2))
        """
        parallel = self._workers()
        n_samples = len(self.data.y_train) + len(self.data.y_valid)
        jobs: list[tuple[Any, ...]] = []
        for g, genome in enumerate(genomes):
            for fold in range(n_folds):
                task = CandidateTask(
                    g * n_folds + fold,
                    genome,
                    self.settings,
                    candidate_seed(self.entropy, genome),
                    self.devices,
                    len(jobs),
                    self.n_threads,
                    self.deadline,
                    self.settings.max_epochs,
                    deadline_file=self._deadline_file,
                    split=Split(seed, n_folds, fold),
                    return_proba=True,
                )
                jobs.append((self.worker, task, self.data))
        share = (n_folds - 1) / n_folds
        costs = [self._cost(job[1].genome) * share for job in jobs]
        refits = dict(alongside or {})
        refit_of: list[int | None] = [None] * len(jobs)  # the genome a job refits
        for g, plan in refits.items():
            stats = channel_stats(plan.X) if plan.standardize else None
            jobs.append((refit_task, *self._refit_args(genomes[g], plan, 0, stats)))
            costs.append(self._cost(genomes[g]))
            refit_of.append(g)
        # most expensive first (stable: the folds keep their order among themselves)
        order = sorted(range(len(jobs)), key=lambda i: -costs[i])
        jobs, refit_of = [jobs[i] for i in order], [refit_of[i] for i in order]
        scores = [[math.nan] * n_folds for _ in genomes]
        oof = [np.zeros((n_samples, self.data.n_classes)) for _ in genomes]
        errors: list[list[str]] = [[] for _ in genomes]
        nets: dict[int, Any] = {}
        for position, result in iter_batch(parallel, call, jobs):
            if (owner := refit_of[position]) is not None:
                nets[owner] = result.get("net")
                if nets[owner] is None:
                    logger.warning("the refit alongside the folds failed: %s", result.get("error"))
                continue
            task = jobs[position][1]
            g, fold = divmod(task.index, n_folds)
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
        for g in refits:
            results[g]["net"] = nets.get(g)
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
        >>> from skevonas.training.candidate import CandidateData, TrainSettings
        >>> data = CandidateData(np.zeros((4, 3)), np.array([0, 1, 0, 1]),
        ...                      np.zeros((2, 3)), np.array([0, 1]), n_classes=2)
        >>> SearchEngine(data, TrainSettings(), entropy=0, n_jobs=1).can_refit_alongside()
        False
        """
        return (
            effective_n_jobs(self.n_jobs) > 1
            and self.devices.pool is None
            and self.n_threads == threads_per_worker(1, self.torch_threads)
        )

    def _refit_args(
        self, genome: Genome, plan: RefitPlan, slot: int, stats: Any
    ) -> tuple[Any, ...]:
        """:func:`~.tasks.refit_task`'s arguments; ``stats``: ``plan.X``'s, or None."""
        return (
            genome,
            plan.X,
            plan.y,
            self.data.n_classes,
            plan.epochs,
            stats,
            self.settings,
            plan.seed,
            self.devices,
            slot,
            self.n_threads,
            plan.stop_at,
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
        >>> from skevonas.training.candidate import CandidateData, TrainSettings
        >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> genomes = [Genome("mlp", [LayerGene("dense", {"units": n, "activation": "relu"})])
        ...            for n in (4, 8)]
        >>> engine = SearchEngine(CandidateData(X[:30], y[:30], X[30:], y[30:], 2),
        ...                       TrainSettings(), entropy=0, n_jobs=1)
        >>> with engine:
        ...     nets = engine.refit_all(genomes, X, y, epochs=[2, 3], standardize=True,
        ...                             seeds=[0, 1])
        >>> [len(net.history) for net in nets]
        [2, 3]
        """
        if len(genomes) == 1 or self._shared is None:
            return [
                self.refit(g, X, y, epochs=e, standardize=standardize, seed=s, stop_at=stop_at)
                for g, e, s in zip(genomes, epochs, seeds, strict=True)
            ]
        stats = channel_stats(X) if standardize else None
        # each member keeps statistics of its own (Standardize shares the arrays it gets)
        jobs = [
            self._refit_args(g, RefitPlan(X, y, e, standardize, s, stop_at), slot, stats)
            for slot, (g, e, s) in enumerate(zip(genomes, epochs, seeds, strict=True))
        ]
        nets: list[Any] = [None] * len(jobs)
        for position, result in iter_batch(self._workers(), refit_task, jobs):
            if result["status"] != "ok":
                raise RuntimeError(
                    f"the refit of {genomes[position].short_key()} failed: {result.get('error')}"
                )
            nets[position] = result["net"]
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
    ) -> NeuralNetClassifier:
        """Train ``genome`` on all of ``X, y`` for ``epochs`` epochs, as the search trains.

        On the first device, with the threads of one worker; ``standardize``
        takes the statistics of all of ``X``; past ``stop_at`` (a
        :func:`time.time` value) training ends after the current epoch. See
        :func:`~skevonas.training.candidate.fit_final`.

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

        Returns
        -------
        net : skorch.NeuralNetClassifier
            The trained net.

        Examples
        --------
        >>> import numpy as np
        >>> from skevonas import Genome, LayerGene
        >>> from skevonas.training.candidate import CandidateData, TrainSettings
        >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
        >>> y = (X[:, 0] > 0).astype(np.int64)
        >>> engine = SearchEngine(CandidateData(X[:30], y[:30], X[30:], y[30:], 2),
        ...                       TrainSettings(), entropy=0)
        >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
        >>> net = engine.refit(genome, X, y, epochs=2, standardize=True, seed=0)
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
            settings=self.settings,
            seed=seed,
            device=self.devices.main,
            n_threads=threads_per_worker(1, self.torch_threads),
            stop_at=stop_at,
        )
