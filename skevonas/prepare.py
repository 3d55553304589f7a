"""What the candidates of a search train on: labels, seeds and the internal split.

:func:`prepare_data` is the public way to get exactly what
:class:`~skevonas.EvolutionaryNASClassifier` trains and scores candidates on
for given data and settings: the classes, the encoded labels, the seeds
derived from ``random_state`` and the stratified training / validation
parts (standardisation statistics from the training part only). Benchmarks
and tests use it to train a genome the way the search would, and
:class:`~skevonas.GenomeClassifier` uses the same seeds, so it reproduces a
search's split and refit.

One seed source: ``random_state`` gives one integer, the *entropy*; a
:class:`numpy.random.SeedSequence` of it gives the split's seed, the genetic
algorithm's seed sequence and the refit's seed, and
:func:`~skevonas.training.candidate.candidate_seed` gives each candidate's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_X_y

from .spaces.builders.layers import Decimate, channel_stats
from .training.candidate import CandidateData
from .training.groups import check_groups, grouped_holdout

__all__ = [
    "PreparedData",
    "Seeds",
    "apply_input_affine",
    "check_groups",
    "decimate_data",
    "draw_entropy",
    "encode_labels",
    "input_affine",
    "prepare_data",
    "split_data",
]


def draw_entropy(random_state: Any) -> int:
    """The one integer a fit derives all its seeds from, drawn from ``random_state``.

    Examples
    --------
    >>> draw_entropy(0) == draw_entropy(0), draw_entropy(0) == draw_entropy(1)
    (True, False)
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@dataclass(frozen=True)
class Seeds:
    """The seeds of one fit, all derived from ``entropy``.

    Parameters
    ----------
    entropy : int
        The root (:func:`draw_entropy`); a resumed search keeps its own.
    split : int
        Seed of the stratified training / validation split.
    evolution : numpy.random.SeedSequence
        Seeds the genetic algorithm's generator.
    refit : int
        Seed of the refit on all the data.

    Examples
    --------
    >>> seeds = Seeds.from_entropy(42)
    >>> seeds == Seeds.from_entropy(42), seeds.split == Seeds.from_entropy(43).split
    (True, False)
    """

    entropy: int
    split: int
    evolution: np.random.SeedSequence
    refit: int

    @classmethod
    def from_entropy(cls, entropy: int) -> Seeds:
        """The seeds for ``entropy``.

        Examples
        --------
        >>> Seeds.from_entropy(7).entropy
        7
        """
        split_ss, ga_ss, refit_ss = np.random.SeedSequence(entropy).spawn(3)
        return cls(
            int(entropy),
            int(split_ss.generate_state(1)[0]),
            ga_ss,
            int(refit_ss.generate_state(1)[0]),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Seeds):
            return NotImplemented
        return (self.entropy, self.split, self.refit) == (other.entropy, other.split, other.refit)

    def __hash__(self) -> int:
        return hash((self.entropy, self.split, self.refit))


def encode_labels(y: Any, owner: str = "skevonas") -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of ``y``, and ``y`` encoded as their int64 positions among them.

    Raises
    ------
    ValueError
        If ``y`` is not a classification target or holds fewer than 2
        classes (the message names ``owner``).

    Examples
    --------
    >>> classes, y = encode_labels(["b", "a", "b"])
    >>> classes.tolist(), y.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    y = np.asarray(y)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{owner} needs samples of at least 2 classes in y, "
            f"got 1 class: {encoder.classes_[0].tolist()!r}"
        )
    return encoder.classes_, encoder.transform(y).astype(np.int64)


