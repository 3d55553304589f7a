"""A model file that cannot run code: :func:`write_model` and :func:`read_model`.

One file (``.skevonas`` by convention) in the `safetensors
<https://huggingface.co/docs/safetensors>`_ format, which Hugging Face and
braindecode use for weights: a JSON header that lists each tensor's name,
dtype, shape and byte range, then the raw bytes. Its tensors are the fitted
network's ``state_dict()``, including the input standardisation statistics
(the buffers of its :class:`~skevonas.spaces.builders.Standardize` layer). Its
string metadata holds one JSON document: the format name and version, the
versions of skevonas, torch, skorch and scikit-learn that wrote it, the
estimator class, the genome, the classes (with their dtype), the feature
names, the sample shape, the plain-valued constructor parameters and the
search's results (``best_score_``, ``history_``, ``evaluations_``...). A
search whose final network is an ensemble (an
:class:`~skevonas.training.ensemble.EnsembleModule`: several members and/or a
decimation front) adds an ``"ensemble"`` entry with the member genomes,
their weights and the decimation factor (:mod:`skevonas.store.ensemble_entry`);
a plain network's file has none, and loads as one member without
decimation (``ensemble_genomes_ == [best_genome_]``, ``decimation_ == 1``).
A fit that knew its data's sampling rate adds ``"sfreq"`` (Hz, the
estimator's ``sfreq_``); a file without it (a fit at an unknown rate, or
a file written before ``sfreq`` existed) loads with ``sfreq_ = None``.

The store does not know the estimator classes: an estimator describes its
fitted state as a :class:`FittedModel` (its ``fitted_model()``) and what its
files may hold as a :class:`~skevonas.store.model_document.ModelKind` (its
``model_kind()``), and is rebuilt from a :class:`FittedModel` (its
``from_fitted_model``). :func:`skevonas.save` and :func:`skevonas.load`
(:mod:`skevonas.saving`) join the two sides.

:func:`read_model` never unpickles. It reads the header (its size capped), parses
and type-checks the JSON (known keys only; the checks are in
:mod:`skevonas.store.model_document`), validates the genome (each member's too, and
the ensemble's counts, weights and decimation), builds the
network it describes on torch's ``meta`` device (no memory) and checks the
name, shape and dtype of every tensor in the file against it *before*
allocating anything: a crafted genome that declares a layer of 10^7 units
needs those weights in the file, whose size bounds them. Only then is the
network built for real and the weights loaded. Every damaged or crafted
file gives a :class:`ModelFileError` (a :class:`ValueError`) that names the
problem.

What is not stored: constructor parameters that are not plain JSON values
(``callbacks``, a :class:`~skevonas.SearchSpace` object, a
``numpy.random.RandomState``, the objects in ``net_params`` such as skorch
callbacks) and ``checkpoint_dir`` (a path on the machine that wrote the
file). The loaded estimator has each such parameter's default (for
``net_params``, its plain entries); the document lists them under
``"dropped_params"``. A loaded search has no ``search_space_`` or
``search_state_``, so ``warm_start`` cannot continue it (a ``checkpoint_dir``
can). The loaded skorch net predicts exactly as the saved one did; it takes
from ``net_params`` only what prediction uses (``batch_size``,
``iterator_valid__batch_size``, ``predict_nonlinearity``), and it was not
trained in this process, so its ``history`` is empty.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..spaces.genome import Genome
from ..training.ensemble import EnsembleModule, ensemble_net
from ..training.recipe import make_net
from .ensemble_entry import (
    EnsembleEntry,
    build_ensemble,
    build_network,
    check_mixing_weights,
    fitted_ensemble,
    read_ensemble,
)
from .model_document import (
    DOCUMENT_KEY,
    DTYPES,
    FORMAT,
    UNSTORED_PARAMS,
    VERSION,
    ModelFileError,
    ModelKind,
    check_tensors,
    read_classes,
    read_document,
    read_genome,
    read_header,
)

__all__ = [
    "FittedModel",
    "ModelFileError",
    "plain_params",
    "read_input_affine",
    "read_model",
    "read_temperature",
    "write_model",
]

# What the loaded skorch net takes from the stored net_params: only what
# prediction uses, each with a check of its value. The rest (devices,
# compilation, iterators, criterion, optimizer...) never reaches skorch.
_PREDICTION_NET_PARAMS: dict[str, Callable[[Any], bool]] = {
    "batch_size": lambda v: type(v) is int and v >= 1,
    "iterator_valid__batch_size": lambda v: type(v) is int and v >= 1,
    "predict_nonlinearity": lambda v: v in (None, "auto"),
}


# --------------------------------------------------------------------------- the state
@dataclass(frozen=True, eq=False)
class FittedModel:
    """A fitted classifier's state, as a model file holds it.

    The interface between an estimator and the store: an estimator gives
    one (its ``fitted_model()``) and is rebuilt from one (its
    ``from_fitted_model``), so the store needs no estimator class.
    :func:`write_model` writes one to a file; :func:`read_model` reads one
    back, checked against the
    :class:`~skevonas.store.model_document.ModelKind` of its class. It holds
    a net and arrays, so two of them compare by identity.

    Parameters
    ----------
    estimator : str
        The estimator class's name (its kind's ``name``).
    genome : Genome
        The fitted genome (``best_genome_`` or ``genome_``): the network's,
        or that of the ensemble's best member.
    classes : ndarray of shape (n_classes,)
        The class labels (``classes_``), with their dtype.
    sample_shape : tuple of int
        The shape of one sample (``sample_shape_``).
    net : skorch.NeuralNetClassifier
        The fitted net; its ``module_`` holds the weights.
    params : mapping, default={}
        The constructor parameters a JSON document can hold, as JSON values
        (see :func:`plain_params`).
    dropped_params : tuple of str, default=()
        The names of those it cannot hold; a loaded estimator has their
        defaults.
    feature_names_in : tuple of str or None, default=None
        The column names seen in ``fit`` (``feature_names_in_``), if any.
    attributes : mapping, default={}
        The fitted results kept, by name (its kind's ``attributes``:
        ``best_score_``, ``history_``... or ``best_epoch_``...).
    ensemble : EnsembleEntry or None, default=None
        The ensemble the network is (members, weights, decimation);
        ``None`` for one plain network.
    input_offset, input_scale : ndarray or None, default=None
        The float64 affine step applied to ``X`` before the cast to float32
        (``input_offset_``, ``input_scale_``: per feature or per channel);
        ``None`` for none (``standardize=False``, or a file written before
        skevonas kept them).
    temperature : float or None, default=None
        The temperature dividing the logits (``temperature_``); ``None``
        for an estimator without one (a :class:`~skevonas.GenomeClassifier`).
    sfreq : float or None, default=None
        The sampling rate (Hz) of the data the estimator was fitted on
        (``sfreq_``), if it was known; the document's optional ``"sfreq"``.

    Attributes
    ----------
    n_features_in : int
        ``sample_shape[0]`` (the estimator's ``n_features_in_``).

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.training.recipe import make_net
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> net = make_net(genome, (4,), 3, max_epochs=1, input_stats=None, device="cpu",
    ...                net_params={}).initialize()
    >>> model = FittedModel("ToyClassifier", genome, np.array(["a", "b", "c"]), (4,), net,
    ...                     params={"max_epochs": 1}, attributes={"best_epoch_": 1})
    >>> model.n_features_in, model.ensemble is None
    (4, True)
    """

    estimator: str
    genome: Genome
    classes: np.ndarray
    sample_shape: tuple[int, ...]
    net: Any
    params: Mapping[str, Any] = field(default_factory=dict)
    dropped_params: tuple[str, ...] = ()
    feature_names_in: tuple[str, ...] | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    ensemble: EnsembleEntry | None = None
    input_offset: np.ndarray | None = None
    input_scale: np.ndarray | None = None
    temperature: float | None = None
    sfreq: float | None = None

    @property
    def n_features_in(self) -> int:
        """``sample_shape[0]``: features for 2-D input, channels otherwise."""
        return int(self.sample_shape[0])


# --------------------------------------------------------------------------- write
def write_model(model: FittedModel, path: str | os.PathLike) -> Path:
    """Write a fitted model in one file that loading cannot use to run code.

    The file is a safetensors file: the network's weights and buffers as
    tensors, and a JSON document with the rest of ``model`` (see
    :mod:`skevonas.store.modelfile`). It is written to a temporary file
    first and then renamed, so ``path`` is never half written.
    :func:`skevonas.save` writes an estimator's :class:`FittedModel` with it.

    Parameters
    ----------
    model : FittedModel
        The state to write.
    path : str or path
        The file to (over)write; ``.skevonas`` is the usual suffix.

    Returns
    -------
    path : Path
        ``Path(path)``.

    Raises
    ------
    ValueError
        If ``model.ensemble`` does not describe its network, or describes
        one that :func:`read_model` would refuse
        (:func:`~skevonas.store.ensemble_entry.fitted_ensemble`).
    TypeError
        If a parameter or attribute is a value JSON cannot hold.

    Examples
    --------
    With no estimator class at all: a toy kind of model.

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.store.model_document import ModelKind
    >>> from skevonas.training.recipe import make_net
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> net = make_net(genome, (4,), 3, max_epochs=1, input_stats=None, device="cpu",
    ...                net_params={}).initialize()
    >>> model = FittedModel("ToyClassifier", genome, np.array(["a", "b", "c"]), (4,), net,
    ...                     params={"max_epochs": 1}, attributes={"best_epoch_": 1})
    >>> kind = ModelKind("ToyClassifier", ("max_epochs",), {"best_epoch_": "int"})
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = write_model(model, pathlib.Path(tmp.name) / "toy.skevonas")
    >>> back = read_model(path, [kind])
    >>> back.classes.tolist(), back.genome == genome, back.attributes
    (['a', 'b', 'c'], True, {'best_epoch_': 1})
    >>> tmp.cleanup()
    """
    from safetensors.torch import save_file

    module = model.net.module_
    ensemble = _checked_ensemble(model, module)
    tensors = {
        key: value.detach().to("cpu", copy=True).contiguous()
        for key, value in module.state_dict().items()
    }
    text = json.dumps(_document(model, module, ensemble), default=_json_value)
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(temporary), metadata={"format": "pt", DOCUMENT_KEY: text})
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _checked_ensemble(model: FittedModel, module: torch.nn.Module) -> EnsembleEntry | None:
    """The model's ensemble, checked against its network (a plain network: one member)."""
    entry = model.ensemble or EnsembleEntry((model.genome,), (1.0,), 1)
    return fitted_ensemble(
        module, entry.genomes, entry.weights, entry.decimation, model.genome, model.sample_shape
    )


def _document(
    model: FittedModel, module: torch.nn.Module, ensemble: EnsembleEntry | None
) -> dict[str, Any]:
    """The JSON document of a fitted model."""
    classes = np.asarray(model.classes)
    names = model.feature_names_in
    plain = module.members[0] if isinstance(module, EnsembleModule) else module  # all alike
    document = {
        "format": FORMAT,
        "format_version": VERSION,
        "versions": _versions(),
        "estimator": model.estimator,
        "params": dict(model.params),
        "dropped_params": list(model.dropped_params),
        "genome": model.genome.to_dict(),
        "classes": {"dtype": classes.dtype.str, "values": classes.tolist()},
        "feature_names_in": None if names is None else [str(n) for n in names],
        "n_features_in": model.n_features_in,
        "sample_shape": [int(s) for s in model.sample_shape],
        "standardize_layer": "standardize" in dict(plain.named_children()),
        "attributes": dict(model.attributes),
    }
    if ensemble is not None:
        document["ensemble"] = ensemble.to_dict()
    if model.input_offset is not None:
        document["input_affine"] = {
            "offset": np.asarray(model.input_offset, dtype=np.float64).tolist(),
            "scale": np.asarray(model.input_scale, dtype=np.float64).tolist(),
        }
    if model.temperature is not None:
        document["temperature"] = float(model.temperature)
    if model.sfreq is not None:  # a file of a fit at an unknown rate stays as it was
        document["sfreq"] = float(model.sfreq)
    return document


def read_input_affine(
    document: Mapping[str, Any], where: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The document's input offset and scale (float64), or ``(None, None)`` where it has none.

    The entry is ``{"offset": ..., "scale": ...}``, each a nested list of
    the shape of the input statistics of the stored sample shape (per
    feature, or per channel), finite, the scale positive. Files written
    before skevonas kept them have no entry.

    Raises
    ------
    ModelFileError
        If the entry is malformed.

    Examples
    --------
    >>> doc = {"sample_shape": [2, 8], "input_affine": {"offset": [[1.0], [2.0]],
    ...                                                 "scale": [[1.0], [0.5]]}}
    >>> offset, scale = read_input_affine(doc, "'m'")
    >>> offset.shape, scale.dtype
    ((2, 1), dtype('float64'))
    >>> read_input_affine({"sample_shape": [2, 8]}, "'m'")
    (None, None)
    >>> read_input_affine({"sample_shape": [3], "input_affine": {"offset": [0.0, 0.0, 0.0],
    ...                    "scale": [1.0, 0.0, 1.0]}}, "'m'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': 'input_affine' must be ...
    """
    entry = document.get("input_affine")
    if entry is None:
        return None, None
    shape = _stat_shape(tuple(document["sample_shape"]))
    arrays = []
    if isinstance(entry, dict) and set(entry) == {"offset", "scale"}:
        for key in ("offset", "scale"):
            try:
                arrays.append(np.asarray(entry[key], dtype=np.float64))
            except (TypeError, ValueError):
                break
    if not (
        len(arrays) == 2
        and all(a.shape == shape and np.isfinite(a).all() for a in arrays)
        and (arrays[1] > 0).all()
    ):
        raise ModelFileError(
            f'{where}: \'input_affine\' must be an object {{"offset", "scale"}} of finite '
            f"values of shape {list(shape)}, the scale positive, got {entry!r:.80}"
        )
    return arrays[0], arrays[1]


def read_temperature(document: Mapping[str, Any], where: str) -> float | None:
    """The document's temperature, or None where it has none (a file of an older skevonas).

    Raises
    ------
    ModelFileError
        If it is not a finite number > 0.

    Examples
    --------
    >>> read_temperature({"temperature": 1.5}, "'m'"), read_temperature({}, "'m'")
    (1.5, None)
    """
    value = document.get("temperature")
    if value is None:
        return None
    if type(value) not in (int, float) or not (math.isfinite(value) and value > 0):
        raise ModelFileError(f"{where}: 'temperature' must be a number > 0, got {value!r:.80}")
    return float(value)


def _versions() -> dict[str, str]:
    versions = {"skevonas": __version__}
    for package in ("torch", "skorch", "scikit-learn", "numpy", "safetensors"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover
            versions[package] = "unknown"
    return versions


def _plain(value: Any) -> tuple[bool, Any]:
    """``(True, JSON value)`` for a value JSON can hold as it is, else ``(False, None)``."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return True, value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return True, value.item()
    if isinstance(value, Genome):
        return True, value.to_dict()
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return all(ok for ok, _ in items), [item for _, item in items]
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        items = [_plain(item) for item in value.values()]
        return all(ok for ok, _ in items), dict(
            zip(value, (item for _, item in items), strict=True)
        )
    return False, None


def plain_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The parameters a model file can hold, as JSON values, and the names of those it cannot.

    A parameter is kept when JSON can hold it as it is (numbers, strings,
    None, a :class:`~skevonas.Genome` as its dict, lists and dicts of
    those); a dict parameter (``net_params``) keeps its plain entries.
    ``checkpoint_dir`` (``UNSTORED_PARAMS``: a path on the machine that
    wrote the file) is never kept.

    Parameters
    ----------
    params : mapping
        An estimator's ``get_params(deep=False)``.

    Returns
    -------
    kept : dict
        Name -> JSON value, sorted by name.
    dropped : list of str
        The names of the parameters (and ``name['key']`` of the dict
        entries) left out, sorted.

    Examples
    --------
    >>> kept, dropped = plain_params({"max_epochs": 5, "callbacks": [object()],
    ...                               "net_params": {"batch_size": 8, "callbacks": [object()]},
    ...                               "checkpoint_dir": "runs"})
    >>> kept
    {'max_epochs': 5, 'net_params': {'batch_size': 8}}
    >>> dropped
    ['callbacks', 'checkpoint_dir', "net_params['callbacks']"]
    """
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in sorted(params.items()):
        if name in UNSTORED_PARAMS:
            dropped.append(name)
            continue
        ok, plain = _plain(value)
        if ok:
            kept[name] = plain
        elif isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
            entries = {key: _plain(item) for key, item in value.items()}
            kept[name] = {key: item for key, (good, item) in entries.items() if good}
            dropped += [f"{name}[{key!r}]" for key, (good, _) in entries.items() if not good]
        else:
            dropped.append(name)
    return kept, dropped


def _json_value(value: Any) -> Any:
    """json.dumps's fallback for the fitted attributes (numpy scalars, arrays, genomes)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Genome):
        return value.to_dict()
    raise TypeError(f"cannot store a {type(value).__name__} in a model file: {value!r:.80}")


# --------------------------------------------------------------------------- read
def read_model(
    path: str | os.PathLike, kinds: Iterable[ModelKind], device: str = "cpu"
) -> FittedModel:
    """Read a model file written by :func:`write_model`, without unpickling anything.

    Every part is checked before it is used (see :mod:`skevonas.store.modelfile`);
    :func:`skevonas.load` rebuilds an estimator from what this returns.

    Parameters
    ----------
    path : str or path
        A file written by :func:`write_model` (e.g. through :func:`skevonas.save`).
    kinds : iterable of ModelKind
        The estimator classes the file may hold, each with its parameters and
        kept attributes.
    device : str, default="cpu"
        Where the network is put: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    model : FittedModel
        With the file's net, which predicts exactly as the written one did.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ModelFileError
        If the file is not a skevonas model file, holds an estimator class
        not in ``kinds``, or is damaged or crafted; the message names the
        problem.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skevonas.store.model_document import ModelKind
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "model.skevonas"
    >>> _ = path.write_bytes(b"not a model")
    >>> read_model(path, [ModelKind("ToyClassifier", (), {})])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: '...model.skevonas' is not a skevonas model...
    >>> tmp.cleanup()
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {str(path)!r}")
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is not a file")
    where = repr(str(path))
    by_name = {kind.name: kind for kind in kinds}
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header_bytes, tensors, metadata, data_size = read_header(f, size, where)
        document = read_document(metadata, by_name.values(), where)
        genome = read_genome(document, where)
        allowed = by_name[document["estimator"]].ensembles
        ensemble = read_ensemble(document, genome, where, allowed)
        classes = read_classes(document["classes"], where)
        sample_shape = tuple(document["sample_shape"])
        stat_shape = _checked_stat_shape(document, ensemble, data_size, where)
        expected = _expected_tensors(
            genome, ensemble, sample_shape, len(classes), stat_shape, where
        )
        check_tensors(expected, tensors, where)
        # Everything declared is consistent and bounded by the file's size: read
        # it, from the handle whose header was checked.
        f.seek(0)
        blob = f.read()
    if not blob.startswith(header_bytes) or len(blob) != len(header_bytes) + data_size:
        raise ModelFileError(f"{where} changed while it was being read")
    offset, scale = read_input_affine(document, where)
    temperature = read_temperature(document, where)
    net = _net(
        document, genome, ensemble, sample_shape, len(classes), stat_shape, device, blob, where
    )
    names = document["feature_names_in"]
    return FittedModel(
        estimator=document["estimator"],
        genome=genome,
        classes=classes,
        sample_shape=sample_shape,
        net=net,
        params=document["params"],
        dropped_params=tuple(document["dropped_params"]),
        feature_names_in=None if names is None else tuple(names),
        attributes=document["attributes"],
        ensemble=ensemble,
        input_offset=offset,
        input_scale=scale,
        temperature=temperature,
        sfreq=document.get("sfreq"),
    )


def _checked_stat_shape(
    document: Mapping[str, Any], ensemble: EnsembleEntry | None, data_size: int, where: str
) -> tuple[int, ...] | None:
    """Shape of each network's input statistics (None: no standardisation), bounded by the file."""
    if not document["standardize_layer"]:
        return None
    sample_shape = tuple(document["sample_shape"])
    members = 1 if ensemble is None else len(ensemble.genomes)
    shape = sample_shape if ensemble is None else ensemble.member_shape(sample_shape)
    stat_shape = _stat_shape(shape)
    if 4 * math.prod(stat_shape) * members > data_size:
        raise ModelFileError(
            f"{where}: samples of shape {sample_shape} need input statistics of "
            f"{math.prod(stat_shape) * members} values, but the file holds only {data_size} "
            "bytes of tensors"
        )
    return stat_shape


def _stat_shape(sample_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the standardisation statistics: per feature, or per channel."""
    if len(sample_shape) == 1:
        return sample_shape
    return (sample_shape[0], *(1 for _ in sample_shape[1:]))


def _stats(stat_shape: tuple[int, ...] | None) -> tuple[np.ndarray, np.ndarray] | None:
    if stat_shape is None:
        return None
    return np.zeros(stat_shape, np.float32), np.ones(stat_shape, np.float32)


def _expected_tensors(
    genome: Genome,
    ensemble: EnsembleEntry | None,
    sample_shape: tuple[int, ...],
    n_classes: int,
    stat_shape: tuple[int, ...] | None,
    where: str,
) -> dict[str, tuple[list[int], str]]:
    """Name -> (shape, safetensors dtype) of the file's network, built on the meta device."""
    with torch.device("meta"):
        module = build_network(genome, ensemble, sample_shape, n_classes, _stats(stat_shape), where)
    return {
        name: (list(value.shape), DTYPES.get(value.dtype, str(value.dtype)))
        for name, value in module.state_dict().items()
    }


def _net(
    document: Mapping[str, Any],
    genome: Genome,
    ensemble: EnsembleEntry | None,
    sample_shape: tuple[int, ...],
    n_classes: int,
    stat_shape: tuple[int, ...] | None,
    device: str,
    blob: bytes,
    where: str,
) -> Any:
    """The skorch net the search would have built, with the file's weights."""
    from safetensors.torch import load as load_tensors

    net_params = document["params"].get("net_params") or {}
    if not isinstance(net_params, dict):
        raise ModelFileError(f"{where}: the parameter 'net_params' must be an object or null")
    net_params = {k: v for k, v in net_params.items() if k in _PREDICTION_NET_PARAMS}
    bad = {k: v for k, v in net_params.items() if not _PREDICTION_NET_PARAMS[k](v)}
    if bad:
        raise ModelFileError(f"{where}: net_params with values prediction cannot use: {bad}")
    try:
        weights = load_tensors(blob)
        # building draws initial weights: the user's torch RNG is left as it was
        with torch.random.fork_rng(devices=[]):
            if ensemble is None:
                net = make_net(
                    genome,
                    sample_shape,
                    n_classes,
                    max_epochs=1,
                    input_stats=_stats(stat_shape),
                    device=device,
                    net_params=net_params,
                ).initialize()
            else:  # as the search builds it: ensemble_net takes no net_params
                module = build_ensemble(
                    ensemble, sample_shape, n_classes, _stats(stat_shape), where
                )
                net = ensemble_net(module, n_classes, device)
        net.module_.load_state_dict(weights, strict=True)
    except Exception as exc:  # noqa: BLE001 - the checks above make this unexpected
        raise ModelFileError(
            f"{where}: the network cannot be set up from the file ({type(exc).__name__}: {exc})"
        ) from exc
    check_mixing_weights(net.module_, ensemble, where)
    return net
