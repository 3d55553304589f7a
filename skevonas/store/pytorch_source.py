"""Plain PyTorch source code for a fitted network: the ``model.py`` of a standalone export.

:func:`network_source` writes the Python file that rebuilds a network that
skevonas built from a genome, using :mod:`torch.nn` layers only, plus the
few small layers skevonas adds (``Standardize``, ``Decimate``,
``AddMapAxis``, ``Square``, ``SafeLog``), whose definitions it copies into
the file. Each network is one class, its layers named in ``__init__`` as
skevonas names them (so the state dict keys are the same) and called one
after the other in a plain ``forward``; an ensemble is one more class that
averages its members' probabilities as
:class:`~skevonas.training.ensemble.EnsembleModule` does. The file also
defines ``load(directory)``, which reads ``config.json`` and
``model.safetensors`` and returns a classifier with ``predict`` and
``predict_proba`` on raw NumPy input (:data:`RUNTIME_SOURCE`).

The code is written from the layers' settings, which must be plain values
(ints, finite floats, strings, booleans, tuples of them): a layer of another
type, or a setting of another kind, is refused with a ``TypeError`` naming
it, so nothing from a genome reaches the file but numbers, known names and
comments escaped as JSON strings.
"""

from __future__ import annotations

import inspect
import json
import keyword
import math
import textwrap
from collections.abc import Sequence
from typing import Any

from torch import nn

from .._version import __version__
from ..spaces.builders.layers import AddMapAxis, Decimate, SafeLog, Square, Standardize
from ..spaces.genome import Genome
from ..training.ensemble import EnsembleModule

__all__ = ["RUNTIME_SOURCE", "network_source"]

# torch layer -> the constructor parameters read back from its attributes
_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
_BATCHNORM = ("num_features", "eps", "momentum", "affine", "track_running_stats")
_MAXPOOL = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
_AVGPOOL = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
_TORCH_LAYERS: dict[type[nn.Module], tuple[str, ...]] = {
    nn.Linear: ("in_features", "out_features"),
    nn.Conv1d: _CONV,
    nn.Conv2d: _CONV,
    nn.BatchNorm1d: _BATCHNORM,
    nn.BatchNorm2d: _BATCHNORM,
    nn.MaxPool1d: _MAXPOOL,
    nn.MaxPool2d: _MAXPOOL,
    nn.AvgPool1d: _AVGPOOL,
    nn.AvgPool2d: (*_AVGPOOL, "divisor_override"),
    nn.AdaptiveAvgPool1d: ("output_size",),
    nn.AdaptiveAvgPool2d: ("output_size",),
    nn.Flatten: ("start_dim", "end_dim"),
    nn.ZeroPad2d: ("padding",),
    nn.Dropout: ("p",),
    nn.Identity: (),
    nn.ReLU: (),
    nn.ELU: ("alpha",),
    nn.Tanh: (),
    nn.Sigmoid: (),
    nn.LeakyReLU: ("negative_slope",),
    nn.SELU: (),
    nn.GELU: ("approximate",),
    nn.Softplus: ("beta", "threshold"),
    nn.Softsign: (),
}
_ALWAYS_SHOWN = {"p"}

# The skevonas layers, as the exported file defines them (same computation, same buffers).
_HELPERS: dict[type[nn.Module], str] = {
    Standardize: '''

class Standardize(nn.Module):
    """Subtract the training mean and divide by the training standard deviation.

    ``mean`` and ``std`` are buffers of shape ``(1, *shape)`` (1 in every
    axis the statistics were pooled over); ``load`` fills them.
    """

    def __init__(self, shape):
        super().__init__()
        self.register_buffer("mean", torch.zeros((1, *shape)))
        self.register_buffer("std", torch.ones((1, *shape)))

    def forward(self, x):
        return (x - self.mean) / self.std
''',
    Decimate: '''

class Decimate(nn.Module):
    """Low-pass filter every channel, then keep every ``factor``-th time sample.

    A Hamming-windowed sinc FIR of ``8 * factor + 1`` taps cut off at 80% of
    the new Nyquist frequency; the ends of each epoch are reflected (then
    repeated, for epochs shorter than the filter). ``(n, channels, n_times)``
    becomes ``(n, channels, ceil(n_times / factor))``.
    """

    def __init__(self, factor):
        super().__init__()
        self.factor = int(factor)
        n = 8 * self.factor + 1
        t = np.arange(n) - n // 2
        cutoff = 0.8 / self.factor
        taps = cutoff * np.sinc(cutoff * t) * np.hamming(n)
        self.register_buffer("taps", torch.as_tensor(taps / taps.sum(), dtype=torch.float32))

    def forward(self, x):
        n, channels, n_times = x.shape
        half = self.taps.numel() // 2
        flat = x.reshape(n * channels, 1, n_times)
        reflect = min(half, n_times - 1)
        flat = nn.functional.pad(flat, (reflect, reflect), mode="reflect") if reflect else flat
        if half > reflect:
            flat = nn.functional.pad(flat, (half - reflect, half - reflect), mode="replicate")
        out = nn.functional.conv1d(flat, self.taps.view(1, 1, -1), stride=self.factor)
        return out.reshape(n, channels, out.shape[-1])
''',
    AddMapAxis: '''

class AddMapAxis(nn.Module):
    """``(batch, channels, time)`` -> one-map images ``(batch, 1, channels, time)``."""

    def forward(self, x):
        return x.unsqueeze(1)
''',
    Square: '''

class Square(nn.Module):
    """Element-wise square."""

    def forward(self, x):
        return x * x
''',
    SafeLog: '''

class SafeLog(nn.Module):
    """Natural log of ``max(x, eps)``."""

    def __init__(self, eps=1e-6):
        super().__init__()
        self.eps = float(eps)

    def forward(self, x):
        return torch.log(torch.clamp(x, min=self.eps))
''',
}