def split_data(
    X: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    *,
    validation_fraction: float,
    seed: int,
    standardize: bool = True,
    groups: np.ndarray | None = None,
) -> CandidateData:
    """The stratified training / validation parts, with training-part statistics.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The data.
    y : ndarray of shape (n_samples,)
        Labels encoded as ``0 .. n_classes - 1``.
    classes : ndarray
        The class labels (for messages, and their number).
    validation_fraction : float
        Share of the samples held out, rounded up.
    seed : int
        Seed of the split (:attr:`Seeds.split`).
    standardize : bool, default=True
        Whether to compute the standardisation statistics (of the training
        part only).
    groups : ndarray of int or None, default=None
        Group codes of the samples (:func:`check_groups`): the parts then
        hold whole groups, about ``validation_fraction`` of the samples in
        the validation part, stratified as far as the groups allow
        (:func:`~skevonas.training.groups.grouped_holdout`); the returned
        data carries the groups, so that every later split keeps them apart.

    Returns
    -------
    CandidateData

    Raises
    ------
    ValueError
        If a class has fewer than 2 samples, or a part would miss a class
        (with groups: if no draw of whole groups gives each part every class).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20) % 2
    >>> parts = split_data(X, y, np.array([0, 1]), validation_fraction=0.2, seed=0)
    >>> len(parts.y_train), len(parts.y_valid), sorted(set(parts.y_valid.tolist()))
    (16, 4, [0, 1])

    With groups (say, 5 subjects of 4 trials), whole groups are held out:

    >>> subjects = np.repeat(np.arange(5), 4)
    >>> parts = split_data(X, y, np.array([0, 1]), validation_fraction=0.2, seed=0,
    ...                    groups=subjects)
    >>> len(parts.y_valid), sorted(set(parts.groups[:len(parts.y_train)]) & set(parts.groups[16:]))
    (4, [])
    """
    n_samples = len(y)
    n_classes = len(classes)
    counts = np.bincount(y, minlength=n_classes)
    n_valid = math.ceil(validation_fraction * n_samples)
    if counts.min() < 2:
        rare = classes[int(np.argmin(counts))].tolist()
        raise ValueError(
            f"class {rare!r} has only {counts.min()} sample(s); the stratified "
            f"validation split (validation_fraction={validation_fraction}) needs "
            "at least 2 samples per class"
        )
    if n_valid < n_classes or n_samples - n_valid < n_classes:
        raise ValueError(
            f"{n_samples} samples with validation_fraction={validation_fraction} "
            f"give {n_valid} validation and {n_samples - n_valid} training samples, "
            f"but each part needs at least one sample of each of the {n_classes} classes"
        )
    if groups is None:
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
        train_idx, valid_idx = next(splitter.split(np.zeros(n_samples), y))
    else:
        train_idx, valid_idx = grouped_holdout(groups, y, n_valid, seed)
        _check_grouped_parts(y[train_idx], y[valid_idx], classes, groups, y)
    X_train = X[train_idx]
    return CandidateData(
        X_train,
        y[train_idx],
        X[valid_idx],
        y[valid_idx],
        n_classes,
        channel_stats(X_train) if standardize else None,
        None if groups is None else groups[np.concatenate([train_idx, valid_idx])],
    )


def _check_grouped_parts(
    y_train: np.ndarray, y_valid: np.ndarray, classes: np.ndarray, groups: np.ndarray, y: np.ndarray
) -> None:
    """Raise if a holdout of whole groups left a class out of a part."""
    for part, labels in (("training", y_train), ("validation", y_valid)):
        missing = np.setdiff1d(np.arange(len(classes)), labels)
        if len(missing):
            label = classes[int(missing[0])]
            n_groups = len(np.unique(groups[y == missing[0]]))
            raise ValueError(
                f"groups leave class {label.tolist()!r} out of the {part} part: it lies in "
                f"{n_groups} of {len(np.unique(groups))} groups, and a holdout of whole groups "
                "needs every class in groups on both sides; give more groups, or groups=None"
            )


@dataclass(frozen=True)
class PreparedData:
    """Everything a search derives from ``X, y`` and its settings.

    Parameters
    ----------
    X : ndarray
        The data as float32 (with ``standardize``, centred and scaled
        first, as ``fit`` does: :func:`apply_input_affine`).
    y : ndarray
        The labels encoded as ``0 .. n_classes - 1``.
    classes : ndarray
        The class labels, in the order of the encoding.
    seeds : Seeds
        The fit's seeds.
    parts : CandidateData
        The internal training and validation parts every candidate uses.

    Examples
    --------
    >>> import numpy as np
    >>> prepared = prepare_data(np.eye(6), ["a", "b"] * 3, validation_fraction=0.5,
    ...                         random_state=0)
    >>> prepared.classes.tolist(), prepared.y.tolist(), prepared.X.dtype
    (['a', 'b'], [0, 1, 0, 1, 0, 1], dtype('float32'))
    """

    X: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    seeds: Seeds
    parts: CandidateData


