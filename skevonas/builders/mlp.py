"""Multi-layer perceptrons: ``dense`` layers with activation and dropout."""

from __future__ import annotations

import math

from torch import nn

from ..genome import Genome

ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
}


def activation(name: str) -> nn.Module:
    """The activation module for ``name``."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; must be one of {sorted(ACTIVATIONS)}"
        ) from None


def build_mlp(
    genome: Genome, input_shape: tuple[int, ...], n_classes: int
) -> list[tuple[str, nn.Module]]:
    """Named layers of the MLP a genome describes (input is flattened first)."""
    width = math.prod(input_shape)
    layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
    for i, gene in enumerate(genome.layers):
        if gene.kind == "identity":
            continue
        if gene.kind != "dense":
            raise ValueError(f"Unknown MLP layer kind {gene.kind!r}; must be 'dense'")
        units = int(gene["units"])
        layers.append((f"dense_{i}", nn.Linear(width, units)))
        layers.append((f"act_{i}", activation(str(gene["activation"]))))
        if float(gene.get("dropout", 0.0)) > 0:
            layers.append((f"dropout_{i}", nn.Dropout(float(gene["dropout"]))))
        width = units
    layers.append(("output", nn.Linear(width, n_classes)))
    return layers
