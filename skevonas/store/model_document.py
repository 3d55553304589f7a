"""Reading a model file without trusting it: every part checked before it is used.

The checks behind :func:`skevonas.load` (:func:`skevonas.store.modelfile.read_model`),
each a pure function of the bytes and JSON of a file: the safetensors header
(its size capped, every tensor's dtype, shape and byte range consistent with
the file's size), the JSON document (known keys and types only, one of the
estimator classes it is given as :class:`ModelKind`, a known format version),
the classes, the genome, and the tensors against those of the network the
genome describes. Each problem raises :class:`ModelFileError`, a
:class:`ValueError` that names it.

The estimator classes themselves are not imported here: each describes
what its files hold with a :class:`ModelKind` (its
``model_kind()``), so the store sits below the estimators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..spaces.families import families_with_rank
from ..spaces.genome import Genome, parse_genome

__all__ = [
    "DOCUMENT_KEY",
    "DTYPES",
    "FORMAT",
    "MAX_HEADER_BYTES",
    "MAX_LAYERS",
    "UNSTORED_PARAMS",
    "VALUE_CHECKS",
    "VERSION",
    "ModelFileError",
    "ModelKind",
    "check_tensors",
    "genome_for_samples",
    "read_classes",
    "read_document",
    "read_genome",
    "read_header",
]

# The document's format name and version, and its key in the safetensors metadata.
FORMAT = "skevonas-model"
VERSION = 1
DOCUMENT_KEY = "skevonas"
# The header (tensor table and JSON document) may not be larger; safetensors
# itself refuses headers over 100 MB.
MAX_HEADER_BYTES = 100_000_000
# No search space comes near this; it bounds the work of building a crafted genome.
MAX_LAYERS = 1_000

_Check = Callable[[Any], bool]


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(row, dict) for row in value)


# The JSON types a kept fitted attribute may have (ModelKind.attributes), each
# with the check of its value.
VALUE_CHECKS: dict[str, _Check] = {
    "int": _is_int,
    "number": _is_number,
    "rows": _is_rows,
    "str": _is_str,
}
# Parameters never stored: where the saving machine kept its checkpoints.
UNSTORED_PARAMS = ("checkpoint_dir",)
# The document's keys; a file with others (or without one of these) is refused.
_KEYS = (
    "format",
    "format_version",
    "versions",
    "estimator",
    "params",
    "dropped_params",
    "genome",
    "classes",
    "feature_names_in",
    "n_features_in",
    "sample_shape",
    "standardize_layer",
    "attributes",
)
# Optional: "ensemble" present exactly when the network is an ensemble
# (EnsembleModule); "sfreq" when the fit knew its data's sampling rate (Hz);
# "input_affine" and "temperature" absent from older files.
_OPTIONAL_KEYS = ("ensemble", "sfreq", "input_affine", "temperature")
# safetensors dtype names
DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
_ITEMSIZE = {name: torch.empty((), dtype=dtype).element_size() for dtype, name in DTYPES.items()}
_CLASS_KINDS: dict[str, type | tuple[type, ...]] = {
    "b": bool,
    "i": int,
    "u": int,
    "f": (int, float),
    "U": str,
    "O": (str, int),
}


class ModelFileError(ValueError):
    """A file is not a skevonas model file, or is damaged or crafted.

    A :class:`ValueError` whose message names the file and the problem.

    Examples
    --------
    >>> import pathlib, tempfile, skevonas
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "model.skevonas"
    >>> _ = path.write_bytes(b"not a model")
    >>> try:
    ...     skevonas.load(path)
    ... except ModelFileError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    ModelFileError True
    >>> tmp.cleanup()
    """


@dataclass(frozen=True)
class ModelKind:
    """What a model file of one estimator class may hold: its name, parameters and results.

    An estimator class describes itself to the store with one (the
    ``model_kind()`` of :class:`~skevonas.base.NetClassifierBase`), so the
    store checks a file without importing the class. :func:`read_document`
    refuses a document of a class it is not given, constructor parameters
    the class does not take, and kept fitted attributes that are missing,
    unknown or of another JSON type; :func:`~skevonas.store.ensemble_entry.read_ensemble`
    refuses an ``"ensemble"`` entry in the file of a class without ensembles.

    Parameters
    ----------
    name : str
        The class's name, as the document's ``"estimator"`` holds it.
    params : tuple of str
        The names of its constructor's parameters.
    attributes : mapping of str to str
        The fitted attributes a file keeps (the document's ``"attributes"``),
        each with the JSON type of its value: a key of ``VALUE_CHECKS``
        (``"int"``, ``"number"``, ``"str"``, or ``"rows"``: a list of objects).
    ensembles : bool, default=False
        Whether its network may be an ensemble (a file with an
        ``"ensemble"`` entry).

    Raises
    ------
    ValueError
        If an attribute's type is not a key of ``VALUE_CHECKS``.

    Examples
    --------
    >>> kind = ModelKind("ToyClassifier", ("max_epochs",), {"best_epoch_": "int"})
    >>> kind.params, kind.ensembles
    (('max_epochs',), False)
    >>> ModelKind("ToyClassifier", (), {"best_epoch_": "float"})
    Traceback (most recent call last):
        ...
    ValueError: ModelKind 'ToyClassifier': the type of attribute 'best_epoch_' must be one \
of ['int', 'number', 'rows', 'str'], got 'float' instead
    """

    name: str
    params: tuple[str, ...]
    attributes: Mapping[str, str]
    ensembles: bool = False

    def __post_init__(self) -> None:
        # copies: a caller's later change of its own dict does not reach the kind
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "attributes", dict(self.attributes))
        for key, kind in self.attributes.items():
            if kind not in VALUE_CHECKS:
                raise ValueError(
                    f"ModelKind {self.name!r}: the type of attribute {key!r} must be one of "
                    f"{sorted(VALUE_CHECKS)}, got {kind!r} instead"
                )


# --------------------------------------------------------------------------- checks
def read_header(f: Any, size: int, where: str) -> tuple[bytes, dict[str, Any], dict[str, str], int]:
    """Read and check the safetensors header of a file of ``size`` bytes.

    Parameters
    ----------
    f : binary file
        The file, open for reading at its start.
    size : int
        Its size in bytes.
    where : str
        How error messages name the file.

    Returns
    -------
    header_bytes : bytes
        The length field and the header, as read.
    tensors : dict
        Tensor name -> ``{"dtype", "shape", "data_offsets"}``, each checked.
    metadata : dict of str to str
        The header's ``__metadata__``.
    data_size : int
        Bytes of tensor data after the header.

    Raises
    ------
    ModelFileError
        If the file is not a safetensors file, its header is larger than
        ``MAX_HEADER_BYTES`` or the file, it is not a JSON object, it has no
        metadata, or a tensor's entry is malformed or out of the file.

    Examples
    --------
    >>> import io
    >>> read_header(io.BytesIO(b"pickle"), 6, "'model.skevonas'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'model.skevonas' is not a skevonas model file: ...
    """
    start = f.read(9)
    if len(start) < 9 or start[8:9] != b"{":
        raise ModelFileError(
            f"{where} is not a skevonas model file: it is not a safetensors file (a skevonas "
            "model file starts with the 8-byte length of a JSON header)"
        )
    n = int.from_bytes(start[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{where}: the header claims {n} bytes, more than the {MAX_HEADER_BYTES} a model "
            "file may have; the file is damaged or crafted"
        )
    if 8 + n > size:
        raise ModelFileError(
            f"{where} is truncated: the header claims {n} bytes, the file holds {size - 8}"
        )
    f.seek(8)
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{where}: the header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise ModelFileError(f"{where}: the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(
            f"{where} is a safetensors file but not a skevonas model file: it has no "
            "skevonas metadata"
        )
    data_size = size - 8 - n
    tensors = {name: _tensor_entry(name, entry, data_size, where) for name, entry in header.items()}
    needed = max((entry["data_offsets"][1] for entry in tensors.values()), default=0)
    if needed != data_size:
        state = "is truncated" if needed > data_size else "has bytes no tensor accounts for"
        raise ModelFileError(
            f"{where} {state}: its tensors take {needed} bytes, the file holds {data_size}"
        )
    return b"".join((start[:8], raw)), tensors, metadata, data_size


def _tensor_entry(name: str, entry: Any, data_size: int, where: str) -> dict[str, Any]:
    """One checked entry of the tensor table."""
    if not (
        isinstance(entry, dict)
        and entry.get("dtype") in _ITEMSIZE
        and isinstance(entry.get("shape"), list)
        and all(_is_int(s) and s >= 0 for s in entry["shape"])
        and isinstance(entry.get("data_offsets"), list)
        and len(entry["data_offsets"]) == 2
        and all(_is_int(o) for o in entry["data_offsets"])
    ):
        raise ModelFileError(f"{where}: the entry of tensor {name!r} is malformed: {entry!r:.200}")
    begin, end = entry["data_offsets"]
    nbytes = math.prod(entry["shape"]) * _ITEMSIZE[entry["dtype"]]
    if not 0 <= begin <= end or end - begin != nbytes:
        raise ModelFileError(
            f"{where}: tensor {name!r} of shape {entry['shape']} and dtype {entry['dtype']} "
            f"needs {nbytes} bytes, but its byte range is {entry['data_offsets']}"
        )
    if end > data_size:
        raise ModelFileError(
            f"{where} is truncated: tensor {name!r} ends at byte {end} of the data, which "
            f"has {data_size}"
        )
    return entry


def read_document(
    metadata: Mapping[str, str], kinds: Iterable[ModelKind], where: str
) -> dict[str, Any]:
    """The JSON document of a model file, parsed, with every entry's type checked.

    Parameters
    ----------
    metadata : mapping of str to str
        The safetensors metadata (from :func:`read_header`).
    kinds : iterable of ModelKind
        The estimator classes a file may hold.
    where : str
        How error messages name the file.

    Returns
    -------
    document : dict
        With exactly the known keys (``"ensemble"`` is optional; its content
        is checked by :func:`skevonas.store.ensemble_entry.read_ensemble`), each of
        the right type; the estimator one of ``kinds``, the parameters ones
        it takes and the attributes the ones it keeps.

    Raises
    ------
    ModelFileError
        Naming what is missing, unknown or of the wrong type.

    Examples
    --------
    >>> read_document({"skevonas": '{"format": "skevonas-model", "format_version": 9}'},
    ...               [], "'model.skevonas'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'model.skevonas' has format version 9; ...
    """
    unknown = sorted(set(metadata) - {"format", DOCUMENT_KEY})
    if DOCUMENT_KEY not in metadata or unknown or metadata.get("format", "pt") != "pt":
        raise ModelFileError(
            f"{where} is a safetensors file but not a skevonas model file (its metadata "
            f"keys are {sorted(metadata)})"
        )
    try:
        document = json.loads(metadata[DOCUMENT_KEY])
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{where}: the skevonas document is not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise ModelFileError(f"{where}: the skevonas document is not a JSON object")
    if document.get("format") != FORMAT:
        raise ModelFileError(
            f"{where} is not a skevonas model file: format {document.get('format')!r:.80}"
        )
    version = document.get("format_version")
    if version != VERSION or not _is_int(version):
        raise ModelFileError(
            f"{where} has format version {version!r:.80}; this skevonas ({__version__}) reads "
            f"version {VERSION} only"
        )
    missing = sorted(set(_KEYS) - set(document))
    extra = sorted(set(document) - set(_KEYS) - set(_OPTIONAL_KEYS))
    if missing or extra:
        raise ModelFileError(
            f"{where}: the skevonas document "
            + "; ".join(
                part
                for part in (
                    f"lacks the keys {missing}" if missing else "",
                    f"has unknown keys {extra}" if extra else "",
                )
                if part
            )
        )
    problems = _document_problems(document, {kind.name: kind for kind in kinds})
    if problems:
        raise ModelFileError(
            f"{where}: the skevonas document is damaged or crafted:\n  - " + "\n  - ".join(problems)
        )
    return document


def _document_problems(doc: Mapping[str, Any], kinds: Mapping[str, ModelKind]) -> list[str]:
    """What is wrong with the types and values of the document's entries."""
    problems: list[str] = []

    def need(ok: bool, key: str, rule: str) -> None:
        if not ok:
            problems.append(f"{key!r} must be {rule}, got {doc[key]!r:.80}")

    if not isinstance(doc["estimator"], str) or doc["estimator"] not in kinds:
        problems.append(f"'estimator' must be one of {sorted(kinds)}, got {doc['estimator']!r:.80}")
        return problems
    kind = kinds[doc["estimator"]]
    attributes = kind.attributes
    need(isinstance(doc["versions"], dict), "versions", "an object")
    need(isinstance(doc["params"], dict), "params", "an object")
    if isinstance(doc["params"], dict):
        known = set(kind.params) - set(UNSTORED_PARAMS)
        unknown = sorted(set(doc["params"]) - known)
        if unknown:
            problems.append(f"'params' has parameters {kind.name} does not take: {unknown}")
    need(
        isinstance(doc["dropped_params"], list)
        and all(isinstance(n, str) for n in doc["dropped_params"]),
        "dropped_params",
        "a list of strings",
    )
    need(isinstance(doc["genome"], dict), "genome", "an object")
    classes = doc["classes"]
    need(
        isinstance(classes, dict)
        and set(classes) == {"dtype", "values"}
        and isinstance(classes["dtype"], str)
        and isinstance(classes["values"], list)
        and len(classes["values"]) >= 2,
        "classes",
        'an object {"dtype": str, "values": a list of at least 2 labels}',
    )
    shape = doc["sample_shape"]
    need(
        isinstance(shape, list)
        and 1 <= len(shape) <= 3
        and all(_is_int(s) and s >= 1 for s in shape),
        "sample_shape",
        "a list of 1 to 3 ints >= 1",
    )
    need(
        _is_int(doc["n_features_in"])
        and isinstance(shape, list)
        and bool(shape)
        and doc["n_features_in"] == shape[0],
        "n_features_in",
        "an int equal to sample_shape[0]",
    )
    names = doc["feature_names_in"]
    need(
        names is None
        or (
            isinstance(names, list)
            and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names) == doc["n_features_in"]
        ),
        "feature_names_in",
        "null or a list of n_features_in distinct strings",
    )
    need(isinstance(doc["standardize_layer"], bool), "standardize_layer", "true or false")
    if "sfreq" in doc:
        sfreq = doc["sfreq"]
        need(
            _is_number(sfreq) and math.isfinite(sfreq) and sfreq > 0,
            "sfreq",
            "a finite number > 0 (the sampling rate in Hz)",
        )
    values = doc["attributes"]
    if not (isinstance(values, dict) and set(values) == set(attributes)):
        problems.append(
            f"'attributes' must be an object with the keys {sorted(attributes)}, got "
            f"{sorted(values) if isinstance(values, dict) else values!r:.80}"
        )
        return problems
    problems += [
        f"attribute {key!r} has a value of the wrong type: {values[key]!r:.80}"
        for key, value_type in attributes.items()
        if not VALUE_CHECKS[value_type](values[key])
    ]
    return problems


def read_genome(document: Mapping[str, Any], where: str) -> Genome:
    """The document's genome, parsed and matched to the sample shape.

    Parameters
    ----------
    document : mapping
        A document from :func:`read_document`.
    where : str
        How error messages name the file.

    Returns
    -------
    genome : Genome

    Raises
    ------
    ModelFileError
        If the genome is not valid, has more than ``MAX_LAYERS`` layers, or
        its family does not take samples of the stored shape.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> read_genome({"genome": g.to_dict(), "sample_shape": [4]}, "'m'") == g
    True
    >>> read_genome({"genome": g.to_dict(), "sample_shape": [2, 64]}, "'m'")
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': a 'mlp' genome cannot take samples \
of shape (2, 64) (families for them: ['cnn1d', 'eeg'])
    """
    return genome_for_samples(document["genome"], document["sample_shape"], where)


def genome_for_samples(
    data: Any, sample_shape: Sequence[int], where: str, what: str | None = None
) -> Genome:
    """A stored genome (a JSON value), parsed and matched to the rank of the sample shape.

    Parameters
    ----------
    data : JSON value
        The genome's :meth:`~skevonas.Genome.to_dict` form, as read from a file.
    sample_shape : sequence of int
        The shape of one sample the network takes.
    where : str
        How error messages name the file.
    what : str or None, default=None
        How error messages name the genome (e.g. ``"ensemble member 2"``);
        ``None``: the document's ``"genome"``.

    Returns
    -------
    genome : Genome

    Raises
    ------
    ModelFileError
        If the genome is not valid, has more than ``MAX_LAYERS`` layers, or
        its family does not take samples of the shape's rank.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> genome_for_samples(g.to_dict(), (4,), "'m'") == g
    True
    >>> genome_for_samples({"family": "mlp"}, (4,), "'m'", "member 2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': member 2 is not valid: ...
    """
    name, lead = ("the stored genome", "") if what is None else (what, f"{what}: ")
    layers = data.get("layers") if isinstance(data, dict) else None
    if isinstance(layers, list) and len(layers) > MAX_LAYERS:
        raise ModelFileError(
            f"{where}: {name} has {len(layers)} layers, more than the {MAX_LAYERS} a "
            "model file may have"
        )
    try:
        genome = parse_genome(data)
    except ValueError as exc:
        raise ModelFileError(f"{where}: {name} is not valid: {exc}") from exc
    families = [family.name for family in families_with_rank(len(sample_shape))]
    if genome.family not in families:
        raise ModelFileError(
            f"{where}: {lead}a {genome.family!r} genome cannot take samples of shape "
            f"{tuple(sample_shape)} (families for them: {families})"
        )
    return genome


def read_classes(entry: Mapping[str, Any], where: str) -> np.ndarray:
    """``classes_`` from its JSON values and dtype.

    Bools, ints, floats, strings, or an object array of strings or ints; a
    string array's width comes from the values (a declared width is used
    only if it is wider, up to 4096 characters).

    Parameters
    ----------
    entry : mapping
        ``{"dtype": numpy dtype string, "values": list of labels}``.
    where : str
        How error messages name the file.

    Returns
    -------
    classes : ndarray

    Raises
    ------
    ModelFileError
        If the dtype is of another kind, a value does not fit it, or two
        classes are equal.

    Examples
    --------
    >>> read_classes({"dtype": "<U3", "values": ["a", "bb"]}, "'m'")
    array(['a', 'bb'], dtype='<U3')
    >>> read_classes({"dtype": "|u1", "values": [1, 300]}, "'m'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': the classes do not fit their dtype...
    """
    try:
        dtype = np.dtype(entry["dtype"])
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: the classes have an unknown dtype: {exc}") from exc
    values = entry["values"]
    kind = _CLASS_KINDS.get(dtype.kind)
    if kind is None or not all(
        isinstance(v, kind) and (dtype.kind == "b" or not isinstance(v, bool)) for v in values
    ):
        raise ModelFileError(
            f"{where}: the classes must be bools, ints, floats or strings matching their "
            f"dtype, got dtype {entry['dtype']!r:.40} and values {values!r:.80}"
        )
    if dtype.kind == "O":
        classes = np.empty(len(values), dtype=object)
        classes[:] = values
    elif dtype.kind == "U":  # its width comes from the values, not from the file
        classes = np.asarray(values, dtype=str)
        if dtype.itemsize > classes.dtype.itemsize and dtype.itemsize <= 4 * 4096:
            classes = classes.astype(dtype)
    else:
        try:
            classes = np.asarray(values, dtype=dtype)
        except (OverflowError, ValueError) as exc:
            raise ModelFileError(f"{where}: the classes do not fit their dtype: {exc}") from exc
        if classes.tolist() != values:
            raise ModelFileError(f"{where}: the classes do not fit their dtype {dtype}")
    if len(set(classes.tolist())) != len(classes):
        raise ModelFileError(f"{where}: the classes are not distinct: {values!r:.80}")
    return classes


def check_tensors(
    expected: Mapping[str, tuple[list[int], str]], found: Mapping[str, Any], where: str
) -> None:
    """Raise ModelFileError unless the file has exactly the tensors the network needs.

    Parameters
    ----------
    expected : mapping
        Tensor name -> ``(shape, safetensors dtype)`` of the network.
    found : mapping
        The file's tensor table (from :func:`read_header`).
    where : str
        How error messages name the file.

    Raises
    ------
    ModelFileError
        Listing the tensors missing, extra, or of another shape or dtype.

    Examples
    --------
    >>> expected = {"output.weight": ([3, 4], "F32")}
    >>> check_tensors(expected, {"output.weight": {"shape": [3, 4], "dtype": "F32"}}, "'m'")
    >>> check_tensors(expected, {"output.weight": {"shape": [3, 9], "dtype": "F64"}}, "'m'")
    Traceback (most recent call last):
        ...
    skevonas.store.model_document.ModelFileError: 'm': the weights do not fit the stored genome:
      - tensor 'output.weight' has shape [3, 9], the network needs [3, 4]
      - tensor 'output.weight' has dtype F64, the network needs F32
    """
    problems = []
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing tensors {missing[:10]}")
    if extra:
        problems.append(f"tensors the network does not have {extra[:10]}")
    for name in sorted(set(expected) & set(found)):
        shape, dtype = expected[name]
        entry = found[name]
        if entry["shape"] != shape:
            problems.append(
                f"tensor {name!r} has shape {entry['shape']}, the network needs {shape}"
            )
        if entry["dtype"] != dtype:
            problems.append(
                f"tensor {name!r} has dtype {entry['dtype']}, the network needs {dtype}"
            )
    if problems:
        raise ModelFileError(
            f"{where}: the weights do not fit the stored genome:\n  - "
            + "\n  - ".join(problems[:20])
        )
