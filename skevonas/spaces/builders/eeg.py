"""EEG networks: temporal, spatial and separable convolutions over ``(channels, time)`` epochs.

The input epoch becomes one feature map whose height is the electrodes
(:class:`~skevonas.spaces.builders.layers.AddMapAxis`), as in ShallowConvNet and
EEGNet. Layers then work on ``(maps, rows, time)``:

- ``temporal_conv``: a ``(1, k)`` convolution along time (``"valid"`` or
  ``"same"`` padding, optionally dilated) that mixes every feature map, so a
  second one after the first refines a filter bank (as in EEGNeX);
- ``spatial_conv``: a ``(rows, 1)`` convolution across all electrodes,
  depthwise (each map filtered on its own, ``depth_multiplier`` filters per
  map, as in EEGNet) or full (every map mixed, as in ShallowConvNet);
- ``separable_conv``: a depthwise ``(1, k)`` convolution (optionally
  dilated) then a pointwise ``1 x 1`` one (EEGNet's second block);
- ``conv``: the EEG-NAS thesis's convolution, spanning every row and
  ``k`` time steps with a stride;
- ``avgpool`` / ``maxpool`` over time with a stride; ``batchnorm``,
  ``elu``, ``square``, ``log`` (ShallowConvNet's band-power
  nonlinearity), ``dropout`` and ``identity``.

The head flattens every remaining position into the output layer.
"""

from __future__ import annotations

import math

from torch import nn

from ..genome import Genome, LayerGene
from ..shapes import kernel_dilation, signal_shapes
from .layers import AddMapAxis, SafeLog, Square

KINDS = (
    "avgpool",
    "batchnorm",
    "conv",
    "dropout",
    "elu",
    "identity",
    "log",
    "maxpool",
    "separable_conv",
    "spatial_conv",
    "square",
    "temporal_conv",
)


def _padded(conv: nn.Conv2d, gene: LayerGene) -> nn.Module:
    """``conv`` as it is (``"valid"``), or after zero padding that keeps the length (``"same"``).

    Explicit padding (one sample more on the right for even kernels) keeps
    the length for every kernel, without the copy and warning that torch's
    ``padding="same"`` has for even kernels; it splits the padding as torch
    does. A dilated kernel is padded by its span, ``(k - 1) * dilation``.
    """
    padding = str(gene.get("padding", "valid"))
    if padding == "valid":
        return conv
    if padding != "same":
        raise ValueError(f"padding must be one of ['same', 'valid'], got {padding!r} instead")
    total = (conv.kernel_size[1] - 1) * conv.dilation[1]
    return nn.Sequential(nn.ZeroPad2d((total // 2, total - total // 2, 0, 0)), conv)


def build_eeg(
    genome: Genome, input_shape: tuple[int, ...], n_classes: int
) -> list[tuple[str, nn.Module]]:
    """Named layers of the EEG network a genome describes; ``input_shape`` is ``(channels, time)``.

    Examples
    --------
    >>> from skevonas.spaces.genome import Genome, LayerGene
    >>> g = Genome("eeg", [LayerGene("temporal_conv", {"filters": 4, "kernel_size": 5,
    ...                                                 "padding": "valid"}),
    ...                    LayerGene("spatial_conv", {"depth_multiplier": 2, "depthwise": True})],
    ...            {})
    >>> [name for name, _ in build_eeg(g, (3, 20), 2)]
    ['maps', 'temporal_conv_0', 'spatial_conv_1', 'flatten', 'output']
    """
    if len(input_shape) != 2:
        raise ValueError(f"EEG input must be (channels, time), got {input_shape!r}")
    shapes = signal_shapes(genome, input_shape)
    if min(min(s) for s in shapes) < 1:
        raise ValueError(f"genome shrinks the signal below length 1: {genome}")
    maps = 1
    layers: list[tuple[str, nn.Module]] = [("maps", AddMapAxis())]
    for i, (gene, (rows, _)) in enumerate(zip(genome.layers, shapes[:-1], strict=True)):
        name = f"{gene.kind}_{i}"
        kind = gene.kind
        if kind == "temporal_conv":
            filters = int(gene["filters"])
            kernel, dilation = (1, int(gene["kernel_size"])), (1, kernel_dilation(gene))
            conv = nn.Conv2d(maps, filters, kernel, dilation=dilation)
            module: nn.Module = _padded(conv, gene)
            maps = filters
        elif kind == "spatial_conv":
            out = maps * int(gene["depth_multiplier"])
            groups = maps if bool(gene["depthwise"]) else 1
            module = nn.Conv2d(maps, out, (rows, 1), groups=groups)
            maps = out
        elif kind == "separable_conv":
            filters = int(gene["filters"])
            kernel, dilation = (1, int(gene["kernel_size"])), (1, kernel_dilation(gene))
            depthwise = nn.Conv2d(maps, maps, kernel, dilation=dilation, groups=maps)
            module = nn.Sequential(_padded(depthwise, gene), nn.Conv2d(maps, filters, 1))
            maps = filters
        elif kind == "conv":
            filters = int(gene["filters"])
            module = nn.Conv2d(
                maps, filters, (rows, int(gene["kernel_size"])), stride=(1, int(gene["stride"]))
            )
            maps = filters
        elif kind in ("avgpool", "maxpool"):
            size = int(gene["pool_size"])
            stride = int(gene.get("stride", size))
            pool = nn.AvgPool2d if kind == "avgpool" else nn.MaxPool2d
            module = pool((1, size), stride=(1, stride))
        elif kind == "batchnorm":
            module = nn.BatchNorm2d(maps)
        elif kind == "elu":
            module = nn.ELU()
        elif kind == "square":
            module = Square()
        elif kind == "log":
            module = SafeLog()
        elif kind == "dropout":
            module = nn.Dropout(float(gene["rate"]))
        elif kind == "identity":
            continue
        else:
            raise ValueError(f"Unknown EEG layer kind {kind!r}; must be one of {list(KINDS)}")
        layers.append((name, module))
    head = genome.get("head", "flatten")
    if head != "flatten":
        raise ValueError(f"head of an EEG genome must be 'flatten', got {head!r}")
    layers.append(("flatten", nn.Flatten()))
    layers.append(("output", nn.Linear(maps * math.prod(shapes[-1]), n_classes)))
    return layers