_ENSEMBLE = '''

class Ensemble(nn.Module):
    """The members' weighted mean class probabilities, returned as their log.

    ``decimate`` runs first and feeds every member; with one member the
    output is that member's logits. A softmax of the output gives the
    class probabilities.
    """

    def __init__(self):
        super().__init__()
        self.members = nn.ModuleList([{members}])
        self.register_buffer("weights", torch.zeros({n_members}))  # load() fills them
        self.decimate = {decimate}

    def forward(self, x):
        x = self.decimate(x)
        if len(self.members) == 1:
            return self.members[0](x)
        probas = [member(x).softmax(dim=1) for member in self.members]
        mixed = self.weights[0] * probas[0]
        for i in range(1, len(probas)):
            mixed = mixed + self.weights[i] * probas[i]
        return torch.log(torch.clamp(mixed, min=torch.finfo(x.dtype).tiny))
'''

RUNTIME_SOURCE = '''

# ------------------------------------------------------------------ loading and predicting
class Model:
    """The exported classifier: ``predict`` and ``predict_proba`` on raw NumPy samples.

    ``module`` is the network (a ``torch.nn.Module`` in eval mode, on
    ``device``); ``classes_`` the class labels; ``config`` the contents of
    config.json. A pandas DataFrame's columns are taken by name when the
    estimator was fitted on named features.
    """

    def __init__(self, module, config, device="cpu"):
        self.module = module
        self.config = config
        self.device = torch.device(device)
        self.classes_ = np.asarray(config["classes"]["values"], dtype=config["classes"]["dtype"])
        self.sample_shape = tuple(config["input"]["sample_shape"])
        self.feature_names = config["input"]["feature_names"]
        step = config["preprocessing"]
        self.input_offset = _array(step["input_offset"])
        self.input_scale = _array(step["input_scale"])
        # the estimator's temperature_ (calibrate); absent from older exports: 1
        self.temperature = float(config["network"].get("temperature", 1.0))
        self.batch_size = int(config["batch_size"])

    def prepare(self, X):
        """The float32 batch the network takes, from raw samples (the input step of config.json)."""
        if self.feature_names is not None and hasattr(X, "columns"):
            X = X[self.feature_names]  # a DataFrame: its columns by name
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[1:] != self.sample_shape:
            raise ValueError(
                f"X must hold samples of shape {self.sample_shape}, i.e. have shape "
                f"(n_samples, {', '.join(map(str, self.sample_shape))}); got shape {X.shape}"
            )
        if self.input_offset is not None or self.input_scale is not None:
            X = X.astype(np.float64)
            if self.input_offset is not None:
                X = X - self.input_offset
            if self.input_scale is not None:
                X = X / self.input_scale
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity")
        return X

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes); columns follow ``classes_``."""
        X = self.prepare(X)
        parts = [np.zeros((0, len(self.classes_)), dtype=np.float32)]
        with torch.no_grad():
            for start in range(0, len(X), self.batch_size):
                batch = torch.from_numpy(X[start : start + self.batch_size]).to(self.device)
                logits = self.module(batch) / self.temperature
                parts.append(torch.softmax(logits, dim=-1).cpu().numpy())
        return np.concatenate(parts).astype(np.float64)

    def predict(self, X):
        """The class of highest probability, as one of the labels in ``classes_``."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _array(value):
    return None if value is None else np.asarray(value, dtype=np.float64)


def load(directory=None, device="cpu"):
    """The exported classifier in ``directory`` (default: the folder of this file).

    ``device`` (e.g. "cuda") is where the network computes; the results are
    NumPy arrays either way.
    """
    directory = Path(__file__).resolve().parent if directory is None else Path(directory)
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    module = build()
    module.load_state_dict(load_file(str(directory / "model.safetensors")))
    return Model(module.to(device).eval(), config, device)
'''

