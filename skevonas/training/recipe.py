"""The training recipe: one frozen object with one set of defaults, and the net it builds.

Every training of a search reads one :class:`Recipe`: each candidate's
(:func:`~skevonas.training.candidate.evaluate_candidate`), the finalists'
folds, the refits (:func:`~skevonas.training.candidate.fit_final`) and a
:class:`~skevonas.GenomeClassifier`'s. Its defaults are the estimator's
(100 epochs, no patience, a cosine schedule, reshuffled holdouts).
:func:`make_net` builds the skorch net a genome and a recipe describe.

Optimizers: the genome's ``optimizer`` gene names one of :data:`OPTIMIZERS`
(torch's optimizers at torch's defaults, SGD with Nesterov momentum), or a
Keras twin of a preset (``"keras_<name>"``, ``"tf_keras_<name>"``), which
:func:`optimizer_for` looks up through the presets
(:func:`skevonas.spaces.presets.preset_optimizer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch import nn

from ..spaces.genome import Genome
from ..spaces.networks import build_module
from ..spaces.presets import preset_optimizer
from .net import SearchNet, SliceBatches
from .runtime import CosineSchedule

__all__ = [
    "CHILD_SHARE",
    "OPTIMIZERS",
    "Recipe",
    "inherit_share",
    "make_net",
    "optimizer_for",
    "optimizer_names",
]

#: The share of ``max_epochs`` a child that starts from its parent's trained
#: weights trains for when ``inherit_weights=True`` (:func:`inherit_share`): the
#: whole schedule. A third (``inherit_weights=1/3``) lost 1.4 points to it on
#: the bake-off's 5 SelfRegulationSCP1 resamples (McNemar p = 0.04).
CHILD_SHARE = 1.0

#: The core optimizers: name -> (torch class, keyword arguments).
OPTIMIZERS: dict[str, tuple[type, dict[str, Any]]] = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {}),
    "adagrad": (torch.optim.Adagrad, {}),
    "adadelta": (torch.optim.Adadelta, {}),
    "adamax": (torch.optim.Adamax, {}),
    "nadam": (torch.optim.NAdam, {}),
}


def optimizer_for(name: str) -> tuple[type, dict[str, Any]]:
    """The torch optimizer class and keyword arguments a genome's ``optimizer`` gene names.

    A core optimizer (:data:`OPTIMIZERS`), else a preset's Keras twin; a
    twin's arguments include its Keras default learning rate (``lr``).

    Raises
    ------
    ValueError
        If no optimizer has that name.

    Examples
    --------
    >>> optimizer_for("sgd")
    (<class 'torch.optim.sgd.SGD'>, {'momentum': 0.9, 'nesterov': True})
    >>> optimizer_for("keras_adamax")[1]["lr"]
    0.002
    >>> optimizer_for("lbfgs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: unknown optimizer 'lbfgs': must be one of ['adadelta', ...]
    """
    if name in OPTIMIZERS:
        return OPTIMIZERS[name]
    found = preset_optimizer(name)
    if found is None:
        raise ValueError(f"unknown optimizer {name!r}: must be one of {optimizer_names()}")
    return found


def optimizer_names() -> list[str]:
    """Every name :func:`optimizer_for` knows: the core ones, then the presets' twins.

    Examples
    --------
    >>> names = optimizer_names()
    >>> "adam" in names, "keras_adam" in names, "tf_keras_nadam" in names
    (True, True, True)
    """
    from ..spaces.presets import preset_optimizer_names

    return sorted(OPTIMIZERS) + preset_optimizer_names()


@dataclass(frozen=True)
class Recipe:
    """How every network of a search is trained; the defaults are the estimator's.

    Parameters
    ----------
    max_epochs : int, default=100
        The epoch budget of every candidate and refit; the learning-rate
        schedule runs over it.
    patience : int or None, default=None
        None trains for the whole budget and keeps the last weights; an int
        stops after that many epochs without a better validation score and
        keeps the best epoch's weights.
    scoring : str or callable, default="accuracy"
        scikit-learn scorer name or callable (higher is better).
    net_params : mapping, default={}
        Extra keyword arguments for the skorch net (callbacks included).
    time_limit : float or None, default=None
        Seconds a candidate may train (checked after every epoch).
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the learning rate over ``max_epochs``
        (:class:`~skevonas.training.runtime.CosineSchedule`).
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss.
    augment : callable or None, default=None
        Applied to every training batch (:class:`~skevonas.training.augment.EEGAugment`).
    reshuffle : bool, default=True
        Each candidate trains and is scored on its own stratified split of
        the data (drawn from its seed) instead of the shared one: reshuffled
        holdouts, which overfit less when many candidates are compared.
    class_weight : None, "balanced" or tuple of float, default=None
        Class weights of the cross-entropy loss: none, scikit-learn's
        ``"balanced"`` ones of the labels each network trains on, or one
        weight per class (:meth:`loss_weights`).

    Examples
    --------
    >>> recipe = Recipe(max_epochs=10, patience=3)
    >>> recipe.scoring, recipe.time_limit, recipe.lr_schedule, recipe.reshuffle
    ('accuracy', None, 'cosine', True)
    """

    max_epochs: int = 100
    patience: int | None = None
    scoring: Any = "accuracy"
    net_params: Mapping[str, Any] = field(default_factory=dict)
    time_limit: float | None = None  # seconds per candidate
    lr_schedule: str = "cosine"
    label_smoothing: float = 0.0
    augment: Any = None
    reshuffle: bool = True
    class_weight: str | tuple[float, ...] | None = None

    def loss_weights(self, y: np.ndarray, n_classes: int) -> np.ndarray | None:
        """The loss's class weights for a network that trains on labels ``y``; None for none.

        ``"balanced"`` is scikit-learn's ``compute_class_weight``:
        ``len(y) / (n_classes * count)`` per class (a class absent from
        ``y`` counts as one sample).

        Examples
        --------
        >>> import numpy as np
        >>> Recipe(class_weight="balanced").loss_weights(np.array([0, 0, 0, 1]), 2).tolist()
        [0.6666666666666666, 2.0]
        >>> Recipe(class_weight=(1.0, 3.0)).loss_weights(np.array([0, 1]), 2).tolist()
        [1.0, 3.0]
        >>> Recipe().loss_weights(np.array([0, 1]), 2) is None
        True
        """
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str):  # "balanced"
            counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
            return len(y) / (n_classes * np.maximum(counts, 1).astype(np.float64))
        return np.asarray(self.class_weight, dtype=np.float64)

    def shortened(self, share: float) -> Recipe:
        """This recipe over ``share`` of its epochs (at least one), the schedule laid over them.

        Examples
        --------
        >>> Recipe(max_epochs=100).shortened(1 / 3).max_epochs
        33
        >>> Recipe(max_epochs=2).shortened(0.1).max_epochs
        1
        """
        return replace(self, max_epochs=max(1, round(self.max_epochs * share)))


def inherit_share(setting: bool | float) -> float:
    """The share of ``max_epochs`` an inheriting child trains, for ``inherit_weights=setting``.

    0.0 when nothing is inherited (False); :data:`CHILD_SHARE` for True; a
    float in (0, 1] is the share itself (1.0: the whole schedule).

    Examples
    --------
    >>> inherit_share(False), inherit_share(True), inherit_share(1 / 3) < 1
    (0.0, 1.0, True)
    """
    if isinstance(setting, (bool, np.bool_)):
        return CHILD_SHARE if setting else 0.0
    return float(setting)


def make_net(
    genome: Genome,
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    max_epochs: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None,
    device: str,
    net_params: Mapping[str, Any],
    train_split: Any = None,
    callbacks: list | None = None,
    recipe: Recipe | None = None,
    class_weights: np.ndarray | None = None,
    stop_at: float | None = None,
    deadline_file: str | None = None,
) -> NeuralNetClassifier:
    """The skorch classifier for ``genome`` (built but not yet trained).

    The genome's ``optimizer`` (:func:`optimizer_for`), ``lr`` and
    ``batch_size`` genes set up training, and its ``weight_decay`` gene, if
    it has one, goes to the optimizer. ``recipe`` adds its learning-rate
    schedule (over ``recipe.max_epochs``), label smoothing and
    training-batch augmentation; without it (a net that only predicts)
    there are none. ``stop_at`` and ``deadline_file`` are the training's
    deadline, which the schedule is shortened to meet
    (:class:`~skevonas.training.runtime.CosineSchedule`). ``net_params`` go
    to skorch (``callbacks`` added to skevonas's own). ``class_weights``
    (one per class, from :meth:`Recipe.loss_weights`) weigh the
    cross-entropy loss.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})],
    ...                 {"optimizer": "sgd", "lr": 0.05})
    >>> net = make_net(genome, (4,), 3, max_epochs=5, input_stats=None, device="cpu",
    ...                net_params={}, recipe=Recipe(label_smoothing=0.1))
    >>> net.optimizer.__name__, net.lr, net.criterion__label_smoothing
    ('SGD', 0.05, 0.1)
    """
    optimizer, optimizer_defaults = optimizer_for(str(genome.get("optimizer", "adam")))
    optimizer_defaults = dict(optimizer_defaults)
    default_lr = optimizer_defaults.pop("lr", 1e-3)  # a Keras twin brings its own
    if genome.get("weight_decay") is not None:
        optimizer_defaults["weight_decay"] = float(genome.get("weight_decay"))
    callbacks = list(callbacks or [])
    if recipe is not None and recipe.lr_schedule == "cosine":
        schedule = CosineSchedule(recipe.max_epochs, stop_at, deadline_file)
        callbacks.append(("lr_schedule", schedule))
    params: dict[str, Any] = {
        "module": build_module(genome, input_shape, n_classes, input_stats),
        "criterion": nn.CrossEntropyLoss,
        "optimizer": optimizer,
        "lr": float(genome.get("lr", default_lr)),
        "batch_size": int(genome.get("batch_size", 32)),
        "max_epochs": int(max_epochs),
        "train_split": train_split,
        "classes": list(range(n_classes)),
        "iterator_train": SliceBatches,
        "iterator_valid": SliceBatches,
        "iterator_train__shuffle": True,
        # validation in a few large batches; our own "valid_score" replaces
        # skorch's default accuracy callback
        "iterator_valid__batch_size": 256,
        "callbacks__valid_acc": None,
        "callbacks__print_log": None,  # silent anyway, and ~1 ms per epoch
        "device": device,
        "verbose": 0,
        **{f"optimizer__{k}": v for k, v in optimizer_defaults.items()},
    }
    if recipe is not None and recipe.label_smoothing:
        params["criterion__label_smoothing"] = float(recipe.label_smoothing)
    if class_weights is not None:
        params["criterion__weight"] = torch.as_tensor(class_weights, dtype=torch.float32)
    if recipe is not None and recipe.augment is not None:
        params["iterator_train__augment"] = recipe.augment
    extra = dict(net_params)
    user_callbacks = list(extra.pop("callbacks", []) or [])
    params.update(extra)
    params["callbacks"] = callbacks + user_callbacks
    return SearchNet(**params)
