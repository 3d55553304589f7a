"""The resume policy: which earlier search a fit may continue, and its journal.

:mod:`skevonas.store.checkpoint` reads and writes the files; this module decides
what they mean for a new ``fit``:

- :func:`search_meta` describes a search: the settings that decide its
  scores, a fingerprint of its data, and (for the record) every setting.
  Objects among the settings (a scoring callable, skorch callbacks in
  ``net_params``...) are described by their parameters and functions by a
  hash of their code (:func:`describe_value`), so that changing one is seen.
- :func:`resume_point` locks the ``checkpoint_dir`` for the fit
  (:class:`~skevonas.store.folderlock.FolderLock`) and picks what it continues:
  the checkpoint there (with ``warm_start``), else the estimator's last
  search (with ``warm_start``), else nothing, in which case it clears the
  checkpoint files it finds. Whatever it continues must have been made with
  the same data and score-deciding settings, or it raises
  :class:`~skevonas.store.checkpoint.CheckpointError` naming every difference.
- The :class:`~skevonas.store.journal.Journal` it returns is what the
  running search writes: each result as it arrives (in a multi-fidelity
  search each rung's result), and the state after each generation; on
  resume it holds the lines journaled before a crash, which a replay hands
  back so that they are not trained again.
"""

from __future__ import annotations

import copy
import enum
import functools
import hashlib
import json
import logging
import numbers
import os
import re
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..evolution.records import SearchState
from ..spaces.genome import Genome, short_repr
from ..spaces.space import SearchSpace
from ..training.recipe import inherit_share
from .checkpoint import CheckpointError, clear_checkpoint, has_checkpoint, load_checkpoint
from .folderlock import FolderLock
from .journal import Journal, read_journal

__all__ = ["Journal", "check_compatible", "describe_value", "resume_point", "search_meta"]

logger = logging.getLogger(__name__)

_MAX_DEPTH = 8  # how deep objects are described; below, by type only
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


# --------------------------------------------------------------------------- settings as JSON
def describe_value(value: Any) -> Any:
    """A JSON value standing for a setting, equal for equal settings and only for them.

    - ``None``, bools, ints, floats and strings are themselves (NumPy scalars
      become the Python number); lists and tuples become lists, dicts and
      sets are sorted.
    - Classes are their qualified name; a ``RandomState`` instance is
      ``"RandomState instance"``.
    - Functions are their qualified name and a hash of their code (bytecode,
      constants and names used), default arguments and closure: two
      different lambdas differ, and so does a function edited, or compiled
      by another Python version. Bound methods add their object, and
      :func:`functools.partial` its arguments.
    - Objects with ``get_params`` (scikit-learn estimators and scorers,
      skorch callbacks) are their type and ``get_params(deep=False)``; other
      objects their type and their attributes, leaving out those that end
      in ``_`` (what fitting learned); arrays and tensors their dtype, shape
      and a hash of their values. Objects with none of these are their type.

    The result is JSON, the same in every process: checkpoints store it, and
    a resumed search compares it (:func:`check_compatible`). Global
    variables a function reads are not part of it.

    Examples
    --------
    >>> describe_value({"lr": 0.1, "layers": (1, 2), "n": np.int64(3)})
    {'layers': [1, 2], 'lr': 0.1, 'n': 3}
    >>> describe_value(np.random.RandomState(0))
    'RandomState instance'
    >>> describe_value(len)
    {'function': 'builtins.len'}
    >>> describe_value(lambda y: y + 1) == describe_value(lambda y: y + 2)
    False
    >>> from sklearn.linear_model import LogisticRegression
    >>> describe_value(LogisticRegression(C=2.0))["params"]["C"]
    2.0
    """
    return _describe(value, 0, ())


def _name(kind: Any) -> str:
    """``module.qualname`` of a class or function."""
    module = getattr(kind, "__module__", None) or "builtins"
    name = getattr(kind, "__qualname__", None) or getattr(kind, "__name__", None) or repr(kind)
    return f"{module}.{name}"


def _sorted_json(items: Any) -> list[Any]:
    return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))


