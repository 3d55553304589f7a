"""Simulated trials of several subjects, whose own patterns do not carry over.

:func:`make_subjects` makes the kind of data where a random holdout
misleads: every subject's trials share an offset (a fingerprint of that
subject) and a class pattern of that subject alone, beside a weaker class
pattern that all subjects share. A network scored on a random holdout has
seen other trials of the same subjects and uses their own patterns, so its
score overstates what it does on a new subject, where only the shared
pattern helps; a holdout of whole subjects (``fit(X, y, groups=groups)``)
does not. Plain NumPy, nothing downloaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["make_subjects"]


def make_subjects(
    n_subjects: int = 18,
    n_trials: int = 40,
    n_features: int = 16,
    *,
    shared_effect: float = 1.5,
    subject_effect: float = 3.0,
    subject_offset: float = 2.0,
    noise: float = 1.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-class trials of ``n_subjects`` subjects, with a subject effect.

    A trial of subject ``s`` with label ``c`` (0 or 1) is ``offset[s] +
    (c - 1/2) * (shared + own[s]) + noise``: ``offset[s]`` a random point
    (spread ``subject_offset`` per feature), ``shared`` a random direction
    of length ``shared_effect`` common to all subjects, ``own[s]`` a random
    direction of length ``subject_effect`` of subject ``s`` alone, and the
    noise Gaussian (``noise`` per feature). Each subject has ``n_trials``
    trials, half of each class, in a random order.

    Parameters
    ----------
    n_subjects : int, default=18
        Subjects (groups).
    n_trials : int, default=40
        Trials per subject (an even number gives balanced classes).
    n_features : int, default=16
        Features per trial (think of band powers per channel).
    shared_effect : float, default=1.5
        Distance between the class means that every subject shares: what
        carries over to a new subject.
    subject_effect : float, default=3.0
        Distance between a subject's own class means, in a direction of its
        own: what a random holdout rewards and a new subject does not have.
    subject_offset : float, default=2.0
        Spread of the subjects' offsets: how far apart subjects lie.
    noise : float, default=1.0
        Standard deviation of the trial-to-trial noise.
    random_state : int, Generator or None, default=None
        Seeds everything (``numpy.random.default_rng``).

    Returns
    -------
    X : ndarray of shape (n_subjects * n_trials, n_features), float32
        The trials, subject after subject.
    y : ndarray of shape (n_subjects * n_trials,), int64
        Labels 0 and 1.
    groups : ndarray of shape (n_subjects * n_trials,), int64
        The subject of each trial, ``0 .. n_subjects - 1``.

    Raises
    ------
    ValueError
        If a count is below 1 (2 for subjects and trials) or an effect is negative.

    Examples
    --------
    >>> X, y, groups = make_subjects(n_subjects=4, n_trials=6, n_features=3, random_state=0)
    >>> X.shape, int(y[groups == 0].sum()), groups.tolist()[:8]
    ((24, 3), 3, [0, 0, 0, 0, 0, 0, 1, 1])
    """
    counts = {
        "n_subjects": (n_subjects, 2),
        "n_trials": (n_trials, 2),
        "n_features": (n_features, 1),
    }
    for name, (count, least) in counts.items():
        if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < least:
            raise ValueError(f"{name} must be an int >= {least}, got {count!r} instead")
    scales = {
        "shared_effect": shared_effect,
        "subject_effect": subject_effect,
        "subject_offset": subject_offset,
        "noise": noise,
    }
    for name, value in scales.items():
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite float >= 0, got {value!r} instead")
    rng = np.random.default_rng(random_state)
    shared = _direction(rng, n_features) * shared_effect
    own = np.stack([_direction(rng, n_features) for _ in range(n_subjects)]) * subject_effect
    offset = rng.normal(scale=subject_offset, size=(n_subjects, n_features))
    groups = np.repeat(np.arange(n_subjects, dtype=np.int64), n_trials)
    y = np.concatenate([rng.permutation(np.arange(n_trials) % 2) for _ in range(n_subjects)])
    sign = (y[:, None] - 0.5).astype(np.float64)
    X = offset[groups] + sign * (shared + own[groups])
    X += rng.normal(scale=noise, size=X.shape)
    return X.astype(np.float32), y.astype(np.int64), groups


def _direction(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random unit vector."""
    v = rng.normal(size=n)
    return v / np.linalg.norm(v)
