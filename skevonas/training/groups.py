"""Splits that keep groups apart: whole subjects, sessions or recordings on one side.

Trials of one subject (or session, or recording) are alike, so a holdout
that puts some of a subject's trials on each side scores a network on
trials it has all but seen, and overstates what it does on a new subject.
With ``groups`` (one label per sample), the search's internal holdout and
the finalists' folds keep every group on one side:

- :func:`check_groups` checks the labels a ``fit`` receives and encodes
  them as ints (the sorted order of the labels, so the splits depend only
  on the labels, never on how they are spelled in memory);
- :func:`grouped_holdout` draws one holdout of whole groups, of about the
  size asked for and with the classes in about their proportions
  (stratified as far as the groups allow);
- :func:`grouped_fold` is fold ``fold`` of scikit-learn's
  :class:`~sklearn.model_selection.StratifiedGroupKFold`.

:meth:`CandidateData.split_indices
<skevonas.training.candidate.CandidateData.split_indices>` calls them when
its data carries groups, so every split of a search (the shared holdout,
each candidate's reshuffled one, a child's inherited one, the folds) is
grouped with no other change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

__all__ = ["check_groups", "grouped_fold", "grouped_holdout"]

# Random orders the greedy holdout tries; the one closest to the target wins.
_TRIES = 16


def check_groups(groups: Any, n_samples: int, *, n_folds: int | None = None) -> np.ndarray | None:
    """``groups`` as int codes (0 .. n_groups - 1, in the labels' sorted order), checked.

    Parameters
    ----------
    groups : array-like of shape (n_samples,) or None
        The group (subject, session, recording...) of every sample: ints or
        strings; None for no groups.
    n_samples : int
        The number of samples they must label.
    n_folds : int or None, default=None
        Folds of a grouped cross-validation to come, which needs at least
        as many groups.

    Returns
    -------
    codes : ndarray of int64, or None
        None when ``groups`` is None.

    Raises
    ------
    ValueError
        If ``groups`` is not one label per sample, holds NaN or None, mixes
        types, or has fewer than 2 groups (the holdout needs one on each
        side) or fewer than ``n_folds``.

    Examples
    --------
    >>> check_groups(["s2", "s1", "s2", "s3"], 4).tolist()
    [1, 0, 1, 2]
    >>> check_groups(None, 4) is None
    True
    >>> check_groups([1, 1, 2, 2], 4, n_folds=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: groups must hold at least 3 distinct groups for ... (cv=3), got 2 instead
    """
    if groups is None:
        return None
    values = np.asarray(groups)
    if values.ndim != 1 or len(values) != n_samples:
        raise ValueError(
            f"groups must be a 1-D array-like with one group per sample ({n_samples} samples), "
            f"got shape {values.shape} instead"
        )
    if _has_missing(values):
        raise ValueError(
            "groups must name a group for every sample, got NaN or None instead "
            f"(at sample {int(np.flatnonzero(_missing(values))[0])})"
        )
    try:
        labels, codes = np.unique(values, return_inverse=True)
    except TypeError as exc:  # labels that do not sort: mixed types
        raise ValueError(
            f"groups must be labels of one type (ints or strings), got a mix instead ({exc})"
        ) from exc
    if len(labels) < 2:
        raise ValueError(
            "groups must hold at least 2 distinct groups (the internal holdout keeps "
            f"whole groups on one side), got 1 group ({labels[0].tolist()!r}) instead"
        )
    if n_folds is not None and len(labels) < n_folds:
        raise ValueError(
            f"groups must hold at least {n_folds} distinct groups for the finalists' "
            f"{n_folds}-fold cross-validation (cv={n_folds}), got {len(labels)} instead"
        )
    return codes.astype(np.int64).reshape(-1)


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and v != v) for v in values])
    return np.zeros(len(values), dtype=bool)


def _has_missing(values: np.ndarray) -> bool:
    return bool(_missing(values).any())


def _class_counts(groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Samples of each class in each group: shape (n_groups, n_classes)."""
    counts = np.zeros((int(groups.max()) + 1, int(y.max()) + 1))
    np.add.at(counts, (groups, y), 1)
    return counts


def grouped_holdout(
    groups: np.ndarray, y: np.ndarray, n_valid: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices of a holdout of whole groups, drawn from ``seed``.

    A greedy draw: the groups, in a random order, join the validation part
    whenever that brings its class counts nearer to ``n_valid`` samples in
    the classes' proportions. Of several random orders, the draw that
    leaves no class missing from either part, and then the one nearest the
    target, wins. Each part holds at least one group.

    Parameters
    ----------
    groups : ndarray
        Groups of the samples (codes from :func:`check_groups`, or any
        sortable labels), at least 2 groups.
    y : ndarray of int
        Labels encoded as ``0 .. n_classes - 1``.
    n_valid : int
        Validation samples to aim for.
    seed : int
        Seeds the draw.

    Returns
    -------
    train, valid : ndarray of int
        Indices into the samples, each part in a random order.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.repeat(np.arange(10), 6)  # 10 subjects of 6 trials
    >>> y = np.tile([0, 1], 30)
    >>> train, valid = grouped_holdout(groups, y, n_valid=12, seed=0)
    >>> len(valid), set(groups[train]) & set(groups[valid]), np.bincount(y[valid]).tolist()
    (12, set(), [6, 6])
    """
    groups = np.unique(groups, return_inverse=True)[1].reshape(-1)  # any labels: 0 .. n - 1
    counts = _class_counts(groups, y)
    present = counts.sum(axis=0) > 0
    target = counts.sum(axis=0) * n_valid / len(y)
    rng = np.random.default_rng(seed)
    best: tuple[int, float] | None = None
    chosen = np.zeros(len(counts), dtype=bool)
    for _ in range(_TRIES):
        order = rng.permutation(len(counts))
        picked = _greedy(counts, target, order)
        in_valid = counts[picked].sum(axis=0)
        missing = int(np.sum(present & ((in_valid == 0) | (in_valid == counts.sum(axis=0)))))
        cost = (missing, float(np.abs(in_valid - target).sum()))
        if best is None or cost < best:
            best, chosen = cost, picked
    valid_mask = chosen[groups]
    return rng.permutation(np.flatnonzero(~valid_mask)), rng.permutation(np.flatnonzero(valid_mask))


def _greedy(counts: np.ndarray, target: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The groups that join the validation part, taken in ``order``."""
    picked = np.zeros(len(counts), dtype=bool)
    now = np.zeros(counts.shape[1])
    for g in order:
        if np.abs(now + counts[g] - target).sum() < np.abs(now - target).sum():
            picked[g] = True
            now += counts[g]
    if not picked.any():  # every group is too big: the first one goes
        picked[order[0]] = True
    elif picked.all():  # both parts need a group
        picked[order[-1]] = False
    return picked


def grouped_fold(
    groups: np.ndarray, y: np.ndarray, n_folds: int, fold: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices of fold ``fold`` of a stratified grouped k-fold.

    :class:`~sklearn.model_selection.StratifiedGroupKFold` with shuffled
    groups: every group lies in one validation fold, and the folds keep the
    classes in about their proportions as far as the groups allow.

    Examples
    --------
    >>> import numpy as np
    >>> groups, y = np.repeat(np.arange(6), 4), np.tile([0, 1], 12)
    >>> train, valid = grouped_fold(groups, y, n_folds=3, fold=0, seed=0)
    >>> len(valid), sorted(set(groups[valid]) & set(groups[train]))
    (8, [])
    """
    splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))[fold]
