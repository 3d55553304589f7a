"""A model that runs without skevonas: :func:`to_pytorch` writes a folder of plain PyTorch.

The folder holds four files:

- ``model.py``: readable PyTorch code for the network, generated from it
  (:func:`~skevonas.store.pytorch_source.network_source`): one class per
  network, and ``load(folder)``, which returns a classifier with
  ``predict`` and ``predict_proba`` on raw NumPy samples and the network as
  ``.module``. It imports torch, numpy and safetensors, never skevonas;
- ``model.safetensors``: the network's state dict (weights and buffers);
- ``config.json``: plain data: the classes (with their dtype), the shape of
  one sample, the sampling rate (``sfreq_``, if the estimator has one), the
  input step applied before the network (``input_offset_`` and
  ``input_scale_``, in float64), the decimation and standardisation
  statistics the network applies, the genomes and ensemble weights, and the
  skevonas version;
- ``README.md``: a model card (:func:`~skevonas.store.model_card.model_card`).

Nothing in the folder runs when skevonas writes it: the exporter checks the
generated code by compiling the text it has just generated (never a file)
and comparing the network it builds with the original on a random batch.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._version import __version__
from ..spaces.builders.layers import Standardize
from ..training.ensemble import EnsembleModule
from .model_card import model_card
from .pytorch_source import network_source

__all__ = ["FILES", "FORMAT", "FORMAT_VERSION", "export_config", "to_pytorch"]

FILES = ("model.py", "model.safetensors", "config.json", "README.md")
FORMAT = "skevonas-pytorch"
FORMAT_VERSION = 1
_DEFAULT_BATCH_SIZE = 256


def _input_step(estimator: Any, name: str, sample_shape: tuple[int, ...]) -> Any:
    """``input_offset_`` or ``input_scale_`` as nested lists of float64 (None if absent)."""
    value = getattr(estimator, name, None)
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == len(sample_shape) + 1 and array.shape[0] == 1:
        array = array[0]  # a leading batch axis of 1
    try:
        broadcast = np.broadcast_shapes(array.shape, sample_shape)
    except ValueError:
        broadcast = None
    if broadcast != sample_shape:
        raise ValueError(
            f"{name} of shape {array.shape} does not broadcast to one sample of shape "
            f"{sample_shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return array.tolist()


def _sfreq(estimator: Any) -> float | None:
    value = getattr(estimator, "sfreq_", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"sfreq_ must be a number or None, got {value!r:.60}")
    if not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"sfreq_ must be a positive finite number, got {value!r}")
    return float(value)


def _batch_size(net: Any) -> int:
    """The batch size the estimator predicts with (so the export batches alike)."""
    for name in ("iterator_valid__batch_size", "batch_size"):
        value = getattr(net, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
    return _DEFAULT_BATCH_SIZE


def _networks(module: nn.Module) -> list[nn.Module]:
    return list(module.members) if isinstance(module, EnsembleModule) else [module]


def _statistics(network: nn.Module) -> dict[str, Any] | None:
    layer = dict(network.named_children()).get("standardize")
    if not isinstance(layer, Standardize):
        return None
    return {"mean": layer.mean[0].tolist(), "std": layer.std[0].tolist()}


def _steps(
    offset: bool, scale: bool, decimation: int, standardize: bool, temperature: float = 1.0
) -> list[str]:
    """The input's way from raw samples to class probabilities, in words."""
    steps = ["X = numpy.asarray(X), of shape (n_samples, *input.sample_shape)"]
    if offset or scale:
        formula = "X.astype(float64)"
        formula = f"({formula} - input_offset)" if offset else formula
        formula = f"{formula} / input_scale" if scale else formula
        steps.append(f"X = {formula}  (preprocessing.input_offset / input_scale)")
    steps.append("X = X.astype(float32)")
    if decimation > 1:
        steps.append(
            f"in the network: Decimate({decimation}), a low-pass FIR filter then every "
            f"{decimation}th time sample"
        )
    if standardize:
        steps.append(
            "in the network (each member of an ensemble): (x - mean) / std, the training "
            "statistics (preprocessing.standardize)"
        )
    if temperature != 1.0:
        steps.append(f"network output / {temperature!r} (network.temperature, calibration)")
    steps.append("network output -> softmax -> class probabilities (columns: classes)")
    return steps


