"""The search engine: trains the candidates that the evolution loop asks for.

A :class:`SearchEngine` holds what every candidate of one ``fit`` is
trained with and where: the shared training / validation parts, the
training settings, the seed entropy, the device plan, the deadline, the
fidelity schedule, the journal and the parallel backend. Its
:meth:`~SearchEngine.evaluate` is the ``evaluate(genomes, generation)``
that :func:`~skevonas.evolution.evolve` takes.

How a generation's genomes become results::

    evolve --genomes--> SearchEngine.evaluate
        journaled before a crash? --> the journaled result, not trained again
        otherwise --> full budget, or successive halving (skevonas.fidelity)
            --> one CandidateTask per candidate and rung, most expensive first
            --> the worker (run_task -> evaluate_candidate) in parallel
                (skevonas.parallel.iter_batch: a dead worker costs one retry)
        each result --> Journal.record --> back to evolve as (index, result)

The worker is a constructor argument, so the engine can be tested on its
own with a fake one.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np
from joblib import Parallel, effective_n_jobs
from skorch import NeuralNetClassifier

from .builders.layers import channel_stats
from .devices import DevicePlan, resolve_devices, threads_per_worker
from .evaluation import CandidateData, TrainSettings, candidate_seed, evaluate_candidate, fit_final
from .fidelity import rung_budgets, successive_halving
from .genome import Genome
from .networks import estimate_macs
from .parallel import iter_batch, share_once
from .resume import Journal

__all__ = ["CandidateTask", "SearchEngine", "run_task"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CandidateTask:
    """One candidate's training job, as sent to a worker.

    Parameters
    ----------
    index : int
        The candidate's position among the genomes of its generation.
    genome : Genome
        The candidate.
    settings : TrainSettings
        How to train it.
    seed : int
        Its training seed (:func:`~skevonas.evaluation.candidate_seed`).
    devices : DevicePlan
        Where the search trains; the worker asks it for this task's device.
    slot : int
        The task's position in its batch, which picks its device.
    n_threads : int
        Torch threads while training.
    deadline : float or None
        The search's end (a :func:`time.time` value), or None.
    epochs : int
        Epochs to train in all (the rung's budget, or ``settings.max_epochs``).
    snapshot : bytes or None, default=None
        The training state of an earlier rung to go on from.
    keep_snapshot : bool, default=False
        Whether to return a snapshot to go on from later.
    """

    index: int
    genome: Genome
    settings: TrainSettings
    seed: int
    devices: DevicePlan
    slot: int
    n_threads: int
    deadline: float | None
    epochs: int
    snapshot: bytes | None = None
    keep_snapshot: bool = False


def run_task(task: CandidateTask, data: CandidateData) -> dict[str, Any]:
    """The worker: train ``task``'s candidate on ``data`` and return its result.

    ``data`` travels as its own argument (not inside the task) so that
    joblib's Dask backend can send it to every worker once
    (:func:`~skevonas.parallel.share_once`). Never raises; see
    :func:`~skevonas.evaluation.evaluate_candidate`.
    """
    return evaluate_candidate(
        task.genome,
        data,
        task.settings,
        task.seed,
        device=task.devices.device(task.slot),
        n_threads=task.n_threads,
        deadline=task.deadline,
        epochs=task.epochs,
        snapshot=task.snapshot,
        keep_snapshot=task.keep_snapshot,
    )


Worker = Callable[[CandidateTask, CandidateData], dict[str, Any]]


class SearchEngine:
    """Trains and scores the genomes of a search, in parallel; one per ``fit``.

    Use it as a context manager (it holds the workers), and pass its
    :meth:`evaluate` to :func:`~skevonas.evolution.evolve`.

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
        The estimator's ``device`` setting (:func:`~skevonas.devices.resolve_devices`).
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
        to ``settings.max_epochs`` (:mod:`skevonas.fidelity`).
    halving_factor : int, default=3
        The ratio between successive budgets.
    journal : Journal or None, default=None
        Where results are written as they arrive, and which journaled
        results come back without training.
    worker : callable, default=run_task
        ``worker(task, data) -> result``; top-level and picklable when
        ``n_jobs`` is not 1.

    Examples
    --------
    With a fake worker whose score is the genome's first layer width:

    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evaluation import CandidateData, TrainSettings
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
        self.deadline = deadline
        self.budgets = (
            None
            if min_epochs is None
            else rung_budgets(settings.max_epochs, min_epochs, halving_factor)
        )
        self.halving_factor = halving_factor
        self.journal = journal if journal is not None else Journal(None, {})
        self.worker = worker
        self._parallel: Parallel | None = None
        self._shared: Any = None

    # ------------------------------------------------------------------ workers
    def __enter__(self) -> SearchEngine:
        self._shared = share_once(self.data)
        self._shared.__enter__()
        self._parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        self._parallel.__enter__()
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
            if self._shared is not None:
                self._shared.__exit__(kind, exc, tb)
            self._shared = None

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, genomes: Sequence[Genome], generation: int) -> Iterator[tuple[int, dict]]:
        """Train and score ``genomes``; yield ``(index, result)`` as each is final.

        Results journaled before a crash come back first, without training;
        every new result is journaled as it arrives.
        """
        todo = []
        for i, genome in enumerate(genomes):
            journaled = self.journal.take(genome)
            if journaled is not None:
                logger.debug("%s: result journaled before, not trained again", genome.short_key())
                yield i, journaled
            else:
                todo.append(i)
        if self.budgets is None:
            tasks = [(i, self.settings.max_epochs, None) for i in todo]
            results = self._run(genomes, tasks, False)
        else:
            rung = functools.partial(self._run, genomes)
            results = successive_halving(todo, self.budgets, self.halving_factor, rung)
        for i, result in results:
            self.journal.record(generation, genomes[i], result)
            yield i, result

    def _run(
        self,
        genomes: Sequence[Genome],
        tasks: Sequence[tuple[int, int, bytes | None]],
        keep_snapshot: bool,
    ) -> Iterator[tuple[int, dict]]:
        """Train ``(index, epochs, snapshot)`` tasks in parallel; yield ``(index, result)``."""
        if self._parallel is None:
            raise RuntimeError("use the SearchEngine as a context manager: `with engine: ...`")
        # Most expensive first (longest-processing-time order), so the
        # workers finish together.
        costs = [self._cost(genomes[i]) for i, _, _ in tasks]
        order = sorted(range(len(tasks)), key=lambda k: -costs[k])
        jobs = []
        for slot, k in enumerate(order):
            i, epochs, snapshot = tasks[k]
            task = CandidateTask(
                i,
                genomes[i],
                self.settings,
                candidate_seed(self.entropy, genomes[i]),
                self.devices,
                slot,
                self.n_threads,
                self.deadline,
                epochs,
                snapshot,
                keep_snapshot,
            )
            jobs.append((task, self.data))
            logger.debug(
                "%s: training up to %d epochs (slot %d)", task.genome.short_key(), epochs, slot
            )
        for position, result in iter_batch(self._parallel, self.worker, jobs):
            task = jobs[position][0]
            if result["status"] == "failed":
                warnings.warn(
                    f"candidate {task.genome.short_key()} failed and was recorded as "
                    f"such: {result.get('error')}",
                    RuntimeWarning,
                    stacklevel=2,
                )
            yield task.index, result

    def _cost(self, genome: Genome) -> int:
        try:
            return estimate_macs(genome, self.data.X_train.shape[1:], self.data.n_classes)
        except Exception:  # noqa: BLE001 - the worker will report what is wrong
            return 0

    # ------------------------------------------------------------------ refit
    def refit(
        self,
        genome: Genome,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        standardize: bool,
        seed: int,
    ) -> NeuralNetClassifier:
        """Train ``genome`` on all of ``X, y`` for ``epochs`` epochs, as the search trains.

        On the first device, with the threads of one worker; ``standardize``
        takes the statistics of all of ``X``. See
        :func:`~skevonas.evaluation.fit_final`.
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
        )
