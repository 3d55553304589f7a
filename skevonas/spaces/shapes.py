"""Shape rules: what one sample of each model family looks like, layer by layer.

Each model family reads one kind of signal, and a :class:`ShapeRule` says
how: the rank of one sample, the part of it that layers shrink (its
*spatial shape*), how each layer changes that shape, and how much room a
kernel or pool has. There is one rule per kind of signal:

==================  ========  ===================  ===============================
rule                rank      spatial shape        layers shrink
==================  ========  ===================  ===============================
:data:`FEATURES`    1         ``()``               nothing (MLP layers)
:data:`SERIES`      2         ``(time,)``          time
:data:`EEG_EPOCHS`  2         ``(rows, time)``     time; a spatial or plain
                                                   convolution collapses the
                                                   electrode rows to 1
:data:`IMAGES`      3         ``(height, width)``  every axis
==================  ========  ===================  ===============================

:data:`FAMILY_SHAPES` maps each model family to its rule, and
:data:`AUTO_FAMILIES` each rank to the family ``search_space="auto"`` picks
for it. Nothing here needs
torch: the search spaces (:mod:`skevonas.spaces.space`), which repair genomes so
that no layer shrinks the signal below length 1, and the builders read the
same rules. The family registry (:mod:`skevonas.spaces.families`) adds the
builder and default space of each family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .domains import IMPLICIT_GENES
from .genome import Genome, LayerGene

__all__ = [
    "AUTO_FAMILIES",
    "EEG_EPOCHS",
    "FAMILY_SHAPES",
    "FEATURES",
    "IMAGES",
    "SERIES",
    "SIZE_GENES",
    "ShapeRule",
    "auto_family",
    "kernel_dilation",
    "kernel_span",
    "signal_shapes",
]

Shape = tuple[int, ...]

#: The parameter that sets how much of the signal a layer consumes, by layer kind.
SIZE_GENES: Mapping[str, str] = MappingProxyType(
    {
        "conv": "kernel_size",
        "temporal_conv": "kernel_size",
        "separable_conv": "kernel_size",
        "maxpool": "pool_size",
        "avgpool": "pool_size",
    }
)
# Layers that span every electrode row of an EEG feature map and collapse it to 1.
_ROW_COLLAPSING = frozenset({"conv", "spatial_conv"})


def _conv_out(length: int, kernel: int, stride: int) -> int:
    return (length - kernel) // stride + 1


def kernel_dilation(layer: LayerGene) -> int:
    """Spacing of a layer's kernel taps: its ``dilation`` gene, or 1 if it has none.

    Examples
    --------
    >>> kernel_dilation(LayerGene("temporal_conv", {"kernel_size": 16, "dilation": 4}))
    4
    >>> kernel_dilation(LayerGene("temporal_conv", {"kernel_size": 16}))
    1
    """
    return int(layer.get("dilation", IMPLICIT_GENES["dilation"]))


def kernel_span(size: int, dilation: int) -> int:
    """Samples a kernel of ``size`` taps, ``dilation`` apart, covers: ``(size - 1) * dilation + 1``.

    Examples
    --------
    >>> kernel_span(16, 1), kernel_span(16, 4)
    (16, 61)
    """
    return (size - 1) * dilation + 1


def _size_and_stride(layer: LayerGene) -> tuple[int, int] | None:
    """Span and stride of a layer that shrinks the signal; None if it does not.

    The span is the kernel or pool size, widened by the dilation of a dilated
    convolution.
    """
    size_gene = SIZE_GENES.get(layer.kind)
    if size_gene is None or layer.get("padding", "valid") == "same":
        return None
    size = int(layer[size_gene])
    stride = int(layer.get("stride", size if layer.kind.endswith("pool") else 1))
    return kernel_span(size, kernel_dilation(layer)), stride


# -- the pieces of the rules
def _after_channels(input_shape: Shape) -> Shape:
    return input_shape[1:]


def _whole(input_shape: Shape) -> Shape:
    return input_shape


def _shrink_every_axis(layer: LayerGene, shape: Shape) -> Shape:
    size_stride = _size_and_stride(layer)
    if size_stride is None:
        return shape
    return tuple(_conv_out(n, *size_stride) for n in shape)


def _shrink_time_collapse_rows(layer: LayerGene, shape: Shape) -> Shape:
    rows, time = shape
    if layer.kind in _ROW_COLLAPSING:
        rows = 1
    size_stride = _size_and_stride(layer)
    if size_stride is not None:
        time = _conv_out(time, *size_stride)
    return (rows, time)


def _shortest_axis(shape: Shape) -> int:
    return min(shape)


def _time_axis(shape: Shape) -> int:
    return shape[-1]


@dataclass(frozen=True)
class ShapeRule:
    """How the layers of a model family change the shape of one sample.

    Parameters
    ----------
    name : str
        The kind of signal, e.g. ``"series"``.
    rank : int
        Dimensions of one sample (1 for feature vectors, 2 for ``(channels,
        time)``, 3 for ``(channels, height, width)``).
    spatial : callable
        ``spatial(input_shape)``: the part of a sample's shape that layers
        shrink (:meth:`spatial_shape` checks the rank first).
    next_shape : callable
        ``next_shape(layer, shape)``: the spatial shape after ``layer``.
    room : callable
        ``room(shape)``: the largest kernel or pool that fits a spatial shape.

    Examples
    --------
    >>> from skevonas.spaces.genome import LayerGene
    >>> rule = FAMILY_SHAPES["cnn2d"]
    >>> rule.name, rule.rank, rule.spatial_shape((3, 32, 28))
    ('images', 3, (32, 28))
    >>> rule.next_shape(LayerGene("maxpool", {"pool_size": 2}), (32, 28)), rule.room((32, 28))
    ((16, 14), 28)
    """

    name: str
    rank: int
    spatial: Callable[[Shape], Shape]
    next_shape: Callable[[LayerGene, Shape], Shape]
    room: Callable[[Shape], int]

    @property
    def has_signal_axes(self) -> bool:
        """Whether layers can shrink the signal (every rule but :data:`FEATURES`)."""
        return self.rank > 1

    def spatial_shape(self, input_shape: Sequence[int]) -> Shape:
        """The spatial shape of a sample of shape ``input_shape``.

        Raises
        ------
        ValueError
            If ``input_shape`` does not have :attr:`rank` dimensions.

        Examples
        --------
        >>> EEG_EPOCHS.spatial_shape((6, 896)), SERIES.spatial_shape((6, 896))
        ((6, 896), (896,))
        >>> IMAGES.spatial_shape((6, 896))
        Traceback (most recent call last):
            ...
        ValueError: images samples have 3 dimension(s), got shape (6, 896)
        """
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != self.rank:
            raise ValueError(
                f"{self.name} samples have {self.rank} dimension(s), got shape {shape!r}"
            )
        return self.spatial(shape)


#: Feature vectors ``(n_features,)``: no axis that a layer shrinks.
FEATURES = ShapeRule("features", 1, _after_channels, _shrink_every_axis, _shortest_axis)
#: Time series ``(channels, time)``: every kernel and pool shrinks time.
SERIES = ShapeRule("series", 2, _after_channels, _shrink_every_axis, _shortest_axis)
#: EEG epochs ``(electrodes, time)``: one feature map whose rows are the
#: electrodes; layers shrink time only, and a spatial or plain convolution
#: collapses the rows to 1.
EEG_EPOCHS = ShapeRule("eeg epochs", 2, _whole, _shrink_time_collapse_rows, _time_axis)
#: Images ``(channels, height, width)``: square kernels and pools shrink both axes.
IMAGES = ShapeRule("images", 3, _after_channels, _shrink_every_axis, _shortest_axis)

#: Model family -> the shape rule of its input.
FAMILY_SHAPES: dict[str, ShapeRule] = {
    "mlp": FEATURES,
    "cnn1d": SERIES,
    "eeg": EEG_EPOCHS,
    "cnn2d": IMAGES,
}
#: Dimensions of one sample -> the model family it is read as when nothing
#: says otherwise (``search_space="auto"``): feature vectors go to an MLP,
#: ``(channels, time)`` samples are EEG epochs, and 3-D samples are images.
AUTO_FAMILIES: dict[int, str] = {1: "mlp", 2: "eeg", 3: "cnn2d"}


def auto_family(ndim: int) -> str:
    """The model family that reads samples of ``ndim`` dimensions by default.

    :func:`skevonas.spaces.families.family_for_rank` gives the whole
    :class:`~skevonas.spaces.families.Family`.

    Raises
    ------
    ValueError
        If no family reads samples of that many dimensions by default.

    Examples
    --------
    >>> auto_family(1), auto_family(2), auto_family(3)
    ('mlp', 'eeg', 'cnn2d')
    >>> auto_family(4)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: samples must have one of [1, 2, 3] dimensions for ..., got 4 instead
    """
    try:
        return AUTO_FAMILIES[ndim]
    except (KeyError, TypeError):
        raise ValueError(
            f"samples must have one of {sorted(AUTO_FAMILIES)} dimensions for an automatic "
            f"model family, got {ndim!r} instead"
        ) from None


def signal_shapes(genome: Genome, input_shape: Sequence[int]) -> list[Shape]:
    """Spatial shape after each layer of a convolutional genome.

    ``input_shape`` is ``(channels, length)`` or ``(channels, height, width)``.
    For the ``cnn1d`` and ``cnn2d`` families the spatial shape is the length
    or the image size; for the ``eeg`` family it is ``(electrode rows,
    time)``, where spatial and plain convolutions collapse the rows to 1
    (:class:`ShapeRule`). The first entry is the input's spatial shape; a
    value below 1 means the layer before it cannot be built.

    Examples
    --------
    >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 4, "kernel_size": 5, "stride": 2}),
    ...                      LayerGene("maxpool", {"pool_size": 3})], {})
    >>> signal_shapes(g, (6, 100))
    [(100,), (48,), (16,)]
    >>> g = Genome("eeg", [LayerGene("temporal_conv", {"filters": 8, "kernel_size": 11}),
    ...                    LayerGene("spatial_conv", {"depth_multiplier": 2, "depthwise": True}),
    ...                    LayerGene("avgpool", {"pool_size": 10, "stride": 5})], {})
    >>> signal_shapes(g, (6, 100))
    [(6, 100), (6, 90), (1, 90), (1, 17)]

    A dilated kernel spans ``(kernel_size - 1) * dilation + 1`` samples:

    >>> g = Genome("eeg", [LayerGene("temporal_conv", {"filters": 8, "kernel_size": 11,
    ...                                                 "dilation": 4})], {})
    >>> signal_shapes(g, (6, 100))
    [(6, 100), (6, 60)]
    """
    if genome.family not in FAMILY_SHAPES:
        raise ValueError(
            f"Unknown model family {genome.family!r}; must be one of {sorted(FAMILY_SHAPES)}"
        )
    rule = FAMILY_SHAPES[genome.family]
    shape = rule.spatial(tuple(int(s) for s in input_shape))
    shapes = [shape]
    for layer in genome.layers:
        shape = rule.next_shape(layer, shape)
        shapes.append(shape)
    return shapes