def _describe(value: Any, depth: int, path: tuple[int, ...]) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    for plain in (bool, int, float, str):  # subclasses (IntEnum aside) and NumPy scalars
        if isinstance(value, plain) and not isinstance(value, enum.Enum):
            return plain(value)
    if isinstance(value, (np.bool_, np.number)):
        return _describe(value.item(), depth, path)
    if isinstance(value, type):
        return _name(value)
    if isinstance(value, np.random.RandomState):
        return "RandomState instance"
    if isinstance(value, enum.Enum):
        return f"{_name(type(value))}.{value.name}"
    if depth >= _MAX_DEPTH or id(value) in path:
        return _name(type(value))  # too deep, or a cycle
    inner = functools.partial(_describe, depth=depth + 1, path=(*path, id(value)))
    if isinstance(value, (list, tuple)):
        return [inner(v) for v in value]
    if isinstance(value, dict):
        return {str(k): inner(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (set, frozenset)):
        return _sorted_json(inner(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return _describe_object(value, inner)


def _describe_object(value: Any, inner: Callable[[Any], Any]) -> Any:
    """Functions, arrays and other objects (see :func:`describe_value`)."""
    if isinstance(value, types.FunctionType):
        return {"function": _name(value), "code": _function_hash(value, inner)}
    if isinstance(value, types.MethodType):
        return {"method": inner(value.__func__), "self": inner(value.__self__)}
    if isinstance(value, functools.partial):
        return {
            "partial": inner(value.func),
            "args": inner(value.args),
            "keywords": inner(value.keywords),
        }
    if isinstance(value, (types.BuiltinFunctionType, np.ufunc)):
        return {"function": _name(value)}
    array = _as_array(value)
    if array is not None:
        if array.dtype.hasobject:
            return {"array": "object", "values": inner(array.tolist())}
        digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]
        return {"array": str(array.dtype), "shape": list(array.shape), "sha256": digest}
    kind = _name(type(value))
    params = _params(value)
    if params is not None:
        return {"type": kind, "params": inner(params)}
    state = {k: v for k, v in getattr(value, "__dict__", {}).items() if not k.endswith("_")}
    if state:
        return {"type": kind, "vars": inner(state)}
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__: the type must do
        return kind
    if hasattr(value, "__dict__") or _ADDRESS.search(text) or len(text) > 1000:
        return kind
    return {"type": kind, "repr": text}  # e.g. torch.device('cuda', 0)


def _params(value: Any) -> dict[str, Any] | None:
    get_params = getattr(value, "get_params", None)
    if not callable(get_params):
        return None
    try:
        params = get_params(deep=False)
    except Exception:  # noqa: BLE001 - an object that cannot list its params
        return None
    return dict(params) if isinstance(params, Mapping) else None


def _as_array(value: Any) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.startswith("torch") and callable(getattr(value, "detach", None)):
        try:
            return np.asarray(value.detach().cpu().numpy())
        except Exception:  # noqa: BLE001 - not a plain tensor
            return None
    return None


def _function_hash(function: types.FunctionType, inner: Callable[[Any], Any]) -> str:
    digest = hashlib.sha256()
    _hash_code(function.__code__, digest)
    cells = []
    for cell in function.__closure__ or ():
        try:
            cells.append(inner(cell.cell_contents))
        except ValueError:  # an empty cell
            cells.append("<empty>")
    extra = [inner(function.__defaults__), inner(function.__kwdefaults__), cells]
    digest.update(json.dumps(extra, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _hash_code(code: types.CodeType, digest: Any) -> None:
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _hash_code(const, digest)
        else:
            digest.update(_const_text(const).encode())


def _const_text(const: Any) -> str:
    # frozenset constants (`x in {"a", "b"}`) print in hash order, which
    # changes from one process to the next: sort them
    if isinstance(const, frozenset):
        return "frozenset(" + ",".join(sorted(_const_text(c) for c in const)) + ")"
    if isinstance(const, tuple):
        return "(" + ",".join(_const_text(c) for c in const) + ")"
    return repr(const)


def _score_settings(
    params: Mapping[str, Any],
    space_name: str,
    initial_genomes: Sequence[Genome],
    sfreq: float | None,
) -> dict[str, Any]:
    """The settings a resumed search must share with the one it continues (as JSON)."""
    space, scoring, random_state = params["search_space"], params["scoring"], params["random_state"]
    min_epochs = params["min_epochs"]
    return {
        "search_space": space if isinstance(space, str) else repr(space),
        "search_space_bound": space_name,
        "initial_genomes": [g.key() for g in initial_genomes],
        "population_size": int(params["population_size"]),
        "max_epochs": int(params["max_epochs"]),
        "patience": None if params["patience"] is None else int(params["patience"]),
        "lr_schedule": str(params["lr_schedule"]),
        "label_smoothing": float(params["label_smoothing"]),
        "class_weight": describe_value(params.get("class_weight")),
        "augment": describe_value(params["augment"]),
        "holdout": str(params["holdout"]),
        "decimate": describe_value(params["decimate"]),
        # the rate the fit used (the setting's, or the MNE Epochs'): it decides the
        # decimation and the seeds' kernels
        "sfreq": None if sfreq is None else float(sfreq),
        "min_epochs": None if min_epochs is None else str(min_epochs),
        "halving_factor": int(params["halving_factor"]),
        "min_data_fraction": float(params.get("min_data_fraction", 1.0)),
        "candidate_time_limit": describe_value(params["candidate_time_limit"]),
        "validation_fraction": float(params["validation_fraction"]),
        "scoring": scoring if isinstance(scoring, str) else describe_value(scoring),
        "standardize": bool(params["standardize"]),
        "net_params": {
            k: describe_value(v) for k, v in sorted((params["net_params"] or {}).items())
        },
        # an asynchronous search cannot go on as a generational one, nor the other way
        "strategy": str(params["strategy"]),
        # the share of the epochs an inheriting child trains (False, 0.0: none inherits)
        "inherit_weights": inherit_share(params.get("inherit_weights", False)),
        "random_state": (
            int(random_state)
            if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
            else describe_value(random_state)
        ),
    }


def _data_fingerprint(
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[Any] | np.ndarray,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """What identifies the training data: shape, classes, a hash of the values (and groups)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype=np.float32).data)
    digest.update(np.ascontiguousarray(y, dtype=np.int64).data)
    found = {
        "shape": [int(n) for n in X.shape],
        "classes": [str(c) for c in classes],
        "sha256": digest.hexdigest(),
    }
    if groups is not None:  # a search without groups keeps the fingerprint it always had
        codes = np.ascontiguousarray(groups, dtype=np.int64)
        found["groups"] = hashlib.sha256(codes.data).hexdigest()
    return found


def search_meta(
    params: Mapping[str, Any],
    space_name: str,
    initial_genomes: Sequence[Genome],
    X: np.ndarray,
    y: np.ndarray,
    classes: Sequence[Any] | np.ndarray,
    sfreq: float | None = None,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """What a checkpoint keeps about the search that wrote it.

    Parameters
    ----------
    params : mapping
        The estimator's ``get_params()``.
    space_name : str
        Name of the bound search space.
    initial_genomes : sequence of Genome
        The genomes that seed the first generation.
    X, y : ndarray
        The data, with labels encoded as ``0 .. n_classes - 1``.
    classes : sequence
        The class labels.
    sfreq : float or None, default=None
        The sampling rate (Hz) the fit used (its ``sfreq_``): a resume at
        another rate is refused.
    groups : ndarray of int or None, default=None
        The fit's group codes (``check_groups``), if any: a resume with
        other groups is refused.

    Returns
    -------
    meta : dict
        ``"settings"`` (what decides the scores, :func:`describe_value`),
        ``"data"`` (shape, classes, SHA-256; with groups, ``"groups"``: the
        SHA-256 of their codes) and ``"params"`` (every
        setting, for the record). :func:`resume_point` adds
        ``"search_id"``, which marks the search's journal lines, and the fit
        ``"entropy"``, its root seed.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import EvolutionaryNASClassifier
    >>> X, y = np.zeros((4, 2), dtype=np.float32), np.array([0, 1, 0, 1])
    >>> params = EvolutionaryNASClassifier(random_state=0).get_params()
    >>> meta = search_meta(params, "mlp", [], X, y, ["a", "b"])
    >>> meta["settings"]["random_state"], meta["data"]["shape"], meta["data"]["classes"]
    (0, [4, 2], ['a', 'b'])
    >>> meta["settings"]["sfreq"] is None
    True
    >>> "groups" in meta["data"], "groups" in search_meta(params, "mlp", [], X, y, ["a", "b"],
    ...                                                   groups=np.array([0, 0, 1, 1]))["data"]
    (False, True)
    """
    return {
        "settings": _score_settings(params, space_name, initial_genomes, sfreq),
        "data": _data_fingerprint(X, y, classes, groups),
        "params": {k: describe_value(v) for k, v in sorted(params.items())},
    }


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Where two described values differ: ``["['callbacks'][0]: ... there, ... here"]``."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            found += _differences(
                old.get(key, "<missing>"), new.get(key, "<missing>"), f"{where}[{key!r}]"
            )
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        pairs = enumerate(zip(old, new, strict=True))
        return [d for i, (a, b) in pairs for d in _differences(a, b, f"{where}[{i}]")]
    return (
        [] if old == new else [f"{where}={short_repr(old, 160)} there, {short_repr(new, 160)} here"]
    )


# Settings that decide scores and were added after checkpoints were first
# written, with the value every earlier checkpoint was made with.
_ADDED_SETTINGS = {
    "strategy": "generational",
    "inherit_weights": False,
    "min_data_fraction": 1.0,
    "sfreq": None,
    "class_weight": None,
}


def check_compatible(saved: Mapping[str, Any], now: Mapping[str, Any], source: str) -> None:
    """Raise CheckpointError naming every setting or data property that changed.

    A setting that holds objects (``net_params``, a scoring callable) is
    named down to the value that changed.

    Examples
    --------
    >>> old = {"settings": {"max_epochs": 30}, "data": {"shape": [4, 2], "classes": ["a"]}}
    >>> new = {"settings": {"max_epochs": 10}, "data": {"shape": [4, 2], "classes": ["a"]}}
    >>> check_compatible(old, new, "a test")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.store.checkpoint.CheckpointError: cannot continue the search from a test: ...
      - max_epochs=30 there, 10 here
    ...
    >>> old["settings"]["net_params"] = {"callbacks": [{"params": {"gamma": 0.5}}]}
    >>> new["settings"] = {"max_epochs": 30,
    ...                    "net_params": {"callbacks": [{"params": {"gamma": 0.9}}]}}
    >>> try:
    ...     check_compatible(old, new, "a test")
    ... except CheckpointError as exc:
    ...     print(str(exc).splitlines()[1])
      - net_params['callbacks'][0]['params']['gamma']=0.5 there, 0.9 here
    """
    problems = []
    saved_settings = saved.get("settings", {})
    for name, value in now["settings"].items():
        old = saved_settings.get(name, _ADDED_SETTINGS.get(name, "<missing>"))
        if old != value:
            problems += [f"{name}{d}" for d in _differences(old, value)] or [
                f"{name}={old!r} there, {value!r} here"
            ]
    old_data = saved.get("data", {})
    for name in ("shape", "classes"):
        if old_data.get(name) != now["data"][name]:
            problems.append(f"data {name} {old_data.get(name)!r} there, {now['data'][name]!r} here")
    old_groups, new_groups = old_data.get("groups"), now["data"].get("groups")
    if old_groups != new_groups:  # absent from checkpoints of searches without groups
        problems.append(
            "the groups differ (other subjects, sessions or recordings)"
            if old_groups and new_groups
            else f"groups {'given' if old_groups else 'none'} there, "
            f"{'given' if new_groups else 'none'} here"
        )
    if not problems and old_data.get("sha256") != now["data"].get("sha256"):
        problems.append("the data values differ (another X or y of the same shape)")
    if problems:
        raise CheckpointError(
            f"cannot continue the search from {source}: it was made with other settings "
            "or data:\n  - "
            + "\n  - ".join(problems)
            + "\nUse the same data and settings, or warm_start=False to start anew."
        )


# --------------------------------------------------------------------------- the policy
def resume_point(
    meta: dict[str, Any],
    folder: str | os.PathLike | None,
    warm_start: bool,
    last: SearchState | None,
    space: SearchSpace | None = None,
) -> tuple[SearchState | None, Journal]:
    """The state a fit continues (or None) and the journal it writes to.

    With a ``folder``, it first locks it for this fit
    (:class:`~skevonas.store.folderlock.FolderLock`): a search already running
    there makes it raise at once. The lock is held by the returned journal
    until :meth:`Journal.close` (the search's pipeline closes it when the
    search ends), or released here if this raises.

    Parameters
    ----------
    meta : dict
        This fit's :func:`search_meta`; ``"search_id"`` is added to it.
    folder : path or None
        The estimator's ``checkpoint_dir``.
    warm_start : bool
        Whether to continue an earlier search.
    last : SearchState or None
        The estimator's last search (``search_state_``), if any.
    space : SearchSpace or None, default=None
        The bound search space of this fit: every genome of the checkpoint
        and of the journal must lie in it.

    Returns
    -------
    state : SearchState or None
        A copy of the state to continue, or None for a new search.
    journal : Journal
        With the lines its own search journaled (:meth:`~skevonas.store.journal.Journal.arrivals`
        hands back the ones to replay). Its ``meta`` is ``meta`` (the caller
        adds the entropy).

    Raises
    ------
    CheckpointError
        If another search holds the folder, if what would be continued was
        made with other data or settings, or if the checkpoint or journal is
        damaged or crafted (a genome outside ``space``, a bad score...).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> meta = {"settings": {"max_epochs": 5}, "data": {}}
    >>> state, journal = resume_point(meta, tmp.name, warm_start=False, last=None)
    >>> state is None, len(meta["search_id"])
    (True, 32)
    >>> try:
    ...     resume_point(dict(meta), tmp.name, warm_start=False, last=None)
    ... except CheckpointError as exc:
    ...     print(str(exc)[:27])
    another search is running i
    >>> journal.close()
    >>> tmp.cleanup()
    """
    lock = FolderLock(folder).acquire() if folder is not None else None
    try:
        state, journal = _resume(meta, folder, warm_start, last, space)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    journal.lock = lock
    return state, journal


def _resume(
    meta: dict[str, Any],
    folder: str | os.PathLike | None,
    warm_start: bool,
    last: SearchState | None,
    space: SearchSpace | None,
) -> tuple[SearchState | None, Journal]:
    max_epochs = meta.get("settings", {}).get("max_epochs")
    on_disk = has_checkpoint(folder)
    if warm_start and on_disk and folder is not None:
        state = load_checkpoint(folder, space, max_epochs)
        source = f"the checkpoint in {str(folder)!r}"
        _check_resumable(state, source)
        check_compatible(state.meta, meta, source)
        meta["search_id"] = state.meta.get("search_id")  # None: a journal of old
        entries = read_journal(folder, meta["search_id"], space=space, max_epochs=max_epochs)
    else:
        # Whatever is in the folder is not the search that runs now.
        if folder is not None:
            if on_disk:
                logger.info("warm_start=False: clearing the checkpoint in %s", folder)
            clear_checkpoint(folder)
        if not (warm_start and last is not None):
            meta["search_id"] = uuid.uuid4().hex
            return None, Journal(folder, meta)
        state, entries = copy.deepcopy(last), []
        source = "this estimator's last fit"
        _check_resumable(state, source)
        check_compatible(state.meta, meta, source)
        meta["search_id"] = state.meta.get("search_id") or uuid.uuid4().hex
    logger.info(
        "warm start from %s: %d generations and %d evaluations done, %d more results journaled",
        source,
        state.generation + 1,
        len(state.records),
        len(entries),
    )
    return state, Journal(folder, meta, entries)


def _check_resumable(state: SearchState, source: str) -> None:
    """What a fit needs of the state it continues, beyond its records."""
    problems = []
    if not isinstance(state.meta.get("settings"), dict) or not isinstance(
        state.meta.get("data"), dict
    ):
        problems.append("its meta has no settings or data fingerprint")
    entropy = state.meta.get("entropy")
    if not isinstance(entropy, int) or isinstance(entropy, bool) or entropy < 0:
        problems.append(f"its meta has no root seed (entropy: {entropy!r})")
    search_id = state.meta.get("search_id")
    if search_id is not None and not isinstance(search_id, str):
        problems.append(f"its search_id {search_id!r} is not a string")
    if state.rng is None:
        problems.append("it has no random generator state")
    if state.generation >= 0 and not state.population:
        problems.append("its last generation has no evaluated candidate to breed from")
    if problems:
        raise CheckpointError(
            f"cannot continue the search from {source}: "
            + "; ".join(problems)
            + ". Use warm_start=False to start anew."
        )
