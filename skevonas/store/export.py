"""Export a fitted network to TorchScript, ONNX or plain PyTorch, for use without skevonas.

Both exports hold a CPU copy of the network in eval mode followed by a
softmax: they map a float32 batch of shape ``(n, *sample_shape)`` to class
probabilities of shape ``(n, n_classes)`` whose columns follow the
estimator's ``classes_`` (the labels themselves are not stored; keep
``classes_`` next to the file). The batch size is free. Loading needs only
torch (:func:`torch.jit.load`) or an ONNX runtime, never skevonas.

An estimator's export takes ``X`` as ``predict_proba`` does, raw: the
float64 affine step of ``predict_proba`` (``input_offset_``,
``input_scale_``, with ``standardize=True``) is folded into a front layer
that computes it in float32, and the logits are divided by the
estimator's ``temperature_`` (a calibrated search), so the program gives
``predict_proba``'s calibrated probabilities. Data whose offset is large
against its spread (e.g. ``1e8 + x``) loses its signal in the float32
cast before any layer sees it: centre such data in float64 first,
``(X - input_offset_) / input_scale_``, and export the estimator's
``module_`` (which takes ``X`` after that step) with the temperature
applied to its logits yourself.

``to_onnx`` needs the optional packages ``onnx`` and ``onnxscript``
(``pip install "skevonas[onnx]"``); it uses torch's default exporter, the
``torch.export``-based one (``dynamo=True``), with a dynamic batch axis.

``to_pytorch`` (:mod:`skevonas.store.standalone`) writes a folder of
readable PyTorch code, weights and a model card, whose ``load`` gives a
classifier on raw NumPy input with the class labels.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import logging
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..spaces.builders.layers import Standardize
from .standalone import to_pytorch

__all__ = ["INPUT_NAME", "OUTPUT_NAME", "to_onnx", "to_pytorch", "to_torchscript"]

logger = logging.getLogger(__name__)

INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
ONNX_PACKAGES = ("onnx", "onnxscript")
# torch's ONNX exporter logs one warning per torchvision operator it cannot
# register when torchvision is absent; none of them matter here.
_NOISY_LOGGERS = ("torch.onnx._internal.exporter._registration",)


# --------------------------------------------------------------------------- the network
def _network(model: Any) -> tuple[nn.Module, tuple[int, ...] | None]:
    """The module to export and, for an estimator, the shape of one sample."""
    if isinstance(model, nn.Module):
        return model, None
    if isinstance(model, BaseEstimator) and isinstance(
        getattr(type(model), "net_", None), property
    ):
        check_is_fitted(model)  # a skevonas classifier
        # the skorch net's module itself: the module_ property would switch it to eval mode
        return model.net_.module_, tuple(int(s) for s in model.sample_shape_)
    raise TypeError(
        "model must be a fitted skevonas classifier or a torch.nn.Module, "
        f"got {type(model).__name__} instead"
    )


def _sample_shape(
    fitted: tuple[int, ...] | None,
    input_shape: Sequence[int] | None,
    example: Any,
) -> tuple[int, ...]:
    """Resolve the shape of one sample from the estimator, ``input_shape`` or ``example``."""
    given = None if input_shape is None else tuple(int(s) for s in input_shape)
    if example is not None:
        example_shape = tuple(np.shape(example))
        if len(example_shape) < 2:
            raise ValueError(
                f"example must be a batch of shape (n, *sample_shape), got shape {example_shape}"
            )
        if given is not None and example_shape[1:] != given:
            raise ValueError(
                f"example has samples of shape {example_shape[1:]}, but input_shape={given!r}"
            )
        given = example_shape[1:]
    if fitted is not None:
        if given is not None and given != fitted:
            raise ValueError(
                f"the estimator was fitted on samples of shape {fitted}, but the "
                f"input_shape or example given has samples of shape {given}"
            )
        return fitted
    if given is None:
        raise ValueError(
            "exporting a bare torch.nn.Module needs the shape of its input: pass "
            "input_shape=(shape of one sample) or example=(a float32 batch)"
        )
    return given


class _Temperature(nn.Module):
    """Divide the logits by a fixed temperature (the estimator's ``temperature_``)."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.temperature = float(temperature)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.temperature


def _estimator_steps(model: Any) -> tuple[nn.Module | None, nn.Module | None]:
    """The fixed steps an estimator adds around its network: the affine front, the temperature.

    Each is None where there is none (a bare module, ``standardize=False``, T = 1).
    """
    if isinstance(model, nn.Module):
        return None, None
    offset = getattr(model, "input_offset_", None)
    # the float64 step of predict_proba, folded into the program in float32
    front = None if offset is None else Standardize(offset, model.input_scale_)
    temperature = float(getattr(model, "temperature_", 1.0))
    return front, None if temperature == 1.0 else _Temperature(temperature)


def _prepare(
    model: Any, input_shape: Sequence[int] | None, example: Any
) -> tuple[nn.Sequential, torch.Tensor]:
    """A CPU copy of the network followed by a softmax, and an example batch for it.

    An estimator's input affine step (``input_offset_``, ``input_scale_``)
    comes first, and its ``temperature_`` divides the logits.
    """
    module, fitted = _network(model)
    shape = _sample_shape(fitted, input_shape, example)
    network = copy.deepcopy(module).cpu().eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    front, temperature = _estimator_steps(model)
    steps: OrderedDict[str, nn.Module] = OrderedDict()
    if front is not None:
        steps["input_affine"] = front
    steps["network"] = network
    if temperature is not None:
        steps["temperature"] = temperature
    steps["softmax"] = nn.Softmax(dim=1)
    wrapped = nn.Sequential(steps).eval()
    if example is None:
        # Two samples, so that no exporter mistakes the batch axis for a constant 1.
        batch = torch.randn((2, *shape), generator=torch.Generator().manual_seed(0))
    else:
        batch = torch.as_tensor(np.asarray(example, dtype=np.float32))
    return wrapped, batch


def _other_batch(example: torch.Tensor) -> torch.Tensor:
    """A batch one sample longer than ``example``, to check that the batch size is free."""
    extra = torch.randn((1, *example.shape[1:]), generator=torch.Generator().manual_seed(1))
    return torch.cat([example, extra])


def _check_same(exported: Any, reference: nn.Module, batches: Sequence[torch.Tensor]) -> None:
    """Raise RuntimeError if ``exported`` and ``reference`` disagree on any batch."""
    with torch.no_grad():
        for batch in batches:
            got, want = exported(batch), reference(batch)
            if got.shape != want.shape or not torch.allclose(got, want, atol=1e-5, rtol=1e-4):
                raise RuntimeError(
                    f"the exported network differs from the original on a batch of shape "
                    f"{tuple(batch.shape)}; it cannot be exported faithfully"
                )


# --------------------------------------------------------------------------- TorchScript
@contextlib.contextmanager
def _no_jit_deprecation() -> Iterator[None]:
    # torch >= 2.10 deprecates TorchScript; the caller asked for it explicitly.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"`torch\.jit\.\w+` is deprecated", category=DeprecationWarning
        )
        yield


