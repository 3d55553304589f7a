"""MNE-Python Epochs as input: their data, labels and sampling rate.

The skevonas classifiers take an :class:`mne.Epochs` (any
``mne.BaseEpochs``: ``EpochsArray``, epochs read from a ``-epo.fif``
file...) wherever they take ``X``. This module reads one, without
importing MNE: an object is taken for Epochs when it has ``get_data``,
``events``, ``event_id`` and ``info`` (:func:`is_epochs`), so skevonas
needs MNE only to read ``-epo.fif`` files (:func:`read_epochs_file`,
``pip install "skevonas[mne]"``).

- The data are ``epochs.get_data()``: every channel of the Epochs (pick
  them first, e.g. ``epochs.pick("eeg")``), in the units MNE stores
  (volts for EEG; the networks standardise their input per channel).
  Epochs that are not loaded yet are loaded, and epochs marked bad are
  dropped, as MNE does.
- The labels are the events' names: ``epochs.events[:, 2]`` mapped through
  ``epochs.event_id`` (e.g. ``"left"`` and ``"right"``; a code without a
  name stays its code). A ``y`` given with the Epochs wins over them.
- The sampling rate is ``epochs.info["sfreq"]``; the classifiers' ``sfreq``
  setting must agree with it (:func:`input_sfreq`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "EpochsData",
    "check_sfreq",
    "epochs_labels",
    "input_sfreq",
    "is_epochs",
    "read_epochs",
    "read_epochs_file",
]

MNE_INSTALL = 'pip install "skevonas[mne]"'


def is_epochs(X: Any) -> bool:
    """Whether ``X`` looks like MNE Epochs (``get_data``, ``events``, ``event_id``, ``info``).

    Examples
    --------
    >>> import numpy as np
    >>> is_epochs(np.zeros((2, 3, 4)))
    False
    >>> import mne
    >>> info = mne.create_info(["C3", "C4"], sfreq=128.0, ch_types="eeg")
    >>> is_epochs(mne.EpochsArray(np.zeros((2, 2, 64)), info, verbose=False))
    True
    """
    return all(hasattr(X, name) for name in ("get_data", "events", "event_id", "info"))


def epochs_labels(epochs: Any) -> np.ndarray:
    """The class label of every epoch: its event's name in ``epochs.event_id``.

    ``epochs.events[:, 2]`` mapped through ``epochs.event_id`` (name ->
    code); a code without a name is kept as its code, as a string.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["C3", "C4"], sfreq=128.0, ch_types="eeg")
    >>> events = np.array([[0, 0, 1], [64, 0, 2], [128, 0, 1]])
    >>> epochs = mne.EpochsArray(np.zeros((3, 2, 64)), info, events,
    ...                          event_id={"left": 1, "right": 2}, verbose=False)
    >>> epochs_labels(epochs).tolist()
    ['left', 'right', 'left']
    """
    names = {int(code): str(name) for name, code in dict(epochs.event_id).items()}
    codes = np.asarray(epochs.events)[:, 2]
    return np.asarray([names.get(int(code), str(int(code))) for code in codes])


@dataclass(frozen=True)
class EpochsData:
    """What :func:`read_epochs` gives: samples, labels and the sampling rate.

    Parameters
    ----------
    X : array-like or ndarray
        The samples: ``X`` itself, or the Epochs' data ``(n_epochs,
        n_channels, n_times)``.
    y : array-like or None
        The labels: ``y`` if given, else the Epochs' event names (None for
        other input without ``y``).
    sfreq : float or None
        The Epochs' sampling rate in Hz; None for other input.

    Examples
    --------
    >>> data = EpochsData(np.zeros((2, 3)), None, None)
    >>> data.X.shape, data.sfreq
    ((2, 3), None)
    """

    X: Any
    y: Any
    sfreq: float | None


def read_epochs(X: Any, y: Any = None) -> EpochsData:
    """The samples, labels and rate of ``X``: read from MNE Epochs, else ``X, y`` as they are.

    Parameters
    ----------
    X : mne.Epochs or array-like
        The input.
    y : array-like or None, default=None
        Labels; given with Epochs, they win over the events' names.

    Returns
    -------
    data : EpochsData
        For Epochs: ``epochs.get_data()`` (all channels, MNE's units; bad
        epochs dropped), the labels (``y``, else :func:`epochs_labels`)
        and ``info["sfreq"]``. For anything else ``X``, ``y`` and None.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["C3", "C4", "Cz"], sfreq=250.0, ch_types="eeg")
    >>> epochs = mne.EpochsArray(np.zeros((4, 3, 100)), info, verbose=False)
    >>> data = read_epochs(epochs)
    >>> data.X.shape, data.y.tolist(), data.sfreq
    ((4, 3, 100), ['1', '1', '1', '1'], 250.0)
    >>> read_epochs([[1.0, 2.0]], [0]).sfreq is None
    True
    """
    if not is_epochs(X):
        return EpochsData(X, y, None)
    samples = X.get_data(copy=False)  # loads the epochs and drops the bad ones first
    labels = epochs_labels(X) if y is None else y
    return EpochsData(samples, labels, float(X.info["sfreq"]))


def input_sfreq(
    setting: float | None, found: float | None, sample_shape: Sequence[int]
) -> float | None:
    """The sampling rate (Hz) of a fit's input: the ``sfreq`` setting, else the Epochs' own.

    Parameters
    ----------
    setting : float or None
        The classifier's ``sfreq`` (already checked: None or a number > 0).
    found : float or None
        The rate of the Epochs given, if any (:func:`read_epochs`).
    sample_shape : sequence of int
        The shape of one sample.

    Returns
    -------
    sfreq : float or None
        The rate, or None if neither says it.

    Raises
    ------
    ValueError
        If the setting and the Epochs disagree, or a rate is given for
        input that is not 3-D ``(n_samples, n_channels, n_times)``.

    Examples
    --------
    >>> input_sfreq(None, 250.0, (3, 100)), input_sfreq(128, None, (3, 100))
    (250.0, 128.0)
    >>> input_sfreq(None, None, (4,)) is None
    True
    >>> input_sfreq(128, 250.0, (3, 100))
    Traceback (most recent call last):
        ...
    ValueError: sfreq=128 disagrees with the Epochs' sampling rate of 250 Hz (info['sfreq']); \
leave sfreq=None to take the Epochs' rate
    """
    if setting is not None and found is not None and not math.isclose(setting, found):
        raise ValueError(
            f"sfreq={setting!r} disagrees with the Epochs' sampling rate of {found:g} Hz "
            "(info['sfreq']); leave sfreq=None to take the Epochs' rate"
        )
    sfreq = found if setting is None else float(setting)
    if sfreq is not None and len(sample_shape) != 2:
        raise ValueError(
            f"sfreq={setting!r} is the sampling rate of the time axis of 3-D input (n_samples, "
            f"n_channels, n_times); got samples of shape {tuple(sample_shape)}: leave sfreq=None"
        )
    return sfreq


def check_sfreq(fitted: float | None, found: float | None, owner: str) -> None:
    """Refuse data sampled at ``found`` Hz for a model fitted at ``fitted`` Hz (None: unknown).

    Raises
    ------
    ValueError
        If both rates are known and differ, naming both.

    Examples
    --------
    >>> check_sfreq(128.0, 128.0, "model"), check_sfreq(None, 250.0, "model")
    (None, None)
    >>> check_sfreq(128.0, 250.0, "model")
    Traceback (most recent call last):
        ...
    ValueError: model was fitted on data sampled at 128 Hz, but these Epochs are sampled at \
