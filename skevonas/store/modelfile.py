"""A model file that cannot run code: :func:`save` and :func:`load` a fitted classifier.

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

:func:`load` never unpickles. It reads the header (its size capped), parses
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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._version import __version__
from ..classifier import EvolutionaryNASClassifier
from ..fixed import GenomeClassifier
from ..spaces.genome import Genome
from ..spaces.networks import count_parameters
from ..training.candidate import make_net
from ..training.ensemble import EnsembleModule, ensemble_net
from .ensemble_entry import (
    EnsembleEntry,
    build_ensemble,
    build_network,
    check_mixing_weights,
    ensemble_entry,
    read_ensemble,
)
from .model_document import (
    DOCUMENT_KEY,
    DTYPES,
    ESTIMATORS,
    FORMAT,
    UNSTORED_PARAMS,
    VERSION,
    ModelFileError,
    check_tensors,
    read_classes,
    read_document,
    read_genome,
    read_header,
)

__all__ = ["ModelFileError", "load", "save"]

# What the loaded skorch net takes from the stored net_params: only what
# prediction uses, each with a check of its value. The rest (devices,
# compilation, iterators, criterion, optimizer...) never reaches skorch.
_PREDICTION_NET_PARAMS: dict[str, Callable[[Any], bool]] = {
    "batch_size": lambda v: type(v) is int and v >= 1,
    "iterator_valid__batch_size": lambda v: type(v) is int and v >= 1,
    "predict_nonlinearity": lambda v: v in (None, "auto"),
}


# --------------------------------------------------------------------------- save
def save(estimator: Any, path: str | os.PathLike) -> Path:
    """Save a fitted classifier in one file that loading cannot use to run code.

    The file is a safetensors file: the network's weights and buffers as
    tensors, and a JSON document with the genome, the classes, the feature
    names, the sample shape, the plain-valued parameters and the search's
    results (see :mod:`skevonas.store.modelfile` for what is left out). It is
    written to a temporary file first and then renamed, so ``path`` is never
    half written.

    Parameters
    ----------
    estimator : EvolutionaryNASClassifier or GenomeClassifier
        A fitted estimator.
    path : str or path
        The file to (over)write; ``.skevonas`` is the usual suffix.

    Returns
    -------
    path : Path
        ``Path(path)``.

    Raises
    ------
    TypeError
        If ``estimator`` is not one of the two skevonas classifiers.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        If its ensemble attributes (``ensemble_genomes_``,
        ``ensemble_weights_``, ``decimation_``) do not describe its network,
        or describe one that :func:`load` would refuse.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import Genome, GenomeClassifier, LayerGene, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})],
    ...                 {"optimizer": "adam", "lr": 0.01, "batch_size": 16})
    >>> clf = GenomeClassifier(genome, max_epochs=5, random_state=0).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = save(clf, pathlib.Path(tmp.name) / "iris.skevonas")
    >>> loaded = load(path)
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    >>> tmp.cleanup()
    """
    from safetensors.torch import save_file

    name = type(estimator).__name__
    if name not in ESTIMATORS or type(estimator) is not ESTIMATORS[name][0]:
        raise TypeError(
            f"save takes a fitted EvolutionaryNASClassifier or GenomeClassifier, got a "
            f"{type(estimator).__module__}.{type(estimator).__qualname__}"
        )
    check_is_fitted(estimator)
    module = estimator.net_.module_
    tensors = {
        key: value.detach().to("cpu", copy=True).contiguous()
        for key, value in module.state_dict().items()
    }
    text = json.dumps(_document(estimator, name, module), default=_json_value)
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(temporary), metadata={"format": "pt", DOCUMENT_KEY: text})
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _document(estimator: Any, name: str, module: torch.nn.Module) -> dict[str, Any]:
    """The JSON document of a fitted estimator."""
    _, net_attribute, genome_attribute, attributes = ESTIMATORS[name]
    params, dropped = _plain_params(estimator.get_params(deep=False))
    names = getattr(estimator, "feature_names_in_", None)
    classes = np.asarray(estimator.classes_)
    ensemble = ensemble_entry(estimator, module)
    plain = module.members[0] if isinstance(module, EnsembleModule) else module  # all alike
    document = {
        "format": FORMAT,
        "format_version": VERSION,
        "versions": _versions(),
        "estimator": name,
        "params": params,
        "dropped_params": dropped,
        "genome": getattr(estimator, genome_attribute).to_dict(),
        "classes": {"dtype": classes.dtype.str, "values": classes.tolist()},
        "feature_names_in": None if names is None else [str(n) for n in names],
        "n_features_in": int(estimator.n_features_in_),
        "sample_shape": [int(s) for s in estimator.sample_shape_],
        "standardize_layer": "standardize" in dict(plain.named_children()),
        "attributes": {key: getattr(estimator, key) for key in attributes},
    }
    if ensemble is not None:
        document["ensemble"] = ensemble
    return document


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


def _plain_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The parameters JSON can hold, and the names of those it cannot.

    A dict parameter (``net_params``) keeps its plain entries.
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


# --------------------------------------------------------------------------- load
def load(path: str | os.PathLike, device: str = "cpu") -> Any:
    """Load a classifier saved by :func:`save`, without unpickling anything.

    Parameters
    ----------
    path : str or path
        A file written by :func:`save` (or ``skevonas search``).
    device : str, default="cpu"
        Where the network is put: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    estimator : EvolutionaryNASClassifier or GenomeClassifier
        Fitted: it predicts exactly as the saved estimator did, and exports
        with ``to_torchscript`` and ``to_onnx``. A search also has
        ``ensemble_genomes_``, ``ensemble_weights_`` and ``decimation_``
        (one member and 1 for a file of a plain network).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ModelFileError
        If the file is not a skevonas model file, or is damaged or crafted
        (truncated, an absurd header, an unknown format version or class,
        tensors missing, extra or of the wrong shape or dtype, a document
        with wrong or unknown keys, an ensemble with too many members,
        weights that are not positive or do not sum to 1, a decimation out
        of range...); the message names the problem.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import EvolutionaryNASClassifier, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
    >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=1, max_epochs=2,
    ...                                 random_state=0).fit(X, names)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> loaded = load(save(clf, pathlib.Path(tmp.name) / "iris.skevonas"))
    >>> loaded.classes_.tolist(), loaded.best_genome_ == clf.best_genome_
    (['setosa', 'versicolor', 'virginica'], True)
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    >>> tmp.cleanup()
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {str(path)!r}")
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is not a file")
    where = repr(str(path))
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header_bytes, tensors, metadata, data_size = read_header(f, size, where)
        document = read_document(metadata, where)
        genome = read_genome(document, where)
        ensemble = read_ensemble(document, genome, where)
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
    net = _net(
        document, genome, ensemble, sample_shape, len(classes), stat_shape, device, blob, where
    )
    return _estimator(document, genome, ensemble, classes, net)


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