def _script_or_trace(wrapped: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """``torch.jit.script``, or ``torch.jit.trace`` on ``example`` where scripting fails."""
    try:
        return torch.jit.script(wrapped)
    except Exception as exc:  # noqa: BLE001 - any scripting failure falls back to tracing
        logger.info("torch.jit.script failed (%s); tracing instead", exc)
    # A trace fixes whatever Python computes from the input's shape (e.g. the
    # padding of a Decimate front): harmless, as the sample shape is fixed and
    # the trace is checked on a batch of another size; the warnings would only alarm.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        return torch.jit.trace(wrapped, example, check_inputs=[(_other_batch(example),)])


def to_torchscript(
    model: Any,
    path: str | Path | None = None,
    *,
    input_shape: Sequence[int] | None = None,
    example: Any = None,
) -> Any:
    """Export a fitted classifier's network (or any module) to TorchScript.

    The exported program is the network followed by a softmax, on the CPU
    and in eval mode: it maps a float32 batch of shape ``(n, *sample_shape)``
    to class probabilities whose columns follow ``classes_``, for any ``n``.
    :func:`torch.jit.load` loads it without skevonas. An estimator's program
    takes raw ``X``, as ``predict_proba`` does, and gives its (calibrated)
    probabilities: the input's affine step and the temperature are part of
    it (see :mod:`skevonas.store.export` for data with a large offset).

    Parameters
    ----------
    model : fitted skevonas classifier or torch.nn.Module
        The estimator (its ``module_`` is exported; the estimator itself is
        left as it is) or a module that maps a batch to logits.
    path : str, path or None, default=None
        Where to save the program (:func:`torch.jit.save`); ``None`` returns
        it instead.
    input_shape : sequence of int or None, default=None
        Shape of one sample; required for a bare module unless ``example``
        is given. An estimator knows it (``sample_shape_``).
    example : array-like or None, default=None
        A float32 batch ``(n, *sample_shape)``, used if the module must be
        traced. By default a random batch of two samples.

    Returns
    -------
    path or torch.jit.ScriptModule
        ``Path(path)`` when ``path`` is given, else the scripted module.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is an estimator that is not fitted.
    ValueError
        If the input shape is unknown or inconsistent.

    Notes
    -----
    :func:`torch.jit.script` is tried first; where it fails, the network is
    traced (:func:`torch.jit.trace`) on ``example``, and the trace is checked
    against the original on a batch of another size. torch 2.10 and later
    deprecate TorchScript (their deprecation warnings are silenced here);
    :func:`to_onnx` is the format to prefer for long-term use.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 3))
    >>> program = to_torchscript(net, input_shape=(4,))
    >>> proba = program(torch.zeros(5, 4))
    >>> proba.shape, bool(torch.allclose(proba.sum(dim=1), torch.ones(5)))
    (torch.Size([5, 3]), True)
    """
    wrapped, batch = _prepare(model, input_shape, example)
    with _no_jit_deprecation():
        program = _script_or_trace(wrapped, batch)
        _check_same(program, wrapped, [batch, _other_batch(batch)])
        if path is None:
            return program
        path = Path(path)
        torch.jit.save(program, str(path))
    return path


# --------------------------------------------------------------------------- ONNX
def _require_onnx() -> None:
    """Raise ImportError, saying how to install them, if the ONNX packages are missing."""
    missing = []
    for name in ONNX_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"ONNX export needs the optional package(s) {missing}, which could not be "
            'imported; install them with: pip install "skevonas[onnx]"'
        )