250 Hz; resample them first (epochs.resample(128))
    """
    if fitted is not None and found is not None and not math.isclose(fitted, found):
        raise ValueError(
            f"{owner} was fitted on data sampled at {fitted:g} Hz, but these Epochs are "
            f"sampled at {found:g} Hz; resample them first (epochs.resample({fitted:g}))"
        )


def read_epochs_file(path: str | os.PathLike) -> EpochsData:
    """Read MNE Epochs from a ``-epo.fif`` file: samples, labels and the sampling rate.

    Needs MNE-Python (``pip install "skevonas[mne]"``).

    Parameters
    ----------
    path : str or path
        A file written by ``epochs.save`` (``*-epo.fif``, ``*_epo.fif``,
        also ``.fif.gz``).

    Returns
    -------
    data : EpochsData
        As :func:`read_epochs` gives it for the file's Epochs.

    Raises
    ------
    ImportError
        If MNE-Python is not installed; the message says how to install it.
    ValueError
        If the file holds no Epochs MNE can read.

    Examples
    --------
    >>> import mne, numpy as np, pathlib, tempfile
    >>> info = mne.create_info(["C3", "C4"], sfreq=100.0, ch_types="eeg")
    >>> epochs = mne.EpochsArray(np.zeros((2, 2, 50)), info, verbose=False)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "data-epo.fif"
    >>> _ = epochs.save(path, verbose=False)
    >>> data = read_epochs_file(path)
    >>> data.X.shape, data.sfreq
    ((2, 2, 50), 100.0)
    >>> tmp.cleanup()
    """
    try:
        import mne
    except ImportError as exc:
        raise ImportError(
            f"reading {str(path)!r} (MNE Epochs) needs MNE-Python: {MNE_INSTALL}"
        ) from exc
    try:
        epochs = mne.read_epochs(path, preload=True, verbose="error")
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise ValueError(f"cannot read MNE Epochs from {str(path)!r}: {exc}") from exc
    return read_epochs(epochs)
