"""The evaluation worker: train one candidate with skorch and score it.

:func:`evaluate_candidate` is a top-level, picklable function that receives
plain data (a genome, arrays, a seed, a device) and never the estimator, so
joblib can ship it to any worker process or Dask worker. It never raises: a
candidate that cannot be built or trained comes back with status
``"failed"`` and the reason, so one broken candidate never loses a search.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from skorch.history import History

from ..spaces.builders.layers import channel_stats
from ..spaces.genome import Genome
from ..spaces.networks import count_parameters
from .groups import grouped_fold, grouped_holdout
from .inherit import inherit
from .net import ValidScore
from .recipe import Recipe, make_net
from .runtime import (
    BestEpoch,
    CandidateFailed,
    StopAt,
    earliest,
    read_deadline,
    torch_context,
)

__all__ = [
    "CandidateData",
    "Split",
    "candidate_seed",
    "evaluate_candidate",
    "fit_final",
]


@dataclass(frozen=True)
class Split:
    """Which part of the data a candidate trains on and is scored on.

    ``n_folds=None`` draws a stratified holdout of the same size as the
    shared validation part (a reshuffled holdout); an int takes fold
    ``fold`` of a stratified ``n_folds``-fold split, both from ``seed``.
    When the data has groups, both keep every group on one side
    (:mod:`skevonas.training.groups`).

    Parameters
    ----------
    seed : int
        Seeds the split.
    n_folds : int or None, default=None
        Folds of a cross-validation, or None for one holdout.
    fold : int, default=0
        The fold scored (with ``n_folds``).

    Examples
    --------
    >>> Split(seed=3, n_folds=5, fold=2)
    Split(seed=3, n_folds=5, fold=2)
    """

    seed: int
    n_folds: int | None = None
    fold: int = 0


@dataclass(frozen=True)
class CandidateData:
    """The internal train/validation split, shared by every candidate.

    ``input_stats`` are the standardisation statistics of the training part
    (or ``None`` for no standardisation); they are never computed on the
    validation part.

    Parameters
    ----------
    X_train, y_train : ndarray
        The internal training part; labels encoded as ``0 .. n_classes - 1``.
    X_valid, y_valid : ndarray
        The validation part that scores candidates.
    n_classes : int
        Number of classes.
    input_stats : (mean, std) or None, default=None
        Per-feature or per-channel statistics of ``X_train``
        (``skevonas.spaces.builders.layers.channel_stats``), for the
        :class:`~skevonas.spaces.builders.Standardize` layer of every network.
    groups : ndarray of int or None, default=None
        The group code of every sample of :meth:`samples` (training part,
        then validation part; :func:`~skevonas.training.groups.check_groups`),
        or None: with groups, every split of :meth:`split_indices` keeps each
        group on one side.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.builders.layers import channel_stats
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2, 16)).astype(np.float32)  # 40 epochs, 2 channels
    >>> y = np.arange(40) % 2
    >>> data = CandidateData(X[:30], y[:30], X[30:], y[30:], n_classes=2,
    ...                      input_stats=channel_stats(X[:30]))
    >>> [stat.shape for stat in data.input_stats]  # one mean and one std per channel
    [(2, 1), (2, 1)]
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    n_classes: int
    input_stats: tuple[np.ndarray, np.ndarray] | None = None
    groups: np.ndarray | None = None

    def split_indices(self, split: Split) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation indices of ``split`` into the samples of :meth:`samples`.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = np.zeros((10, 2)), np.arange(10) % 2
        >>> data = CandidateData(X[:8], y[:8], X[8:], y[8:], n_classes=2)
        >>> [len(part) for part in data.split_indices(Split(seed=0, n_folds=5, fold=0))]
        [8, 2]

        With groups, no group lies on both sides:

        >>> grouped = CandidateData(X[:8], y[:8], X[8:], y[8:], n_classes=2,
        ...                         groups=np.repeat(np.arange(5), 2))
        >>> train, valid = grouped.split_indices(Split(seed=0))
        >>> set(grouped.groups[train]) & set(grouped.groups[valid])
        set()
        """
        y, seed = self.labels(), split.seed % 2**32
        if self.groups is not None:
            if split.n_folds is None:
                return grouped_holdout(self.groups, y, len(self.y_valid), seed)
            return grouped_fold(self.groups, y, split.n_folds, split.fold, seed)
        if split.n_folds is None:
            splitter: Any = StratifiedShuffleSplit(
                n_splits=1, test_size=len(self.y_valid), random_state=seed
            )
            return next(splitter.split(np.zeros(len(y)), y))
        splitter = StratifiedKFold(split.n_folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))[split.fold]

    def labels(self) -> np.ndarray:
        """The labels of :meth:`samples`, without copying the samples.

        Examples
        --------
        >>> import numpy as np
        >>> data = CandidateData(np.zeros((3, 2)), np.array([0, 1, 0]),
        ...                      np.ones((2, 2)), np.array([1, 0]), n_classes=2)
        >>> data.labels().tolist()
        [0, 1, 0, 1, 0]
        """
        return np.concatenate([self.y_train, self.y_valid])

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """All samples and labels: the training part, then the validation part.

        Examples
        --------
        >>> import numpy as np
        >>> data = CandidateData(np.zeros((3, 2)), np.array([0, 1, 0]),
        ...                      np.ones((2, 2)), np.array([1, 0]), n_classes=2)
        >>> data.samples()[1].tolist()
        [0, 1, 0, 1, 0]
        """
        return np.concatenate([self.X_train, self.X_valid]), self.labels()

    def train_rows(self, share: float, seed: int) -> np.ndarray:
        """A stratified ``share`` of the training part's rows (at least one per class), sorted.

        Drawn from ``seed`` alone, so the rows depend on nothing else.

        Examples
        --------
        >>> import numpy as np
        >>> data = CandidateData(np.zeros((12, 2)), np.arange(12) % 3, np.zeros((3, 2)),
        ...                      np.arange(3), n_classes=3)
        >>> rows = data.train_rows(0.5, seed=0)
        >>> len(rows), np.bincount(data.y_train[rows]).tolist()
        (6, [2, 2, 2])
        """
        rng = np.random.default_rng(seed)
        rows = []
        for label in np.unique(self.y_train):
            found = np.flatnonzero(self.y_train == label)
            rows.append(rng.permutation(found)[: max(1, round(share * len(found)))])
        return np.sort(np.concatenate(rows))

    def resplit(self, split: Split) -> CandidateData:
        """The same samples, split as ``split`` says (statistics from the new training part).

        Examples
        --------
        >>> import numpy as np
        >>> X, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20) % 2
        >>> data = CandidateData(X[:16], y[:16], X[16:], y[16:], n_classes=2)
        >>> holdout = data.resplit(Split(seed=0))
        >>> len(holdout.y_train), len(holdout.y_valid), sorted(set(holdout.y_valid.tolist()))
        (16, 4, [0, 1])
        >>> fold = data.resplit(Split(seed=0, n_folds=5, fold=1))
        >>> len(fold.y_train), len(fold.y_valid)
        (16, 4)
        """
        X, y = self.samples()
        train, valid = self.split_indices(split)
        stats = None
        if self.input_stats is not None:
            stats = channel_stats(X[train])
        groups = None if self.groups is None else self.groups[np.concatenate([train, valid])]
        return CandidateData(X[train], y[train], X[valid], y[valid], self.n_classes, stats, groups)


def candidate_seed(entropy: int, genome: Genome) -> int:
    """The training seed of ``genome`` in a search seeded with ``entropy``.

    The seed is derived from ``entropy`` and the genome's canonical key, so it
    does not depend on when or where the candidate runs, nor on the other
    candidates of its generation; genomes that build the same network get the
    same seed.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> a = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> b = Genome("mlp", [LayerGene("identity"), LayerGene("dense", {"units": 8})])
    >>> candidate_seed(0, a) == candidate_seed(0, b), candidate_seed(0, a) == candidate_seed(1, a)
    (True, False)
    """
    # Keyed by genome, so a candidate's seed does not depend on when or where
    # it runs, nor on the other candidates of its generation.
    digest = int(hashlib.sha1(genome.key().encode()).hexdigest()[:8], 16)
    return int(np.random.SeedSequence([entropy, digest]).generate_state(1)[0])


def _tensor(X: np.ndarray, device: str) -> torch.Tensor:
    # The data goes to the candidate's device once; batches are sliced there.
    # (joblib hands workers read-only memmaps, which torch cannot wrap
    # without a copy.)
    return torch.from_numpy(np.require(X, dtype=np.float32, requirements="W")).to(device)


def _failed(start: float, exc: BaseException) -> dict[str, Any]:
    return {
        "score": math.nan,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "fit_time": time.perf_counter() - start,
    }


def evaluate_candidate(
    genome: Genome,
    data: CandidateData,
    recipe: Recipe,
    seed: int,
    device: str = "cpu",
    n_threads: int = 1,
    deadline: float | None = None,
    epochs: int | None = None,
    snapshot: bytes | None = None,
    keep_snapshot: bool = False,
    deadline_file: str | None = None,
    split: Split | None = None,
    return_proba: bool = False,
    parent: tuple[Genome, Mapping[str, torch.Tensor]] | None = None,
    keep_weights: bool = False,
    low_data: tuple[int, float] | None = None,
) -> dict[str, Any]:
    """Train ``genome`` on the training part and score it on the validation part.

    Returns a dict with ``score`` (the validation score around the best
    epoch, sklearn's higher-is-better convention), ``status`` (``"ok"``,
    ``"failed"`` or ``"skipped"``), ``epochs`` trained, ``best_epoch``,
    ``stopped_by`` (``"patience"``, ``"max_epochs"`` or ``"time limit"``),
    ``fit_time`` in seconds, ``n_params`` and the learning ``curves``; a
    failed candidate has ``score`` NaN and an ``error``.

    Training stops after ``recipe.time_limit`` seconds or at ``deadline``
    (a :func:`time.time` value: the search's end), whichever comes first,
    and the candidate is scored on what it reached; with a cosine schedule,
    one that such a limit would cut anneals its learning rate in time for it
    (:class:`~skevonas.training.runtime.CosineSchedule`). A candidate that
    starts after ``deadline`` is ``"skipped"`` without training.

    Multi-fidelity searches (:mod:`skevonas.evolution.fidelity`) train a candidate in
    steps: ``epochs`` caps the epochs (in all, counting earlier steps) below
    ``recipe.max_epochs``; with ``keep_snapshot=True`` a candidate that
    trained all those epochs returns a ``snapshot`` (bytes: its last weights,
    optimizer, history, early-stopping and random state), and passing it back
    as ``snapshot`` goes on training where it stopped, exactly as one longer
    training would have on the CPU. ``stopped_by`` is then ``"budget"``
    when training ended at an ``epochs`` cap below ``recipe.max_epochs``.

    Parameters
    ----------
    genome : Genome
        The candidate.
    data : CandidateData
        The training and validation parts.
    recipe : Recipe
        How to train.
    seed : int
        Seeds torch for this candidate (see :func:`candidate_seed`); the
        caller's torch random state is restored afterwards.
    device : str, default="cpu"
        Where to train (a torch device).
    n_threads : int, default=1
        Torch threads while training.
    deadline : float or None, default=None
        A :func:`time.time` value after which training stops.
    epochs : int or None, default=None
        Train up to this many epochs in all (earlier steps included); None
        means ``recipe.max_epochs``, which also caps it.
    snapshot : bytes or None, default=None
        The ``snapshot`` of an earlier step of this candidate, to go on from.
    keep_snapshot : bool, default=False
        Return a ``snapshot`` when training ended at the ``epochs`` cap.
    deadline_file : str or None, default=None
        A file holding the search's deadline as it moves
        (:func:`~skevonas.training.runtime.read_deadline`); the earlier of it and
        ``deadline`` counts.
    split : Split or None, default=None
        Train and score on this split of ``data``'s samples
        (:meth:`CandidateData.resplit`) instead of its own parts.
    return_proba : bool, default=False
        Also return ``valid_proba``: the trained network's class
        probabilities for the validation samples (an array, in the order
        of the validation part).
    parent : (Genome, state dict) or None, default=None
        A trained parent: training starts from its weights wherever the
        layers correspond (:func:`~skevonas.training.inherit.inherit`)
        instead of a fresh initialisation; the result's ``inherited`` says
        from whom and how much. Ignored when going on from a ``snapshot``.
    keep_weights : bool, default=False
        Also return ``weights``: the trained network's ``state_dict()``
        (tensors on the CPU), for children to inherit.
    low_data : (int, float) or None, default=None
        Fidelity in data: the schedule's first ``low_data[0]`` epochs train
        on a stratified ``low_data[1]`` share of the training part
        (:meth:`CandidateData.train_rows`, drawn from ``seed``), the later
        ones on all of it; a step going on from a ``snapshot`` follows the
        same schedule. The validation part is whole throughout.

    Returns
    -------
    result : dict
        As described above. Never raises: a candidate that cannot be built
        or trained comes back with ``status="failed"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})],
    ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
    >>> data = CandidateData(X[:40], y[:40], X[40:], y[40:], n_classes=2)
    >>> result = evaluate_candidate(genome, data, Recipe(max_epochs=5, patience=2), seed=0)
    >>> result["status"], 1 <= result["best_epoch"] <= result["epochs"] <= 5
    ('ok', True)
    >>> sorted(result["curves"])
    ['train_loss', 'valid_loss', 'valid_score']

    A candidate that cannot be built comes back failed instead of raising:

    >>> broken = Genome("mlp", [LayerGene("conv", {"filters": 8})])
    >>> failed = evaluate_candidate(broken, data, Recipe(max_epochs=5), seed=0)
    >>> failed["status"], failed["error"]
    ('failed', "ValueError: Unknown MLP layer kind 'conv'; must be 'dense'")
    """
    start = time.perf_counter()
    now = time.time()
    deadline = earliest(deadline, read_deadline(deadline_file))
    if deadline is not None and now >= deadline:
        return {
            "score": math.nan,
            "status": "skipped",
            "error": "the search's max_time was used up before this candidate started",
        }
    budget = recipe.max_epochs if epochs is None else min(max(1, int(epochs)), recipe.max_epochs)
    try:
        if split is not None:
            data = data.resplit(split)
        earlier = _load_snapshot(snapshot) if snapshot is not None else None
        spent = float(earlier["fit_time"]) if earlier is not None else 0.0
        limit = recipe.time_limit and now + recipe.time_limit - spent
        limits = [t for t in (deadline, limit) if t]
        stop_at = min(limits) if limits else None
        with torch_context(seed, n_threads):
            best = BestEpoch(
                recipe.patience,
                stop_at=stop_at,
                keep_last=keep_snapshot,
                deadline_file=deadline_file,
            )
            scoring = ValidScore(recipe.scoring)
            net = make_net(
                genome,
                tuple(data.X_train.shape[1:]),
                data.n_classes,
                max_epochs=budget,
                input_stats=data.input_stats,
                device=device,
                net_params=recipe.net_params,
                train_split=predefined_split(Dataset(_tensor(data.X_valid, device), data.y_valid)),
                callbacks=[("valid_score", scoring), ("best_epoch", best)],
                recipe=recipe,
                class_weights=recipe.loss_weights(data.y_train, data.n_classes),
                stop_at=stop_at,
                deadline_file=deadline_file,
            )
            X_train = _tensor(data.X_train, device)
            if low_data is not None and low_data[1] < 1:
                net.low_data_ = (int(low_data[0]), data.train_rows(low_data[1], seed))
            inherited = None if earlier is None else json.loads(earlier.get("inherited", "null"))
            if earlier is not None:
                _restore(net, best, earlier)
                net.partial_fit(X_train, data.y_train, epochs=budget - len(net.history))
            elif parent is not None:
                net.initialize()
                shape = tuple(data.X_train.shape[1:])
                start_from = inherit(*parent, genome, shape, data.n_classes, seed=seed)
                net.module_.load_state_dict(start_from.state)
                inherited = {
                    "parent": parent[0].short_key(),
                    "tensors": start_from.copied,
                    "of": start_from.total,
                }
                net.partial_fit(X_train, data.y_train, epochs=budget)
            else:
                net.fit(X_train, data.y_train)
        if best.best_key_ is None:
            raise CandidateFailed("no epoch finished")
        history = net.history
        stopped_by = best.stopped_by_
        if stopped_by == "max_epochs" and budget < recipe.max_epochs:
            stopped_by = "budget"
        fit_time = spent + time.perf_counter() - start
        result = {
            "score": best.final_score([float(v) for v in history[:, "valid_score"]]),
            "peak_score": best.best_score_,
            "status": "ok",
            "epochs": len(history),
            "best_epoch": int(best.best_epoch_),
            "stopped_by": stopped_by,
            "device": device,
            "fit_time": fit_time,
            "n_params": count_parameters(net.module_),
            "curves": {
                "train_loss": [float(v) for v in history[:, "train_loss"]],
                "valid_loss": [float(v) for v in history[:, "valid_loss"]],
                "valid_score": [float(v) for v in history[:, "valid_score"]],
            },
        }
        if inherited is not None:  # this step's, or the first step's (in the snapshot)
            result["inherited"] = inherited
        if stopped_by == "budget" and best.last_ is not None:  # keep_snapshot was asked
            result["snapshot"] = _save_snapshot(net, best, fit_time, inherited)
        if keep_weights:
            result["weights"] = {
                name: tensor.detach().to("cpu").clone()
                for name, tensor in net.module_.state_dict().items()
            }
        if return_proba:
            with torch_context(seed, n_threads):
                result["valid_proba"] = net.predict_proba(_tensor(data.X_valid, device))
        return result
    except Exception as exc:  # noqa: BLE001 - one broken candidate must not end a search
        return _failed(start, exc)


def _save_snapshot(
    net: NeuralNetClassifier,
    best: BestEpoch,
    fit_time: float,
    inherited: Mapping[str, Any] | None = None,
) -> bytes:
    """A candidate's training state after its last epoch, as bytes (see ``_restore``).

    ``inherited``: what its first step inherited, reported again by the steps after.
    """
    assert best.last_ is not None
    buffer = io.BytesIO()
    torch.save(
        {
            **best.last_,
            # JSON text: history rows may hold NumPy scalars, which a
            # weights-only load refuses
            "history": json.dumps(net.history.to_list(), default=_plain),
            "best": best.state(),
            "fit_time": fit_time,
            **({"inherited": json.dumps(inherited)} if inherited is not None else {}),
        },
        buffer,
    )
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic, torch.Tensor)):
        return value.item()
    raise TypeError(f"cannot save {type(value).__name__} in a training snapshot")


def _load_snapshot(snapshot: bytes) -> dict[str, Any]:
    # Plain tensors, dicts, lists and numbers only: no pickled code is run.
    return torch.load(io.BytesIO(snapshot), map_location="cpu", weights_only=True)


def _restore(net: NeuralNetClassifier, best: BestEpoch, earlier: Mapping[str, Any]) -> None:
    """Put ``net`` (built, not trained) back where the training of ``earlier`` stopped."""
    net.initialize()
    net.module_.load_state_dict(earlier["module"])
    net.optimizer_.load_state_dict(earlier["optimizer"])
    net.history_ = History(json.loads(earlier["history"]))
    best.restore(earlier["best"])
    torch.set_rng_state(earlier["rng"])


def fit_final(
    genome: Genome,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    epochs: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    recipe: Recipe,
    seed: int,
    device: str = "cpu",
    n_threads: int = 1,
    stop_at: float | None = None,
) -> NeuralNetClassifier:
    """Train ``genome`` on all of ``X, y`` for ``epochs`` epochs (no validation part).

    This is the refit of a search's best genome, and the final training of a
    :class:`~skevonas.GenomeClassifier`.

    Parameters
    ----------
    genome : Genome
        The architecture and its training genes.
    X, y : ndarray
        All the training data; labels encoded as ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.
    epochs : int
        Epochs to train (at least 1).
    input_stats : (mean, std) or None
        Statistics for the network's :class:`~skevonas.spaces.builders.Standardize`
        layer, or None for none.
    recipe : Recipe
        How to train (its ``max_epochs`` sets the schedule's length; ``epochs``
        how long this training is).
    seed : int
        Seeds torch for this training.
    device : str, default="cpu"
        Where to train.
    n_threads : int, default=1
        Torch threads while training.
    stop_at : float or None, default=None
        A :func:`time.time` value past which training ends after the current
        epoch (``len(net.history)`` tells how many epochs it trained).

    Returns
    -------
    net : skorch.NeuralNetClassifier
        The trained net.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})],
    ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
    >>> net = fit_final(genome, X, y, n_classes=2, epochs=3, input_stats=None,
    ...                 recipe=Recipe(), seed=0)
    >>> len(net.history), net.predict_proba(X[:5]).shape
    (3, (5, 2))
    """
    with torch_context(seed, n_threads):
        net = make_net(
            genome,
            tuple(X.shape[1:]),
            n_classes,
            max_epochs=max(1, int(epochs)),
            input_stats=input_stats,
            device=device,
            net_params=recipe.net_params,
            callbacks=[] if stop_at is None else [("stop_at", StopAt(stop_at))],
            recipe=recipe,
            class_weights=recipe.loss_weights(y, n_classes),
        )
        # a worker may get X as a read-only memmap, which torch cannot wrap
        net.fit(np.require(X, dtype=np.float32, requirements="W"), y)
    return net


def net_from_weights(
    genome: Genome,
    state: Mapping[str, torch.Tensor],
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    recipe: Recipe,
    device: str = "cpu",
) -> NeuralNetClassifier:
    """A ready net whose module holds ``state``: a candidate as the search trained it.

    ``input_stats`` only decides whether the module has a standardisation
    front (its statistics come from ``state``); the net has no history.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> trained = fit_final(genome, X, y, n_classes=2, epochs=2, input_stats=None,
    ...                     recipe=Recipe(), seed=0)
    >>> again = net_from_weights(genome, trained.module_.state_dict(), (4,), 2,
    ...                          input_stats=None, recipe=Recipe())
    >>> bool(np.array_equal(again.predict_proba(X), trained.predict_proba(X)))
    True
    """
    net = make_net(
        genome,
        input_shape,
        n_classes,
        max_epochs=1,
        input_stats=input_stats,
        device=device,
        net_params=recipe.net_params,
        recipe=recipe,
    )
    net.initialize()
    net.module_.load_state_dict(state)
    net.module_.eval()
    return net
