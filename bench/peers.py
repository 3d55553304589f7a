"""The peers of ``bench/eeg.py``: braindecode's zoo networks and MiniRocket, as a user runs them.

braindecode peers (``shallow``, ``eegnet``, ``eegnex``): braindecode 1.8.1's
``EEGClassifier`` with ``ShallowFBCSPNet``, ``EEGNet`` (the 1.8.1 class name;
``EEGNetv4`` is gone) or ``EEGNeX``, all at their default hyperparameters,
trained with the field's standard recipe (:data:`RECIPE`):

- per-channel z-scoring with the training split's statistics (mean and std of
  each channel over all training trials and time points), applied to the test
  split too;
- AdamW, weight decay 0; learning rate 1e-3 for EEGNet and EEGNeX, and
  0.0625 * 0.01 = 6.25e-4 for ShallowFBCSPNet, the value braindecode's
  trialwise decoding tutorial (``plot_bcic_iv_2a_moabb_trial``) documents for
  that network;
- batch 64 with the last, smaller batch kept (braindecode's default drops it,
  which would leave EyesOpenShut's 56 training trials with no batch at all);
- cosine annealing over a fixed number of epochs (100 unless ``--epochs``):
  ``skorch.callbacks.LRScheduler("CosineAnnealingLR", T_max=epochs)``;
- trained on the whole training split (``train_split=None``): no validation
  part, no early stopping, the last epoch's weights;
- the data's raw sampling rate (``n_chans``, ``n_times`` and ``n_outputs`` read
  from the data by braindecode; ``sfreq`` passed for the record);
- one torch thread per model (set around fit and predict, then restored);
  seeded with ``torch.manual_seed(seed)`` before the network is built.

MiniRocket (``minirocket``): aeon's ``MiniRocketClassifier`` (aeon 1.6 name)
with ``random_state=seed`` and ``n_jobs=1`` on the raw float64 data, its
default 10,000 kernels and ridge classifier.

The torchaudio workaround: ``import braindecode`` imports torchaudio (its
``braindecode.modules.filter`` and a few zoo models use it), and torchaudio's
wheel fails to load its compiled library under torch 2.13 (``OSError: Could not
load this library: .../_torchaudio.so``). :func:`stub_torchaudio` first tries the
real torchaudio; if that fails it removes the half-imported ``torchaudio``
modules from ``sys.modules`` and puts a stub package there (``torchaudio``,
``torchaudio.functional``, ``torchaudio.transforms``) whose every name is a
class that can be subclassed (``meta_neuromotor`` subclasses
``torchaudio.transforms.Spectrogram`` at import time) but raises
``RuntimeError`` when called or instantiated. ShallowFBCSPNet, EEGNet and EEGNeX
never touch torchaudio (they use none of ``FilterBankLayer``,
``GeneralizedGaussianFilter``, ``Resample`` or ``Spectrogram``), so a peer that
trains and predicts is the proof: any torchaudio call would have raised. The
stub lives in this process only; nothing outside ``bench/`` changes.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

PEERS = ("shallow", "eegnet", "eegnex")
MODEL_NAMES = {"shallow": "ShallowFBCSPNet", "eegnet": "EEGNet", "eegnex": "EEGNeX"}
RECIPE: dict[str, Any] = {
    "standardize": "per channel, training-split mean and std",
    "optimizer": "AdamW",
    "weight_decay": 0.0,
    "batch_size": 64,
    "drop_last": False,
    "scheduler": "CosineAnnealingLR, T_max = epochs",
    "train_split": None,
    "early_stopping": None,
    "torch_threads": 1,
}
LEARNING_RATE = {"shallow": 0.0625 * 0.01, "eegnet": 1e-3, "eegnex": 1e-3}
DEFAULT_EPOCHS = 100
STUB_MODULES = ("torchaudio", "torchaudio.functional", "torchaudio.transforms")


# --------------------------------------------------------------------------- torchaudio stub
class TorchaudioStub:
    """Stands for one torchaudio name: subclassable, but fails when used."""

    stub_name = "torchaudio"

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError(
            f"{self.stub_name} was called, but torchaudio is a stub in bench/peers.py "
            "(its wheel does not load with this torch); this peer needs the real torchaudio"
        )


def stub_module(name: str) -> types.ModuleType:
    """A stub package ``name`` whose every public attribute is a :class:`TorchaudioStub`."""
    module = types.ModuleType(name, "Stub: see bench/peers.py.")
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__path__ = []

    def missing(attribute: str) -> type:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return type(attribute, (TorchaudioStub,), {"stub_name": f"{name}.{attribute}"})

    module.__getattr__ = missing  # type: ignore[method-assign]
    return module


def stub_torchaudio() -> str:
    """Make ``import torchaudio`` work; return its version, or ``"stub"`` if stubbed."""
    try:
        import torchaudio
    except (ImportError, OSError):
        pass
    else:
        return str(torchaudio.__version__)
    for name in [name for name in sys.modules if name.split(".")[0] == "torchaudio"]:
        del sys.modules[name]
    for name in STUB_MODULES:
        sys.modules[name] = stub_module(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    return "stub"


TORCHAUDIO = stub_torchaudio()

with warnings.catch_warnings():  # zoo models unrelated to the peers warn about MNE montages
    warnings.simplefilter("ignore", FutureWarning)
    from braindecode import EEGClassifier  # noqa: E402  (needs the stub first)
    from braindecode.models import EEGNet, EEGNeX, ShallowFBCSPNet  # noqa: E402
from skorch.callbacks import LRScheduler  # noqa: E402

MODELS = {"shallow": ShallowFBCSPNet, "eegnet": EEGNet, "eegnex": EEGNeX}


# --------------------------------------------------------------------------- the recipe
class ChannelStandardizer(TransformerMixin, BaseEstimator):
    """Z-score each channel of ``(n_trials, n_channels, n_times)`` data with fit-time statistics."""

    def fit(self, X: np.ndarray, y: object = None) -> ChannelStandardizer:
        X = np.asarray(X, dtype=np.float32)
        self.mean_ = X.mean(axis=(0, 2), keepdims=True)
        std = X.std(axis=(0, 2), keepdims=True)
        self.std_ = np.where(std > 0, std, 1.0).astype(np.float32)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, dtype=np.float32) - self.mean_) / self.std_).astype(np.float32)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def peer_settings(method: str, epochs: int, sfreq: float) -> dict[str, Any]:
    """The settings of one braindecode peer, as recorded in a results row."""
    return {
        "model": f"braindecode.models.{MODEL_NAMES[method]} (defaults)",
        "lr": LEARNING_RATE[method],
        **RECIPE,
        "max_epochs": epochs,
        "sfreq": sfreq,
        "torchaudio": TORCHAUDIO,
    }


def make_peer(method: str, epochs: int, sfreq: float) -> Pipeline:
    """An unfitted z-scoring + ``EEGClassifier`` pipeline for integer-coded labels."""
    net = EEGClassifier(
        MODELS[method],
        module__sfreq=sfreq,
        optimizer=torch.optim.AdamW,
        optimizer__lr=LEARNING_RATE[method],
        optimizer__weight_decay=RECIPE["weight_decay"],
        batch_size=RECIPE["batch_size"],
        iterator_train__drop_last=RECIPE["drop_last"],
        max_epochs=epochs,
        train_split=None,
        callbacks=[("lr_scheduler", LRScheduler("CosineAnnealingLR", T_max=epochs))],
        device="cpu",
        verbose=0,
    )
    return Pipeline([("zscore", ChannelStandardizer()), ("net", net)])


def fit_peer(
    method: str, X: np.ndarray, y: np.ndarray, sfreq: float, seed: int, epochs: int
) -> Pipeline:
    """Train one braindecode peer on ``X`` and integer labels ``y`` (one thread, seeded)."""
    with torch_threads(RECIPE["torch_threads"]):
        torch.manual_seed(seed)
        return make_peer(method, epochs, sfreq).fit(X, y)


def predict_peer(model: Pipeline, X: np.ndarray) -> np.ndarray:
    """Integer class predictions of a fitted peer (one thread)."""
    with torch_threads(RECIPE["torch_threads"]):
        return np.asarray(model.predict(X))


def describe_peer(model: Pipeline) -> str:
    """The network's class name and parameter count."""
    module = model.named_steps["net"].module_
    n_params = sum(p.numel() for p in module.parameters())
    return f"{type(module).__name__}, {n_params:,} parameters"


# --------------------------------------------------------------------------- MiniRocket
def minirocket_settings() -> dict[str, Any]:
    """The settings of the MiniRocket peer, as recorded in a results row."""
    return {"model": "aeon MiniRocketClassifier (defaults)", "n_jobs": 1, "dtype": "float64"}


def fit_minirocket(X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """aeon's MiniRocketClassifier, seeded, one job, on float64 data."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    return MiniRocketClassifier(random_state=seed, n_jobs=1).fit(X.astype(np.float64), y)


def warm_up_minirocket() -> None:
    """Compile numba's kernels once, before anything is timed."""
    rng = np.random.default_rng(0)
    fit_minirocket(rng.normal(size=(20, 2, 64)), np.repeat([0, 1], 10), 0)
