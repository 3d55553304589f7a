"""What a worker runs: one candidate's training job, and one refit.

:class:`CandidateTask` is what the search's pipeline
(:class:`~skevonas.search.pipeline.CandidatePipeline`) sends to a worker
process (or Dask worker) for one candidate and budget, or one fold of a
finalist's cross-validation; :func:`run_task` trains it
(:func:`~skevonas.training.candidate.evaluate_candidate`). A
:class:`RefitTask` trains one member of the final model on all the data
(:func:`run_refit`). Both are frozen dataclasses with named fields, and both
workers are top-level and picklable and receive plain data, never the
estimator.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..spaces.genome import Genome
from .candidate import CandidateData, Split, evaluate_candidate, fit_final
from .devices import DevicePlan
from .recipe import Recipe

__all__ = [
    "CandidateTask",
    "RefitPlan",
    "RefitTask",
    "Worker",
    "run_refit",
    "run_task",
    "warn_if_failed",
]


@dataclass(frozen=True)
class CandidateTask:
    """One candidate's training job, as sent to a worker.

    Parameters
    ----------
    genome : Genome
        The candidate.
    recipe : Recipe
        How to train it.
    seed : int
        Its training seed (:func:`~skevonas.training.candidate.candidate_seed`).
    devices : DevicePlan
        Where the search trains; the worker asks it for this task's device.
    slot : int
        The task's number (a ticket's, or a fold's), which picks its device
        when workers are not pinned to one.
    n_threads : int
        Torch threads while training.
    deadline : float or None
        The search's end (a :func:`time.time` value), or None.
    epochs : int
        Epochs to train in all (the rung's budget, or ``recipe.max_epochs``).
    snapshot : bytes or None, default=None
        The training state of an earlier rung to go on from.
    keep_snapshot : bool, default=False
        Whether to return a snapshot to go on from later.
    deadline_file : str or None, default=None
        The file where the search keeps its deadline as it moves
        (:func:`~skevonas.training.runtime.read_deadline`).
    split : Split or None, default=None
        The candidate's own split of the data (a reshuffled holdout or a
        cross-validation fold), or None for the shared one.
    return_proba : bool, default=False
        Whether to return the validation samples' class probabilities.
    parent : (Genome, state dict) or None, default=None
        A trained parent whose weights the candidate starts from (weight
        inheritance), or None.
    keep_weights : bool, default=False
        Whether to return the trained weights, for children to inherit.
    low_data : (int, float) or None, default=None
        Fidelity in data: the first ``low_data[0]`` epochs train on that
        share of the training part (the search's lowest rung), or None.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.training.devices import DevicePlan
    >>> from skevonas.training.recipe import Recipe
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> task = CandidateTask(genome, Recipe(max_epochs=3), seed=1,
    ...                      devices=DevicePlan(("cpu",)), slot=0, n_threads=1,
    ...                      deadline=None, epochs=3)
    >>> task.devices.device(task.slot), task.snapshot is None
    ('cpu', True)
    """

    genome: Genome
    recipe: Recipe
    seed: int
    devices: DevicePlan
    slot: int
    n_threads: int
    deadline: float | None
    epochs: int
    snapshot: bytes | None = None
    keep_snapshot: bool = False
    deadline_file: str | None = None
    split: Split | None = None
    return_proba: bool = False
    parent: tuple[Genome, Mapping[str, Any]] | None = None
    keep_weights: bool = False
    low_data: tuple[int, float] | None = None


def run_task(task: CandidateTask, data: CandidateData) -> dict[str, Any]:
    """The worker: train ``task``'s candidate on ``data`` and return its result.

    ``data`` travels as its own argument (not inside the task) so that
    joblib's Dask backend can send it to every worker once
    (:class:`~skevonas.search.pool.WorkerPool`). Never raises; see
    :func:`~skevonas.training.candidate.evaluate_candidate`.

    Parameters
    ----------
    task : CandidateTask
        What to train, how and where.
    data : CandidateData
        The training and validation parts.

    Returns
    -------
    result : dict
        The candidate's result (``score``, ``status``, ``epochs``...).

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.training.devices import DevicePlan
    >>> from skevonas.training.candidate import CandidateData
    >>> from skevonas.training.recipe import Recipe
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> data = CandidateData(X[:30], y[:30], X[30:], y[30:], n_classes=2)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> task = CandidateTask(genome, Recipe(max_epochs=2), seed=1,
    ...                      devices=DevicePlan(("cpu",)), slot=0, n_threads=1,
    ...                      deadline=None, epochs=2)
    >>> result = run_task(task, data)
    >>> result["status"], result["epochs"]
    ('ok', 2)
    """
    return evaluate_candidate(
        task.genome,
        data,
        task.recipe,
        task.seed,
        device=task.devices.device(task.slot),
        n_threads=task.n_threads,
        deadline=task.deadline,
        epochs=task.epochs,
        snapshot=task.snapshot,
        keep_snapshot=task.keep_snapshot,
        deadline_file=task.deadline_file,
        split=task.split,
        return_proba=task.return_proba,
        parent=task.parent,
        keep_weights=task.keep_weights,
        low_data=task.low_data,
    )


@dataclass(frozen=True)
class RefitPlan:
    """How one genome is refitted on all the data: the search pipeline's refit arguments.

    :meth:`~skevonas.search.pipeline.CandidatePipeline.refit` and
    :meth:`~skevonas.search.pipeline.CandidatePipeline.refit_task` train by
    it, and a plan lets a refit join the finalists' folds
    (:meth:`~skevonas.search.pipeline.CandidatePipeline.cross_validate`'s
    ``alongside``). ``schedule``, when set, is the number of epochs the
    learning-rate schedule is laid over (a shorter whole schedule, under
    ``max_time``) instead of the recipe's ``max_epochs``.

    Examples
    --------
    >>> import numpy as np
    >>> plan = RefitPlan(np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=3,
    ...                  standardize=True, seed=0)
    >>> plan.epochs, plan.stop_at, plan.schedule
    (3, None, None)
    """

    X: np.ndarray
    y: np.ndarray
    epochs: int
    standardize: bool
    seed: int
    stop_at: float | None = None
    schedule: int | None = None  # epochs the learning rate anneals over (None: the recipe's)


@dataclass(frozen=True)
class RefitTask:
    """One member of the final model, to train on all the data, as sent to a worker.

    Parameters
    ----------
    genome : Genome
        The member.
    X, y : ndarray
        All the training data, labels encoded.
    n_classes : int
        Number of classes.
    epochs : int
        Epochs to train.
    input_stats : (mean, std) or None
        Statistics of ``X`` for the network's standardisation layer.
    recipe : Recipe
        The search's training recipe.
    seed : int
        The training seed.
    devices : DevicePlan
        Where the search trains.
    slot : int
        The task's position, which picks its device.
    n_threads : int
        Torch threads.
    stop_at : float or None, default=None
        A :func:`time.time` value past which training ends after the current epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.training.devices import DevicePlan
    >>> X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 4, "activation": "relu"})])
    >>> task = RefitTask(genome, X, y, n_classes=2, epochs=2, input_stats=None, recipe=Recipe(),
    ...                  seed=0, devices=DevicePlan(("cpu",)), slot=0, n_threads=1)
    >>> result = run_refit(task)
    >>> result["status"], len(result["net"].history)
    ('ok', 2)
    """

    genome: Genome
    X: np.ndarray
    y: np.ndarray
    n_classes: int
    epochs: int
    input_stats: tuple[np.ndarray, np.ndarray] | None
    recipe: Recipe
    seed: int
    devices: DevicePlan
    slot: int
    n_threads: int
    stop_at: float | None = None


def run_refit(task: RefitTask) -> dict[str, Any]:
    """The refit worker: train one member of the final model on all the data.

    Returns
    -------
    result : dict
        ``{"status": "ok", "net": net}``, or ``{"status": "failed", "error": ...}``
        (the caller raises).

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.training.devices import DevicePlan
    >>> X = np.zeros((6, 2), dtype=np.float32)
    >>> broken = Genome("mlp", [LayerGene("conv", {"filters": 8})])
    >>> task = RefitTask(broken, X, np.array([0, 1] * 3), n_classes=2, epochs=1,
    ...                  input_stats=None, recipe=Recipe(), seed=0,
    ...                  devices=DevicePlan(("cpu",)), slot=0, n_threads=1)
    >>> run_refit(task)["status"]
    'failed'
    """
    try:
        net = fit_final(
            task.genome,
            task.X,
            task.y,
            task.n_classes,
            epochs=task.epochs,
            input_stats=task.input_stats,
            recipe=task.recipe,
            seed=task.seed,
            device=task.devices.device(task.slot),
            n_threads=task.n_threads,
            stop_at=task.stop_at,
        )
    except Exception as exc:  # noqa: BLE001 - reported to the caller, which raises
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    return {"status": "ok", "net": net}


Worker = Callable[[CandidateTask, CandidateData], dict[str, Any]]


def warn_if_failed(genome: Genome, result: Mapping[str, Any]) -> None:
    """Warn (RuntimeWarning) that ``genome``'s candidate failed, if its ``result`` says so.

    Examples
    --------
    >>> import warnings
    >>> from skevonas import Genome
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_failed(Genome("mlp", []), {"status": "failed", "error": "boom"})
    >>> str(caught[0].message)  # doctest: +ELLIPSIS
    'candidate ... failed and was recorded as such: boom'
    """
    if result.get("status") == "failed":
        warnings.warn(
            f"candidate {genome.short_key()} failed and was recorded as "
            f"such: {result.get('error')}",
            RuntimeWarning,
            stacklevel=3,  # where the search takes the result
        )
