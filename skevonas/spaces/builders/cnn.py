"""Convolutional networks over time (1-D) or images (2-D).

Layer kinds are those of the EEG-NAS thesis: ``conv`` (valid padding),
``maxpool`` (stride equal to pool size), ``batchnorm``, ``elu``, ``dropout``
and ``identity``. The global gene ``head`` chooses how the feature maps
reach the output layer: ``"flatten"`` keeps every position, ``"avg"``
averages over positions first.
"""

from __future__ import annotations

import math

from torch import nn

from ..genome import Genome
from ..shapes import signal_shapes

_MODULES = {
    1: {
        "conv": nn.Conv1d,
        "maxpool": nn.MaxPool1d,
        "batchnorm": nn.BatchNorm1d,
        "avg": nn.AdaptiveAvgPool1d,
    },
    2: {
        "conv": nn.Conv2d,
        "maxpool": nn.MaxPool2d,
        "batchnorm": nn.BatchNorm2d,
        "avg": nn.AdaptiveAvgPool2d,
    },
}


def build_cnn(
    genome: Genome, input_shape: tuple[int, ...], n_classes: int
) -> list[tuple[str, nn.Module]]:
    """Named layers of the CNN a genome describes.

    ``input_shape`` is ``(channels, time)`` for ``cnn1d`` and
    ``(channels, height, width)`` for ``cnn2d``.
    """
    ndim = len(input_shape) - 1
    if ndim not in _MODULES:
        raise ValueError(
            f"CNN input must be (channels, time) or (channels, h, w), got {input_shape!r}"
        )
    shapes = signal_shapes(genome, input_shape)
    if min(min(s) for s in shapes) < 1:
        raise ValueError(f"genome shrinks the signal below length 1: {genome}")
    mods = _MODULES[ndim]
    channels = input_shape[0]
    layers: list[tuple[str, nn.Module]] = []
    for i, gene in enumerate(genome.layers):
        name = f"{gene.kind}_{i}"
        if gene.kind == "conv":
            filters = int(gene["filters"])
            layers.append(
                (
                    name,
                    mods["conv"](
                        channels, filters, int(gene["kernel_size"]), stride=int(gene["stride"])
                    ),
                )
            )
            channels = filters
        elif gene.kind == "maxpool":
            layers.append((name, mods["maxpool"](int(gene["pool_size"]))))
        elif gene.kind == "batchnorm":
            layers.append((name, mods["batchnorm"](channels)))
        elif gene.kind == "elu":
            layers.append((name, nn.ELU()))
        elif gene.kind == "dropout":
            layers.append((name, nn.Dropout(float(gene["rate"]))))
        elif gene.kind != "identity":
            raise ValueError(
                f"Unknown CNN layer kind {gene.kind!r}; must be one of "
                "['batchnorm', 'conv', 'dropout', 'elu', 'identity', 'maxpool']"
            )
    head = genome.get("head", "flatten")
    if head == "avg":
        layers.append(("pool", mods["avg"](1)))
        width = channels
    elif head == "flatten":
        width = channels * math.prod(shapes[-1])
    else:
        raise ValueError(f"head must be one of ['avg', 'flatten'], got {head!r}")
    layers.append(("flatten", nn.Flatten()))
    layers.append(("output", nn.Linear(width, n_classes)))
    return layers