def export_config(estimator: Any, model: Any, module: nn.Module) -> dict[str, Any]:
    """The ``config.json`` of a standalone export: plain data only.

    Parameters
    ----------
    estimator : fitted skevonas classifier
        Read for ``sfreq_``, ``input_offset_`` and ``input_scale_`` (each
        optional: ``None`` where absent) and ``temperature_`` (1 where absent).
    model : FittedModel
        ``estimator.fitted_model()``.
    module : nn.Module
        The network exported (a CPU copy of ``model.net.module_``).

    Returns
    -------
    config : dict
        JSON values only; see :mod:`skevonas.store.standalone`.

    Raises
    ------
    ValueError
        If ``sfreq_``, ``input_offset_`` or ``input_scale_`` is not a valid
        value (a positive number; finite arrays that broadcast to one sample).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import Genome, GenomeClassifier, LayerGene
    >>> X, y = load_iris(return_X_y=True)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> clf = GenomeClassifier(genome, max_epochs=1, random_state=0).fit(X, y)
    >>> config = export_config(clf, clf.fitted_model(), clf.module_)
    >>> config["input"]
    {'sample_shape': [4], 'dtype': 'float32', 'sfreq': None, 'feature_names': None}
    >>> config["classes"]["values"], config["preprocessing"]["decimation"]
    ([0, 1, 2], 1)
    >>> stats = config["preprocessing"]["standardize"][0]
    >>> stats["mean"] == clf.module_.standardize.mean[0].tolist()
    True
    """
    sample_shape = tuple(int(s) for s in model.sample_shape)
    classes = np.asarray(model.classes)
    ensemble = model.ensemble
    genomes = list(ensemble.genomes) if ensemble is not None else [model.genome]
    weights = list(ensemble.weights) if ensemble is not None else [1.0]
    decimation = int(ensemble.decimation) if ensemble is not None else 1
    offset = _input_step(estimator, "input_offset_", sample_shape)
    scale = _input_step(estimator, "input_scale_", sample_shape)
    statistics = [_statistics(network) for network in _networks(module)]
    names = model.feature_names_in
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skevonas_version": __version__,
        "estimator": model.estimator,
        "classes": {"dtype": classes.dtype.str, "values": classes.tolist()},
        "input": {
            "sample_shape": list(sample_shape),
            "dtype": "float32",
            "sfreq": _sfreq(estimator),
            "feature_names": None if names is None else list(names),
        },
        "preprocessing": {
            "steps": _steps(
                offset is not None,
                scale is not None,
                decimation,
                statistics[0] is not None,
                float(getattr(estimator, "temperature_", 1.0)),
            ),
            "input_offset": offset,
            "input_scale": scale,
            "decimation": decimation,
            "standardize": statistics,
        },
        "network": {
            "class": "Ensemble" if isinstance(module, EnsembleModule) else "Network",
            "output": "log-probabilities" if isinstance(module, EnsembleModule) else "logits",
            "n_parameters": int(sum(p.numel() for p in module.parameters())),
            # divides the output before the softmax (a calibrated search's temperature_)
            "temperature": float(getattr(estimator, "temperature_", 1.0)),
        },
        "genomes": [genome.to_dict() for genome in genomes],
        "weights": [float(w) for w in weights],
        "batch_size": _batch_size(model.net),
    }


