"""Multi-layer perceptrons: ``dense`` layers with activation and dropout.

A ``dense`` layer gene carries ``units``, ``activation`` and optionally
``dropout``. Optional global genes describe what is shared by the whole
network (all default to the behaviour without them):

- ``activation``, ``units``, ``dropout``: the value of a ``dense`` parameter
  that the layer gene itself leaves out;
- ``depth``: the network has ``depth`` hidden layers built from the global
  genes alone (its layer genes must then all be ``identity``);
- ``input_dropout``: dropout on the input features (default 0);
- ``initializer``: a Keras weight initializer for every linear layer, with
  zero biases (:func:`skevonas.spaces.presets.keras.initialize_linear`; default:
  PyTorch's own initialization).

A ``dense`` layer with ``units=0`` is absent: it builds no linear layer nor
activation, though its dropout (if any) still applies, as in the
naturalselection package whose search space has such genes.
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from ..genome import Genome, LayerGene
from ..presets.keras import initialize_linear

ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
}


def activation(name: str) -> nn.Module:
    """The activation module for ``name``."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; must be one of {sorted(ACTIVATIONS)}"
        ) from None


def _hidden_genes(genome: Genome) -> list[LayerGene]:
    """The layer genes, or ``depth`` parameterless dense genes if the genome has one."""
    depth = genome.get("depth")
    if depth is None:
        return list(genome.layers)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"global gene 'depth' must be an int >= 0, got {depth!r} instead")
    kinds = sorted({gene.kind for gene in genome.layers} - {"identity"})
    if kinds:
        raise ValueError(
            "an MLP genome with a global 'depth' gene takes its hidden layers from its "
            f"global genes; its layer genes must be 'identity', got {kinds}"
        )
    return [LayerGene("dense")] * depth


def _dense_param(genome: Genome, gene: LayerGene, i: int, name: str) -> Any:
    value = gene.get(name, genome.get(name))
    if value is None:
        raise ValueError(
            f"dense layer {i} has no {name!r} parameter and the genome no global {name!r} gene"
        )
    return value


def build_mlp(
    genome: Genome, input_shape: tuple[int, ...], n_classes: int
) -> list[tuple[str, nn.Module]]:
    """Named layers of the MLP a genome describes (input is flattened first).

    See the module docstring for the optional global genes.

    Examples
    --------
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})], {})
    >>> [name for name, _ in build_mlp(g, (4,), 3)]
    ['flatten', 'dense_0', 'act_0', 'output']

    Network-wide genes: two hidden layers of 16 tanh units with 20 % dropout:

    >>> g = Genome("mlp", [], {"depth": 2, "units": 16, "activation": "tanh", "dropout": 0.2,
    ...                        "initializer": "glorot_uniform"})
    >>> [type(m).__name__ for _, m in build_mlp(g, (4,), 3)]
    ['Flatten', 'Linear', 'Tanh', 'Dropout', 'Linear', 'Tanh', 'Dropout', 'Linear']
    """
    width = math.prod(input_shape)
    layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
    input_dropout = float(genome.get("input_dropout", 0.0))
    if input_dropout > 0:
        layers.append(("input_dropout", nn.Dropout(input_dropout)))
    for i, gene in enumerate(_hidden_genes(genome)):
        if gene.kind == "identity":
            continue
        if gene.kind != "dense":
            raise ValueError(f"Unknown MLP layer kind {gene.kind!r}; must be 'dense'")
        units = int(_dense_param(genome, gene, i, "units"))
        if units > 0:  # a width of 0: no layer (its dropout still applies)
            layers.append((f"dense_{i}", nn.Linear(width, units)))
            layers.append(
                (f"act_{i}", activation(str(_dense_param(genome, gene, i, "activation"))))
            )
            width = units
        dropout = float(gene.get("dropout", genome.get("dropout", 0.0)))
        if dropout > 0:
            layers.append((f"dropout_{i}", nn.Dropout(dropout)))
    layers.append(("output", nn.Linear(width, n_classes)))
    initializer = genome.get("initializer")
    if initializer is not None:
        for _, module in layers:
            if isinstance(module, nn.Linear):
                initialize_linear(module, str(initializer))
    return layers