def _estimator(
    document: Mapping[str, Any],
    genome: Genome,
    ensemble: EnsembleEntry | None,
    classes: np.ndarray,
    net: Any,
) -> Any:
    """The fitted estimator, from the checked document and the net."""
    cls, net_attribute, genome_attribute, attributes = ESTIMATORS[document["estimator"]]
    estimator = cls(**document["params"])
    estimator.classes_ = classes
    estimator.n_features_in_ = int(document["n_features_in"])
    estimator.sample_shape_ = tuple(document["sample_shape"])
    if document["feature_names_in"] is not None:
        estimator.feature_names_in_ = np.asarray(document["feature_names_in"], dtype=object)
    setattr(estimator, genome_attribute, genome)
    setattr(estimator, net_attribute, net)
    for key in attributes:
        setattr(estimator, key, document["attributes"][key])
    if isinstance(estimator, GenomeClassifier):
        estimator.n_params_ = count_parameters(net.module_)
    if isinstance(estimator, EvolutionaryNASClassifier):  # a plain network: one member
        estimator.ensemble_genomes_ = list(ensemble.genomes) if ensemble else [genome]
        estimator.ensemble_weights_ = list(ensemble.weights) if ensemble else [1.0]
        estimator.decimation_ = ensemble.decimation if ensemble else 1
    return estimator
