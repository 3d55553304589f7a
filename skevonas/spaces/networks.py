"""Networks from genomes: build one, count its parameters, estimate its cost.

``build_module(genome, input_shape, n_classes)`` looks up the builder of
``genome.family`` in the family registry (:mod:`skevonas.spaces.families`). Every
network is a :class:`torch.nn.Sequential` whose last layer is named
``"output"`` and returns one logit per class. With ``input_stats`` the
network starts with a :class:`~skevonas.spaces.builders.Standardize` layer
that holds the training mean and standard deviation as buffers, so the module
is self-contained.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .builders.layers import Standardize
from .families import get_family
from .genome import Genome

__all__ = ["build_module", "count_parameters", "estimate_macs"]


def build_module(
    genome: Genome,
    input_shape: Sequence[int],
    n_classes: int,
    input_stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> nn.Sequential:
    """Build the untrained network a genome describes.

    Parameters
    ----------
    genome : Genome
        The candidate.
    input_shape : sequence of int
        Shape of one sample: ``(n_features,)``, ``(channels, time)`` (``cnn1d``
        and ``eeg`` genomes) or ``(channels, height, width)``.
    n_classes : int
        Size of the output layer.
    input_stats : (mean, std) or None
        Per-feature or per-channel statistics for a leading
        :class:`~skevonas.spaces.builders.Standardize` layer.

    Raises
    ------
    ValueError
        If the genome's family is not a known model family, or the genome
        does not fit ``input_shape``.

    Examples
    --------
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 4, "kernel_size": 3,
    ...                                          "stride": 1})], {"head": "avg"})
    >>> net = build_module(g, (2, 16), n_classes=3)
    >>> net.output
    Linear(in_features=4, out_features=3, bias=True)
    """
    builder = get_family(genome.family).builder
    layers: list[tuple[str, nn.Module]] = []
    if input_stats is not None:
        layers.append(("standardize", Standardize(*input_stats)))
    layers += builder(genome, tuple(int(s) for s in input_shape), int(n_classes))
    return nn.Sequential(OrderedDict(layers))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``.

    Examples
    --------
    >>> from torch import nn
    >>> count_parameters(nn.Linear(4, 3))  # 4 x 3 weights and 3 biases
    15
    """
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def estimate_macs(genome: Genome, input_shape: Sequence[int], n_classes: int) -> int:
    """Multiply-accumulates of one forward pass of one sample (convolutions and linears).

    A cheap proxy for a candidate's training cost, used to start the most
    expensive candidates first so parallel workers finish together.

    Examples
    --------
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 10, "activation": "relu"})], {})
    >>> estimate_macs(g, (4,), 3)
    70
    """
    module = build_module(genome, input_shape, n_classes)
    total = 0

    def count(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Linear):
            total += layer.in_features * layer.out_features
        elif isinstance(layer, (nn.Conv1d, nn.Conv2d)):
            per_output = layer.in_channels * math.prod(layer.kernel_size) // layer.groups
            total += per_output * output.numel()

    hooks = [m.register_forward_hook(count) for m in module.modules()]
    with torch.no_grad():
        module.eval()(torch.zeros((1, *input_shape)))
    for hook in hooks:
        hook.remove()
    return int(total)