@contextlib.contextmanager
def _quiet_onnx_export() -> Iterator[None]:
    """Silence torch's exporter chatter (internal deprecations, torchvision notices)."""
    saved = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    try:
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def to_onnx(
    model: Any,
    path: str | Path,
    *,
    input_shape: Sequence[int] | None = None,
    example: Any = None,
    opset_version: int | None = None,
) -> Path:
    """Export a fitted classifier's network (or any module) to an ONNX file.

    The ONNX graph is the network followed by a softmax, in eval mode: its
    input ``"input"`` is a float32 batch of shape ``(batch, *sample_shape)``
    with a dynamic batch axis, and its output ``"probabilities"`` has one
    column per class, in the order of ``classes_``. The weights are stored
    in the file itself. An estimator's graph takes raw ``X``, as
    ``predict_proba`` does, and gives its (calibrated) probabilities: the
    input's affine step and the temperature are part of it (see
    :mod:`skevonas.store.export` for data with a large offset).

    Parameters
    ----------
    model : fitted skevonas classifier or torch.nn.Module
        The estimator (its ``module_`` is exported; the estimator itself is
        left as it is) or a module that maps a batch to logits.
    path : str or path
        The ``.onnx`` file to write.
    input_shape : sequence of int or None, default=None
        Shape of one sample; required for a bare module unless ``example``
        is given. An estimator knows it (``sample_shape_``).
    example : array-like or None, default=None
        A float32 batch ``(n, *sample_shape)`` to export with (``n >= 2``).
        By default a random batch of two samples.
    opset_version : int or None, default=None
        ONNX operator set to target; ``None`` lets torch choose.

    Returns
    -------
    path : Path
        ``Path(path)``.

    Raises
    ------
    ImportError
        If ``onnx`` or ``onnxscript`` is not installed
        (``pip install "skevonas[onnx]"``).
    sklearn.exceptions.NotFittedError
        If ``model`` is an estimator that is not fitted.
    ValueError
        If the input shape is unknown or inconsistent.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> from torch import nn
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = to_onnx(nn.Sequential(nn.Linear(4, 3)), pathlib.Path(tmp.name) / "net.onnx",
    ...                input_shape=(4,))
    >>> session = onnxruntime.InferenceSession(str(path))
    >>> [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]
    (['input'], ['probabilities'])
    >>> proba = session.run(None, {"input": np.zeros((5, 4), np.float32)})[0]
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((5, 3), True)
    >>> tmp.cleanup()
    """
    _require_onnx()
    wrapped, batch = _prepare(model, input_shape, example)
    path = Path(path)
    with _quiet_onnx_export():
        torch.onnx.export(
            wrapped,
            (batch,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset_version,
            dynamo=True,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            external_data=False,
            verbose=False,
        )
    return path