_HEADER = '''"""{title}, exported by skevonas {version}: plain PyTorch, no skevonas needed.

Generated code (edit it as you like); it needs torch, numpy and safetensors.
``load(folder)`` reads config.json and model.safetensors from the folder and
returns a classifier whose ``predict`` and ``predict_proba`` take raw NumPy
samples of shape (n_samples, {shape}); ``.module`` is the network, which
maps a float32 batch to {output} (a softmax gives the class probabilities).

    import sys
    sys.path.insert(0, "path/to/folder")
    import model
    clf = model.load("path/to/folder")
    clf.predict(X), clf.predict_proba(X)
"""

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
'''


def _comment(text: str) -> str:
    """``text`` as one line of a ``#`` comment: escaped as a JSON string, so no code."""
    return json.dumps(str(text))[1:-1]


def _plain(value: Any, where: str) -> Any:
    """``value`` as a value of a built-in type (whose ``repr`` is a literal), else TypeError.

    Subclasses become their base type, so no ``__repr__`` of theirs writes the code.
    """
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v, where) for v in value)
    if value is None or isinstance(value, bool):
        return None if value is None else value is True
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float) and math.isfinite(value):
        return float.__float__(value)
    raise TypeError(f"{where} has a setting of type {type(value).__name__} ({value!r:.60})")