def _check_source(
    source: str, module: nn.Module, tensors: Mapping[str, torch.Tensor], shape: tuple[int, ...]
) -> None:
    """Raise RuntimeError unless the code builds a network that computes what ``module`` does.

    The code is the text just generated (never a file read back); building
    its untrained network draws from torch's global generator, which is
    restored afterwards.
    """
    namespace: dict[str, Any] = {"__name__": "skevonas_generated_model"}
    with torch.random.fork_rng(devices=[]):
        exec(compile(source, "model.py", "exec"), namespace)  # noqa: S102 - our own text
        rebuilt = namespace["build"]()
    rebuilt.load_state_dict(dict(tensors), strict=True)
    batch = torch.randn((3, *shape), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got, want = rebuilt.eval()(batch), module(batch)
    if got.shape != want.shape or not torch.allclose(got, want, atol=1e-6, rtol=1e-6):
        raise RuntimeError(
            "the generated PyTorch code computes something else than the fitted network; "
            "please report this as a bug"
        )


def _target(directory: str | Path, overwrite: bool) -> Path:
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{str(directory)!r} exists and is not a folder")
    existing = [name for name in FILES if (directory / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{str(directory)!r} already holds {existing}; pass overwrite=True "
            "(--overwrite) to replace them"
        )
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def to_pytorch(estimator: Any, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write a fitted classifier as plain PyTorch code, weights and a model card.

    The folder works without skevonas (torch, numpy and safetensors are
    enough): ``model.load(folder)``, from its ``model.py``, returns a
    classifier whose ``predict_proba`` equals the estimator's (within
    float32 rounding) and whose ``predict`` returns the estimator's class
    labels; its ``module`` is the network. Ensembles and decimating
    networks export too. See :mod:`skevonas.store.standalone` for the files.

    Parameters
    ----------
    estimator : fitted skevonas classifier
        An :class:`~skevonas.EvolutionaryNASClassifier` or a
        :class:`~skevonas.GenomeClassifier` (for example one that
        :func:`skevonas.load` read from a ``.skevonas`` file).
    directory : str or path
        The folder to write into (created if missing).
    overwrite : bool, default=False
        Replace the export files the folder already holds.

    Returns
    -------
    directory : Path
        ``Path(directory)``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If ``estimator`` is not a skevonas classifier, or its network holds
        a layer that cannot be written as code.
    FileExistsError
        If the folder already holds export files and ``overwrite`` is False.

    Examples
    --------
    >>> import importlib.util, pathlib, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import Genome, GenomeClassifier, LayerGene
    >>> X, y = load_iris(return_X_y=True)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> clf = GenomeClassifier(genome, max_epochs=2, random_state=0).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = to_pytorch(clf, pathlib.Path(tmp.name) / "iris")
    >>> sorted(p.name for p in folder.iterdir())
    ['README.md', 'config.json', 'model.py', 'model.safetensors']
    >>> spec = importlib.util.spec_from_file_location("iris_model", folder / "model.py")
    >>> code = importlib.util.module_from_spec(spec); spec.loader.exec_module(code)
    >>> standalone = code.load(folder)
    >>> bool(np.allclose(standalone.predict_proba(X), clf.predict_proba(X), atol=1e-6))
    True
    >>> bool((standalone.predict(X) == clf.predict(X)).all())
    True
    >>> tmp.cleanup()
    """
    if not callable(getattr(estimator, "fitted_model", None)):
        raise TypeError(
            "to_pytorch exports a fitted skevonas classifier (EvolutionaryNASClassifier or "
            f"GenomeClassifier), got {type(estimator).__name__} instead"
        )
    from safetensors.torch import save_file

    model = estimator.fitted_model()  # NotFittedError if not fitted
    module = copy.deepcopy(model.net.module_).cpu().eval()
    genomes = list(model.ensemble.genomes) if model.ensemble is not None else [model.genome]
    source = network_source(module, genomes, model.sample_shape)
    tensors = {k: v.detach().contiguous() for k, v in module.state_dict().items()}
    config = export_config(estimator, model, module)
    _check_source(source, module, tensors, tuple(model.sample_shape))
    folder = _target(directory, overwrite)
    (folder / "model.py").write_text(source, encoding="utf-8")
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(
        json.dumps(config, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (folder / "README.md").write_text(model_card(estimator, model, config), encoding="utf-8")
    return folder