def prepare_data(
    X: Any,
    y: Any,
    *,
    validation_fraction: float = 0.2,
    random_state: Any = None,
    standardize: bool = True,
    entropy: int | None = None,
    groups: Any = None,
) -> PreparedData:
    """What :class:`~skevonas.EvolutionaryNASClassifier` trains candidates on.

    With the same data, ``validation_fraction``, ``random_state`` and
    ``standardize`` as a search, the parts and seeds are exactly the
    search's: ``evaluate_candidate(genome, prepared.parts, settings,
    candidate_seed(prepared.seeds.entropy, genome))`` trains a genome as the
    search did.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        The data (2-D, 3-D or 4-D).
    y : array-like of shape (n_samples,)
        Class labels.
    validation_fraction : float, default=0.2
        Share of the data held out (stratified) to score candidates.
    random_state : int, RandomState instance or None, default=None
        The search's ``random_state``.
    standardize : bool, default=True
        Whether ``X`` is centred and scaled in float64 first, as ``fit``
        does (:func:`input_affine`), and the parts carry standardisation
        statistics (of the training part only).
    entropy : int or None, default=None
        The root seed itself (e.g. a checkpoint's ``meta["entropy"]``);
        overrides ``random_state``.
    groups : array-like of shape (n_samples,) or None, default=None
        The search's ``groups`` (subject, session or recording of every
        sample): the parts then hold whole groups (:func:`split_data`).

    Returns
    -------
    PreparedData

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> prepared = prepare_data(X, y, random_state=0)
    >>> prepared.classes.tolist(), len(prepared.parts.y_train), len(prepared.parts.y_valid)
    ([0, 1, 2], 120, 30)
    """
    X, y = check_X_y(X, y, allow_nd=True, dtype=(np.float64, np.float32))
    # as fit does: centred and scaled in float64 before the cast (input_offset_)
    X = apply_input_affine(X, *input_affine(X)) if standardize else X.astype(np.float32)
    classes, y_enc = encode_labels(y)
    seeds = Seeds.from_entropy(draw_entropy(random_state) if entropy is None else entropy)
    parts = split_data(
        X,
        y_enc,
        classes,
        validation_fraction=validation_fraction,
        seed=seeds.split,
        standardize=standardize,
        groups=check_groups(groups, len(y_enc)),
    )
    return PreparedData(X, y_enc, classes, seeds, parts)


def input_affine(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset and scale of ``X`` in float64: per feature (2-D ``X``), per channel otherwise.

    What ``fit`` keeps as ``input_offset_`` and ``input_scale_`` with
    ``standardize=True``: the mean and standard deviation of all of ``X``,
    computed in float64, of shape ``(n_features,)``, ``(n_channels, 1)`` or
    ``(channels, 1, 1)`` (they broadcast to one sample). The scale is 1
    where the spread is 0 (a constant feature is only centred).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1e8 + 1.0, 5.0], [1e8 - 1.0, 5.0]])
    >>> offset, scale = input_affine(X)
    >>> offset.tolist(), scale.tolist(), offset.dtype
    ([100000000.0, 5.0], [1.0, 1.0], dtype('float64'))
    >>> [a.shape for a in input_affine(np.zeros((4, 3, 10)))]
    [(3, 1), (3, 1)]
    """
    axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
    offset = X.mean(axis=axes, dtype=np.float64, keepdims=True)[0]
    squares = np.zeros_like(offset)
    for i in range(0, len(X), _CHUNK):  # the spread in float64, a chunk at a time
        squares += ((X[i : i + _CHUNK] - offset) ** 2).sum(axis=axes, keepdims=True)[0]
    scale = np.sqrt(squares / max(1, math.prod(X.shape[a] for a in axes)))
    return offset, np.where(scale > 0, scale, 1.0)


def apply_input_affine(X: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X - offset) / scale``, computed in float64 and returned as C-contiguous float32.

    Centring before the cast keeps the signal of data with a large offset
    (``1e8 + x`` keeps about one digit of ``x`` in float32); the float64
    work is done a chunk of samples at a time.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1e8 + 0.25], [1e8 - 0.25]])
    >>> apply_input_affine(X, *input_affine(X)).ravel().tolist()
    [1.0, -1.0]
    >>> bool(np.float32(1e8 + 0.25) == np.float32(1e8 - 0.25))  # the cast alone loses it
    True
    """
    out = np.empty(X.shape, dtype=np.float32)
    for i in range(0, len(X), _CHUNK):
        out[i : i + _CHUNK] = (np.asarray(X[i : i + _CHUNK], dtype=np.float64) - offset) / scale
    return out


_CHUNK = 1024  # samples converted to float64 at a time


def decimate_data(X: np.ndarray, factor: int) -> np.ndarray:
    """``X`` decimated in time by ``factor`` (float32), exactly as the final network's front does.

    The search trains on this; the final network holds the same
    :class:`~skevonas.spaces.builders.layers.Decimate` layer in front, so that it
    takes data at the original rate. ``factor`` 1 returns ``X`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((3, 2, 100), dtype=np.float32)
    >>> decimate_data(X, 4).shape, decimate_data(X, 1) is X
    ((3, 2, 25), True)
    """
    if factor == 1:
        return X
    layer = Decimate(factor)
    with torch.no_grad():
        parts = [
            layer(torch.from_numpy(np.ascontiguousarray(X[i : i + 256], dtype=np.float32))).numpy()
            for i in range(0, len(X), 256)
        ]
    return np.concatenate(parts)
