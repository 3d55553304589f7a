"""Temperature scaling: one scalar that calibrates a classifier's probabilities.

Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks",
ICML 2017) divides the logits by one number ``T > 0``: for class
probabilities ``p``, the calibrated ones are ``softmax(log(p) / T)``
(:func:`apply_temperature`). ``T > 1`` softens over-confident
probabilities, ``T < 1`` sharpens under-confident ones; the class of
highest probability never changes, so accuracy does not either.
:func:`fit_temperature` picks the ``T`` that minimises the log loss of
held-out probabilities: the search fits it on the out-of-fold predictions
of its final model (:func:`skevonas.search.final.final_model`, with
``calibrate=True``), so no network is trained for it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

__all__ = ["apply_temperature", "fit_temperature", "log_loss_at"]

#: Probabilities are clipped to at least this before their log is taken.
MIN_PROBABILITY = 1e-12
#: The temperatures searched: from exp(-LOG_T_BOUND) to exp(LOG_T_BOUND).
LOG_T_BOUND = 5.0


def _scaled_logits(proba: np.ndarray, temperature: float) -> np.ndarray:
    logits = np.log(np.clip(np.asarray(proba, dtype=np.float64), MIN_PROBABILITY, None))
    return logits / temperature


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(proba) / temperature)``, row by row, in float64.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Class probabilities (rows summing to 1).
    temperature : float
        ``T > 0``; 1 leaves ``proba`` as it is.

    Returns
    -------
    calibrated : ndarray of shape (n_samples, n_classes)
        Rows summing to 1, each in the order of ``proba``'s columns; the
        largest entry of each row stays where it was.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4]])
    >>> apply_temperature(proba, 2.0).round(3).tolist()
    [[0.75, 0.25], [0.551, 0.449]]
    >>> apply_temperature(proba, 1.0) is proba
    True
    """
    if temperature == 1.0:
        return proba
    logits = _scaled_logits(proba, temperature)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def log_loss_at(proba: np.ndarray, y: np.ndarray, temperature: float) -> float:
    """The mean log loss of ``apply_temperature(proba, temperature)`` on labels ``y``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Class probabilities.
    y : ndarray of shape (n_samples,)
        Labels encoded as column indices of ``proba``.
    temperature : float
        ``T > 0``.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> import numpy as np
    >>> round(log_loss_at(np.array([[0.5, 0.5]]), np.array([0]), 1.0), 4)
    0.6931
    """
    logits = _scaled_logits(proba, temperature)
    top = logits.max(axis=1, keepdims=True)
    log_norm = (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]
    picked = logits[np.arange(len(y)), np.asarray(y, dtype=np.int64)]
    return float(np.mean(log_norm - picked))


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the log loss of held-out probabilities.

    A bounded one-dimensional search over ``log T`` in
    ``[-LOG_T_BOUND, LOG_T_BOUND]``; 1.0 when there is nothing to fit (no
    samples) or when no temperature does better than 1.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Held-out class probabilities (e.g. out-of-fold ones).
    y : ndarray of shape (n_samples,)
        Their labels, encoded as column indices.

    Returns
    -------
    temperature : float
        ``T > 0``.

    Examples
    --------
    Over-confident probabilities (right only 3 times in 4, at 0.99) get
    ``T > 1``:

    >>> import numpy as np
    >>> proba = np.array([[0.99, 0.01]] * 4)
    >>> y = np.array([0, 0, 0, 1])
    >>> t = fit_temperature(proba, y)
    >>> t > 1, round(float(apply_temperature(proba, t)[0, 0]), 2)
    (True, 0.75)
    """
    if len(y) == 0:
        return 1.0
    found = minimize_scalar(
        lambda log_t: log_loss_at(proba, y, math.exp(log_t)),
        bounds=(-LOG_T_BOUND, LOG_T_BOUND),
        method="bounded",
        options={"xatol": 1e-6},
    )
    temperature = math.exp(float(found.x))
    if not found.success or log_loss_at(proba, y, temperature) >= log_loss_at(proba, y, 1.0):
        return 1.0
    return temperature
