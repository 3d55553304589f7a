"""What a worker runs: one candidate's training job, and one refit.

:class:`CandidateTask` is what the :class:`~skevonas.search.pipeline.SearchEngine`
sends to a worker process (or Dask worker) for one candidate and budget;
:func:`run_task` trains it (:func:`~skevonas.training.candidate.evaluate_candidate`).
:func:`refit_task` trains one member of the final model on all the data.
All are top-level and picklable, and receive plain data, never the estimator.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..search.devices import DevicePlan
from ..spaces.genome import Genome
from .candidate import CandidateData, Split, TrainSettings, evaluate_candidate, fit_final

__all__ = [
    "CandidateTask",
    "RefitPlan",
    "Worker",
    "call",
    "refit_task",
    "run_task",
    "warn_if_failed",
]


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
        Its training seed (:func:`~skevonas.training.candidate.candidate_seed`).
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
    deadline_file : str or None, default=None
        The file where the search keeps its deadline as it moves
        (:func:`~skevonas.training.runtime.read_deadline`).
    split : Split or None, default=None
        The candidate's own split of the data (a reshuffled holdout or a
        cross-validation fold), or None for the shared one.
    return_proba : bool, default=False
        Whether to return the validation samples' class probabilities.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.search.devices import DevicePlan
    >>> from skevonas.training.candidate import TrainSettings
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> task = CandidateTask(0, genome, TrainSettings(max_epochs=3), seed=1,
    ...                      devices=DevicePlan(("cpu",)), slot=0, n_threads=1,
    ...                      deadline=None, epochs=3)
    >>> task.devices.device(task.slot), task.snapshot is None
    ('cpu', True)
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
    deadline_file: str | None = None
    split: Split | None = None
    return_proba: bool = False


def run_task(task: CandidateTask, data: CandidateData) -> dict[str, Any]:
    """The worker: train ``task``'s candidate on ``data`` and return its result.

    ``data`` travels as its own argument (not inside the task) so that
    joblib's Dask backend can send it to every worker once
    (:func:`~skevonas.search.parallel.share_once`). Never raises; see
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
    >>> from skevonas.search.devices import DevicePlan
    >>> from skevonas.training.candidate import CandidateData, TrainSettings
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> data = CandidateData(X[:30], y[:30], X[30:], y[30:], n_classes=2)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> task = CandidateTask(0, genome, TrainSettings(max_epochs=2), seed=1,
    ...                      devices=DevicePlan(("cpu",)), slot=0, n_threads=1,
    ...                      deadline=None, epochs=2)
    >>> result = run_task(task, data)
    >>> result["status"], result["epochs"]
    ('ok', 2)
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
        deadline_file=task.deadline_file,
        split=task.split,
        return_proba=task.return_proba,
    )


def refit_task(
    genome: Genome,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    epochs: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    settings: TrainSettings,
    seed: int,
    devices: DevicePlan,
    slot: int,
    n_threads: int,
    stop_at: float | None,
) -> dict[str, Any]:
    """The refit worker: train one member of the final model on all the data.

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
    settings : TrainSettings
        The search's training recipe.
    seed : int
        The training seed.
    devices : DevicePlan
        Where the search trains.
    slot : int
        The task's position, which picks its device.
    n_threads : int
        Torch threads.
    stop_at : float or None
        A :func:`time.time` value past which training ends after the current epoch.

    Returns
    -------
    result : dict
        ``{"status": "ok", "net": net}``, or ``{"status": "failed", "error": ...}``.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.search.devices import DevicePlan
    >>> from skevonas.training.candidate import TrainSettings
    >>> X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 4, "activation": "relu"})])
    >>> result = refit_task(genome, X, y, 2, 2, None, TrainSettings(), 0, DevicePlan(("cpu",)),
    ...                     0, 1, None)
    >>> result["status"], len(result["net"].history)
    ('ok', 2)
    """
    try:
        net = fit_final(
            genome,
            X,
            y,
            n_classes,
            epochs=epochs,
            input_stats=input_stats,
            settings=settings,
            seed=seed,
            device=devices.device(slot),
            n_threads=n_threads,
            stop_at=stop_at,
        )
    except Exception as exc:  # noqa: BLE001 - reported to the caller, which raises
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    return {"status": "ok", "net": net}


Worker = Callable[[CandidateTask, CandidateData], dict[str, Any]]


@dataclass(frozen=True)
class RefitPlan:
    """How one genome is refitted on all the data, held together to travel in a batch.

    The fields are the arguments of the same names of
    :meth:`SearchEngine.refit <skevonas.search.pipeline.SearchEngine.refit>`; a plan
    lets a refit join the finalists' folds
    (:meth:`~skevonas.search.pipeline.SearchEngine.cross_validate`'s ``alongside``).

    Examples
    --------
    >>> import numpy as np
    >>> plan = RefitPlan(np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=3,
    ...                  standardize=True, seed=0)
    >>> plan.epochs, plan.stop_at
    (3, None)
    """

    X: np.ndarray
    y: np.ndarray
    epochs: int
    standardize: bool
    seed: int
    stop_at: float | None = None


def call(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(*args)``: lets one batch of tasks mix workers (the folds and refits).

    Examples
    --------
    >>> call(max, 2, 5)
    5
    """
    return fn(*args)


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
