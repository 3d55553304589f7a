"""Bundled real EEG data sets and loaders.

Four EEG classification problems from the UEA multivariate time series
archive ship with the package (see ``skevonas/datasets/data/README.md`` for
their provenance and how to cite them). :func:`load_eeg` returns the
archive's own train/test split. :func:`load_fashion_mnist` reads
Fashion-MNIST from local files (nothing is downloaded).
:func:`make_subjects` simulates trials of several subjects whose own
patterns do not carry over to new ones (for ``fit(X, y, groups=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from .fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from .subjects import make_subjects

__all__ = [
    "EEG_BANDS",
    "EEG_DATASETS",
    "FASHION_MNIST_CLASSES",
    "EEGDatasetInfo",
    "band_power",
    "list_eeg_datasets",
    "load_eeg",
    "load_fashion_mnist",
    "make_subjects",
]


@dataclass(frozen=True)
class EEGDatasetInfo:
    """What is known about one bundled EEG data set.

    Parameters
    ----------
    name : str
        The data set's name in the UEA archive.
    sfreq : float
        Sampling frequency in Hz.
    ch_names : tuple of str or None
        Channel names, in the order of the channel axis of ``X``; None where
        the archive names no channels.
    origin : str
        Where the recordings come from.

    Examples
    --------
    >>> info = EEG_DATASETS["FingerMovements"]
    >>> info.sfreq, len(info.ch_names), info.ch_names[:3]
    (100.0, 28, ('F3', 'F1', 'Fz'))
    """

    name: str
    sfreq: float
    ch_names: tuple[str, ...] | None
    origin: str


_FINGER_CHANNELS = (
    "F3 F1 Fz F2 F4 FC5 FC3 FC1 FCz FC2 FC4 FC6 C5 C3 C1 Cz C2 C4 C6 "
    "CP5 CP3 CP1 CPz CP2 CP4 CP6 O1 O2"
).split()
_EYES_CHANNELS = "F7 F3 O2 P8 T8 FC6 F4 AF3 FC5 T7 P7 O1 F8 AF4".split()

#: The bundled data sets, by name: an :class:`EEGDatasetInfo` each.
EEG_DATASETS: dict[str, EEGDatasetInfo] = {
    info.name: info
    for info in (
        EEGDatasetInfo(
            "SelfRegulationSCP1",
            256.0,
            None,
            "BCI Competition II, data set Ia (Univ. Tuebingen): slow cortical "
            "potentials, healthy subject",
        ),
        EEGDatasetInfo(
            "SelfRegulationSCP2",
            256.0,
            None,
            "BCI Competition II, data set Ib (Univ. Tuebingen): slow cortical "
            "potentials, ALS patient",
        ),
        EEGDatasetInfo(
            "FingerMovements",
            100.0,
            tuple(_FINGER_CHANNELS),
            "BCI Competition II, data set IV (Berlin): self-paced key typing, 500 ms "
            "ending 130 ms before the key press",
        ),
        EEGDatasetInfo(
            "EyesOpenShut",
            128.0,
            tuple(_EYES_CHANNELS),
            'UCI "EEG Eye State" (one subject, Emotiv headset)',
        ),
    )
}


def list_eeg_datasets() -> list[str]:
    """Names of the bundled EEG data sets.

    Examples
    --------
    >>> list_eeg_datasets()
    ['EyesOpenShut', 'FingerMovements', 'SelfRegulationSCP1', 'SelfRegulationSCP2']
    """
    return sorted(EEG_DATASETS)


def load_eeg(
    name: str, *, return_X_y: bool = False, max_sfreq: float | None = None
) -> Bunch | tuple:
    """Load a bundled EEG data set with its archive train/test split.

    Parameters
    ----------
    name : str
        One of :func:`list_eeg_datasets`.
    return_X_y : bool, default=False
        If True, return ``(X_train, X_test, y_train, y_test)`` (the order of
        :func:`sklearn.model_selection.train_test_split`).
    max_sfreq : float or None, default=None
        If given and the data is sampled faster, decimate it by the largest
        integer factor that keeps the rate at or above ``max_sfreq``
        (:func:`scipy.signal.decimate` with ``zero_phase=True``: a low-pass
        anti-aliasing filter, then every n-th sample); ``sfreq`` says the
        new rate. Each epoch is filtered on its own, so test epochs never
        influence training epochs.

    Returns
    -------
    data : Bunch
        ``X_train`` and ``X_test`` (float32, ``(n_epochs, n_channels,
        n_times)``), ``y_train`` and ``y_test`` (string labels), ``sfreq``
        (Hz), ``ch_names`` (or None where the archive gives none), ``name``
        and ``origin``.

    Examples
    --------
    >>> data = load_eeg("SelfRegulationSCP1")
    >>> data.X_train.shape, data.X_test.shape, data.sfreq
    ((268, 6, 896), (293, 6, 896), 256.0)
    >>> sorted(set(data.y_train.tolist()))
    ['negativity', 'positivity']
    >>> load_eeg("SelfRegulationSCP1", max_sfreq=64).X_train.shape  # 256 Hz -> 64 Hz
    (268, 6, 224)
    """
    if max_sfreq is not None and not (
        isinstance(max_sfreq, (int, float)) and not isinstance(max_sfreq, bool) and max_sfreq > 0
    ):
        raise ValueError(f"max_sfreq must be None or a number > 0, got {max_sfreq!r} instead")
    if name not in EEG_DATASETS:
        raise ValueError(f"Unknown EEG data set {name!r}; must be one of {list_eeg_datasets()}")
    info = EEG_DATASETS[name]
    path = resources.files(__package__) / "data" / f"{name}.npz"
    with resources.as_file(path) as file, np.load(file, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in ("X_train", "y_train", "X_test", "y_test")}
    sfreq = info.sfreq
    factor = 1 if max_sfreq is None else int(sfreq // max_sfreq)
    if factor > 1:
        from scipy.signal import decimate  # scipy comes with scikit-learn

        for key in ("X_train", "X_test"):
            arrays[key] = np.ascontiguousarray(
                decimate(arrays[key], factor, axis=-1, zero_phase=True), dtype=np.float32
            )
        sfreq = sfreq / factor
    if return_X_y:
        return arrays["X_train"], arrays["X_test"], arrays["y_train"], arrays["y_test"]
    return Bunch(**arrays, sfreq=sfreq, ch_names=info.ch_names, name=info.name, origin=info.origin)


#: The default frequency bands of :func:`band_power`: ``name: (low, high)`` in Hz.
EEG_BANDS: dict[str, tuple[float, float]] = {
    "slow": (0.0, 1.0),
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
}


def band_power(
    X: np.ndarray, sfreq: float, bands: dict[str, tuple[float, float]] | None = None
) -> np.ndarray:
    """Log power per channel and frequency band: flat features for 2-D models.

    The power spectrum of every epoch and channel is taken with a Hann-windowed
    FFT; the mean power inside each ``[low, high)`` band (Hz) is log-scaled.

    Parameters
    ----------
    X : ndarray of shape (n_epochs, n_channels, n_times)
        EEG epochs.
    sfreq : float
        Sampling frequency in Hz.
    bands : dict of str to (low, high), default=EEG_BANDS
        Frequency bands.

    Returns
    -------
    features : ndarray of shape (n_epochs, n_channels * n_bands)
        Channel-major: all bands of channel 0, then channel 1, ...

    Examples
    --------
    >>> data = load_eeg("SelfRegulationSCP1")
    >>> band_power(data.X_train, data.sfreq).shape
    (268, 30)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_epochs, n_channels, n_times), got shape {X.shape}")
    bands = EEG_BANDS if bands is None else bands
    freqs = np.fft.rfftfreq(X.shape[-1], d=1.0 / sfreq)
    spectrum = np.abs(np.fft.rfft(X * np.hanning(X.shape[-1]), axis=-1)) ** 2
    columns = []
    for name, (low, high) in bands.items():
        mask = (freqs >= low) & (freqs < high)
        if not mask.any():
            raise ValueError(
                f"band {name!r} [{low}, {high}) Hz holds no FFT frequency at "
                f"sfreq={sfreq} with {X.shape[-1]} samples"
            )
        columns.append(np.log(spectrum[..., mask].mean(axis=-1) + 1e-12))
    return np.stack(columns, axis=-1).reshape(len(X), -1).astype(np.float32)