def _is_default(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return False
    if isinstance(value, tuple) and not isinstance(default, tuple):
        return all(v == default for v in value)
    return bool(value == default)


def _torch_layer(layer: nn.Module, where: str) -> str:
    """``nn.Name(...)`` for a layer of :mod:`torch.nn` (required arguments by position)."""
    kind = type(layer)
    signature = inspect.signature(kind.__init__).parameters
    args, kwargs = [], []
    for name in _TORCH_LAYERS[kind]:
        value = _plain(getattr(layer, name), where)
        default = signature[name].default
        if default is inspect.Parameter.empty:
            args.append(repr(value))
        elif name in _ALWAYS_SHOWN or not _is_default(value, default):
            kwargs.append(f"{name}={value!r}")
    if "bias" in signature and getattr(layer, "bias", None) is None:
        kwargs.append("bias=False")
    if getattr(layer, "padding_mode", "zeros") != "zeros":
        raise TypeError(f"{where}: padding_mode={layer.padding_mode!r} is not written as code")
    return f"nn.{kind.__name__}({', '.join(args + kwargs)})"


def _layer(layer: nn.Module, where: str, indent: int = 8) -> str:
    """The Python expression that builds ``layer`` (its weights aside), at ``indent`` spaces."""
    kind = type(layer)
    if kind in _TORCH_LAYERS:
        return _torch_layer(layer, where)
    if kind is nn.Sequential:
        names = [name for name, _ in layer.named_children()]
        if names != [str(i) for i in range(len(names))]:
            raise TypeError(f"{where} is a Sequential with named layers {names}")
        inner = " " * (indent + 4)
        parts = [
            f"{inner}{_layer(child, f'{where}.{i}', indent + 4)},\n"
            for i, child in enumerate(layer.children())
        ]
        return f"nn.Sequential(\n{''.join(parts)}{' ' * indent})"
    if kind is Standardize and isinstance(layer, Standardize):
        return f"Standardize({tuple(int(s) for s in layer.mean.shape[1:])!r})"
    if kind is Decimate and isinstance(layer, Decimate):
        return f"Decimate({int(layer.factor)})"
    if kind is SafeLog and isinstance(layer, SafeLog):
        return f"SafeLog(eps={_plain(layer.eps, where)!r})"
    if kind in (AddMapAxis, Square):
        return f"{kind.__name__}()"
    raise TypeError(
        f"{where} is a {kind.__module__}.{kind.__name__}, which the PyTorch export cannot "
        f"write as code; it writes {sorted(k.__name__ for k in (*_TORCH_LAYERS, *_HELPERS))}"
    )


def _gene_comments(genome: Genome | None) -> dict[str, str]:
    """Layer name -> a comment naming the gene it comes from (builders name layers kind_i)."""
    if genome is None:
        return {}
    return {
        f"{gene.kind}_{i}": f"# gene {i}: {_comment(repr(gene))}"
        for i, gene in enumerate(genome.layers)
    }


def _network_class(name: str, network: nn.Module, genome: Genome | None) -> str:
    """The class of one network: named layers in ``__init__``, a plain ``forward``."""
    if type(network) is not nn.Sequential:
        raise TypeError(f"a network must be an nn.Sequential, got {type(network).__name__}")
    comments = _gene_comments(genome)
    init, forward = [], []
    for attribute, layer in network.named_children():
        if not (attribute.isidentifier() and attribute.isascii()) or keyword.iskeyword(attribute):
            raise TypeError(f"layer name {attribute!r} is not a Python identifier")
        if attribute in comments:
            init.append(f"        {comments[attribute]}")
        init.append(f"        self.{attribute} = {_layer(layer, attribute)}")
        forward.append(f"        x = self.{attribute}(x)")
    summary = "A network" if genome is None else f"{genome.family} network"
    lines = [
        "",
        "",
        f"class {name}(nn.Module):",
        f'    """{summary} built by skevonas; the genome is in config.json."""',
        "",
    ]
    if genome is not None:
        text = _comment(str(genome).rstrip(" |"))
        lines += [f"    # {line}" for line in textwrap.wrap(f"genome: {text}", 82)] + [""]
    lines += ["    def __init__(self):", "        super().__init__()", *init, ""]
    lines += ["    def forward(self, x):", *forward, "        return x", ""]
    return "\n".join(lines)


def _helpers(module: nn.Module) -> str:
    """The definitions of the skevonas layers ``module`` uses, in a fixed order."""
    used = {type(m) for m in module.modules()}
    return "".join(source for kind, source in _HELPERS.items() if kind in used)


def network_source(
    module: nn.Module,
    genomes: Sequence[Genome] | None = None,
    sample_shape: Sequence[int] | None = None,
) -> str:
    """The source of a ``model.py`` that rebuilds ``module`` with plain PyTorch.

    Parameters
    ----------
    module : nn.Sequential or EnsembleModule
        A network that skevonas built from a genome
        (:func:`~skevonas.spaces.networks.build_module`), or an ensemble
        of such networks (:class:`~skevonas.training.ensemble.EnsembleModule`).
    genomes : sequence of Genome or None, default=None
        The genome of each network (of each member), shown in comments.
    sample_shape : sequence of int or None, default=None
        The shape of one raw sample, for the file's docstring.

    Returns
    -------
    source : str
        Python code that defines one class per network (``Network``, or
        ``Member0``, ``Member1``... and ``Ensemble``), ``build()`` (the
        untrained network, whose state dict keys are ``module``'s), the
        ``Model`` classifier and ``load(directory)``
        (:data:`RUNTIME_SOURCE`).

    Raises
    ------
    TypeError
        If ``module`` holds a layer that cannot be written as code.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.spaces.networks import build_module
    >>> genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    >>> source = network_source(build_module(genome, (4,), 3), [genome])
    >>> print(source[source.index("class Network"):source.index("def build")].strip())
    ... # doctest: +NORMALIZE_WHITESPACE
    class Network(nn.Module):
        \"\"\"mlp network built by skevonas; the genome is in config.json.\"\"\"
    <BLANKLINE>
        # genome: mlp: dense(activation='relu', units=8) -> output
    <BLANKLINE>
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            # gene 0: dense(activation='relu', units=8)
            self.dense_0 = nn.Linear(4, 8)
            self.act_0 = nn.ReLU()
            self.output = nn.Linear(8, 3)
    <BLANKLINE>
        def forward(self, x):
            x = self.flatten(x)
            x = self.dense_0(x)
            x = self.act_0(x)
            x = self.output(x)
            return x
    """
    genomes = list(genomes) if genomes is not None else []
    if isinstance(module, EnsembleModule):
        members = list(module.members)
        if genomes and len(genomes) != len(members):
            raise ValueError(f"{len(members)} members but {len(genomes)} genomes")
        classes = "".join(
            _network_class(f"Member{i}", member, genomes[i] if genomes else None)
            for i, member in enumerate(members)
        )
        decimate = _layer(module.decimate, "decimate")
        classes += _ENSEMBLE.format(
            members=", ".join(f"Member{i}()" for i in range(len(members))),
            n_members=len(members),
            decimate=decimate,
        )
        top, title, output = (
            "Ensemble",
            f"An ensemble of {len(members)} networks",
            "log-probabilities",
        )
    else:
        classes = _network_class("Network", module, genomes[0] if genomes else None)
        top, title, output = "Network", "A network", "one logit per class"
    shape = (
        "*sample_shape" if sample_shape is None else ", ".join(str(int(s)) for s in sample_shape)
    )
    build = f'''

def build():
    """The network, untrained (``load`` fills its weights and buffers)."""
    return {top}()
'''
    header = _HEADER.format(title=title, version=__version__, shape=shape, output=output)
    return header + _helpers(module) + classes + build + RUNTIME_SOURCE
