"""Search spaces: which genomes exist, how to draw one, and how to mend one.

A search space is declarative. It names the layer kinds it allows, the domain
of every parameter, the global (training) genes, and the depth range. It holds
no random state: :meth:`~skevonas.SearchSpace.sample` takes a
:class:`numpy.random.Generator`. Spaces for convolutional families know the
input shape (bound with :meth:`~skevonas.SearchSpace.bind` at fit time) so that
:meth:`~skevonas.SearchSpace.repair` can guarantee that no layer shrinks the
signal below length 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .genome import GeneValue, Genome, LayerGene

__all__ = [
    "Choice",
    "Float",
    "Int",
    "LayerSpec",
    "SearchSpace",
    "SPACES",
    "cnn_space",
    "get_space",
    "mlp_space",
]


# --------------------------------------------------------------------------- domains
@dataclass(frozen=True)
class Int:
    """Integers in ``[low, high]``, optionally sampled on a log scale.

    Examples
    --------
    >>> import numpy as np
    >>> d = Int(1, 5)
    >>> d.contains(3), d.contains(6), d.clip(9)
    (True, False, 5)
    >>> d.step(3, np.random.default_rng(0)) != 3
    True
    """

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if self.low > self.high or (self.log and self.low < 1):
            raise ValueError(f"invalid Int domain [{self.low}, {self.high}], log={self.log}")

    def sample(self, rng: np.random.Generator) -> int:
        """Draw a value, uniformly or (``log=True``) log-uniformly.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> values = [Int(2, 32, log=True).sample(rng) for _ in range(200)]
        >>> min(values) >= 2 and max(values) <= 32
        True
        """
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return self.clip(int(value))
        return int(rng.integers(self.low, self.high + 1))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is an integer (not a bool) inside the domain.

        Examples
        --------
        >>> d = Int(1, 5)
        >>> d.contains(5), d.contains(5.0), d.contains(True)
        (True, False, False)
        """
        return (
            isinstance(value, (int, np.integer))
            and not isinstance(value, bool)
            and bool(self.low <= value <= self.high)
        )

    def clip(self, value: Any) -> int:
        """``value`` rounded to the nearest integer inside the domain.

        Examples
        --------
        >>> Int(1, 5).clip(3.6), Int(1, 5).clip(-2)
        (4, 1)
        """
        return int(min(max(int(round(value)), self.low), self.high))

    def step(self, value: Any, rng: np.random.Generator) -> int:
        """A small move away from ``value`` (unchanged only if the domain has one value).

        On a linear scale the move is up to 15 % of the range (at least 1); on a
        log scale ``value`` is multiplied or divided by a factor of 1.25 to 2. A
        move that stays put at a bound goes one the other way.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> sorted({Int(1, 10).step(5, rng) for _ in range(50)})
        [4, 6]
        >>> Int(1, 10).step(10, rng) < 10
        True
        """
        if self.low == self.high:
            return self.low
        if self.log:
            factor = math.exp(rng.uniform(math.log(1.25), math.log(2.0)))
            new = value * factor if rng.random() < 0.5 else value / factor
            new = self.clip(new)
        else:
            span = max(1, round(0.15 * (self.high - self.low)))
            new = self.clip(value + int(rng.choice([-1, 1])) * int(rng.integers(1, span + 1)))
        if new == value:  # hit a bound: move the other way
            new = value + 1 if value < self.high else value - 1
        return new


@dataclass(frozen=True)
class Float:
    """Floats in ``[low, high]``, optionally sampled on a log scale.

    Examples
    --------
    >>> Float(1e-4, 1e-1, log=True).contains(1e-3)
    True
    """

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if self.low > self.high or (self.log and self.low <= 0):
            raise ValueError(f"invalid Float domain [{self.low}, {self.high}], log={self.log}")

    def sample(self, rng: np.random.Generator) -> float:
        """Draw a value, uniformly or (``log=True``) log-uniformly.

        Examples
        --------
        >>> import numpy as np
        >>> value = Float(1e-4, 1e-1, log=True).sample(np.random.default_rng(0))
        >>> 1e-4 <= value <= 1e-1
        True
        """
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number (not a bool) inside the domain.

        Examples
        --------
        >>> d = Float(0.0, 0.5)
        >>> d.contains(0.5), d.contains(0), d.contains(0.7), d.contains(False)
        (True, True, False, False)
        """
        return (
            isinstance(value, (float, int, np.floating))
            and not isinstance(value, bool)
            and bool(self.low <= value <= self.high)
        )

    def clip(self, value: Any) -> float:
        """``value`` as a float, clipped into the domain.

        Examples
        --------
        >>> Float(0.0, 0.5).clip(0.7), Float(0.0, 0.5).clip(-1)
        (0.5, 0.0)
        """
        return float(min(max(float(value), self.low), self.high))

    def step(self, value: Any, rng: np.random.Generator) -> float:
        """A small move away from ``value``, rounded to 6 significant digits.

        On a linear scale the move is normal with a standard deviation of 15 % of
        the range; on a log scale ``value`` is multiplied or divided by a factor of
        1.2 to 3. The result is clipped into the domain; a move that stays put at a
        bound goes inwards by a tenth of the range.

        Examples
        --------
        >>> import numpy as np
        >>> d = Float(1e-4, 5e-3, log=True)
        >>> new = d.step(1e-3, np.random.default_rng(0))
        >>> new != 1e-3 and d.contains(new)
        True
        """
        if self.low == self.high:
            return float(self.low)
        if self.log:
            factor = math.exp(rng.uniform(math.log(1.2), math.log(3.0)))
            new = self.clip(value * factor if rng.random() < 0.5 else value / factor)
        else:
            new = self.clip(value + rng.normal(0.0, 0.15 * (self.high - self.low)))
        new = float(f"{new:.6g}")
        if new == value:  # stuck at a bound: move inwards by a tenth of the range
            inward = -1.0 if value >= self.high else 1.0
            new = float(f"{self.clip(value + inward * 0.1 * (self.high - self.low)):.6g}")
        return new


@dataclass(frozen=True)
class Choice:
    """One of a fixed tuple of options.

    Examples
    --------
    >>> Choice(("relu", "elu")).contains("elu")
    True
    """

    options: tuple[GeneValue, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if not self.options:
            raise ValueError("Choice needs at least one option")

    def sample(self, rng: np.random.Generator) -> GeneValue:
        """Draw one of the options, each as likely.

        Examples
        --------
        >>> import numpy as np
        >>> Choice((16, 32, 64)).sample(np.random.default_rng(0)) in (16, 32, 64)
        True
        """
        return _py(self.options[int(rng.integers(len(self.options)))])

    def contains(self, value: Any) -> bool:
        # bool is an int in Python: never let True stand for 1 or the reverse.
        """Whether ``value`` is one of the options (``True`` never stands for ``1``).

        Examples
        --------
        >>> Choice((0, 1)).contains(1), Choice((0, 1)).contains(True)
        (True, False)
        """
        return any(
            value == o and isinstance(value, bool) == isinstance(o, bool) for o in self.options
        )

    def clip(self, value: Any) -> GeneValue:
        """``value`` if it is an option; else the nearest numeric option, or the first one.

        Examples
        --------
        >>> Choice((16, 32, 64)).clip(40), Choice(("relu", "elu")).clip("tanh")
        (32, 'relu')
        """
        if self.contains(value):
            return value
        if all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in self.options):
            try:
                return _py(min(self.options, key=lambda o: abs(float(o) - float(value))))
            except (TypeError, ValueError):
                pass
        return _py(self.options[0])

    def step(self, value: GeneValue, rng: np.random.Generator) -> GeneValue:
        """A different option; for ordered numeric options, a neighbour.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> sorted({Choice((16, 32, 64, 128)).step(32, rng) for _ in range(20)})
        [16, 64]
        >>> Choice(("relu", "elu", "tanh")).step("relu", rng) in ("elu", "tanh")
        True
        """
        others = [o for o in self.options if o != value]
        if not others:
            return value
        numeric = all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in self.options)
        if numeric and value in self.options:
            ordered = sorted(self.options)
            i = ordered.index(value)
            neighbours = [ordered[j] for j in (i - 1, i + 1) if 0 <= j < len(ordered)]
            return _py(neighbours[int(rng.integers(len(neighbours)))])
        return _py(others[int(rng.integers(len(others)))])


Domain = Int | Float | Choice


def _py(value: Any) -> GeneValue:
    """numpy scalars -> plain Python, so genomes stay JSON-friendly."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- layers
# Domains as given to a constructor: a mapping, or (name, domain) pairs.
DomainsLike = Mapping[str, Domain] | Iterable[tuple[str, Domain]]


def _sorted_pairs(items: DomainsLike) -> tuple[tuple[str, Domain], ...]:
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple(sorted(pairs, key=lambda kv: kv[0]))


@dataclass(frozen=True)
class LayerSpec:
    """A layer kind the space allows, with the domain of each parameter.

    Parameters
    ----------
    kind : str
        Layer kind, as understood by the builders.
    params : mapping of str to domain
        ``Int``, ``Float`` or ``Choice`` per parameter.
    weight : float, default=1.0
        Relative probability of drawing this kind when a layer is sampled.

    Examples
    --------
    >>> import numpy as np
    >>> spec = LayerSpec("dropout", {"rate": Float(0.0, 0.5)}, weight=2.0)
    >>> gene = spec.sample(np.random.default_rng(0))
    >>> gene.kind, spec.contains(gene)
    ('dropout', True)
    """

    kind: str
    params: tuple[tuple[str, Domain], ...] = ()
    weight: float = 1.0

    # An explicit __init__ (the dataclass keeps it): a mapping is accepted and
    # stored as sorted pairs.
    def __init__(self, kind: str, params: DomainsLike = (), weight: float = 1.0) -> None:
        if weight < 0:
            raise ValueError(f"weight of layer {kind!r} must be >= 0, got {weight!r}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "params", _sorted_pairs(params))
        object.__setattr__(self, "weight", weight)

    @property
    def domains(self) -> dict[str, Domain]:
        """The parameter domains, by parameter name."""
        return dict(self.params)

    def sample(self, rng: np.random.Generator) -> LayerGene:
        """Draw a gene of this kind, every parameter from its domain.

        Examples
        --------
        >>> import numpy as np
        >>> spec = LayerSpec("conv", {"filters": Choice((8, 16)), "kernel_size": Int(2, 9),
        ...                           "stride": Int(1, 3)})
        >>> gene = spec.sample(np.random.default_rng(0))
        >>> gene.kind, [name for name, _ in gene.params]
        ('conv', ['filters', 'kernel_size', 'stride'])
        """
        return LayerGene(self.kind, {name: d.sample(rng) for name, d in self.params})

    def contains(self, gene: LayerGene) -> bool:
        """Whether ``gene`` has this kind and exactly these parameters, each in its domain.

        Examples
        --------
        >>> from skevonas import LayerGene
        >>> spec = LayerSpec("dropout", {"rate": Float(0.0, 0.5)})
        >>> spec.contains(LayerGene("dropout", {"rate": 0.2}))
        True
        >>> spec.contains(LayerGene("dropout", {"rate": 0.9}))
        False
        """
        domains = self.domains
        values = dict(gene.params)
        return (
            gene.kind == self.kind
            and set(values) == set(domains)
            and all(domains[name].contains(value) for name, value in values.items())
        )

    def clip(self, gene: LayerGene) -> LayerGene:
        """The gene with every parameter clipped into its domain.

        Missing parameters get the middle of their domain (the first option of a
        ``Choice``); parameters the spec does not know are dropped.

        Examples
        --------
        >>> from skevonas import LayerGene
        >>> spec = LayerSpec("dropout", {"rate": Float(0.0, 0.5)})
        >>> spec.clip(LayerGene("dropout", {"rate": 0.9}))
        dropout(rate=0.5)
        >>> spec.clip(LayerGene("dropout"))
        dropout(rate=0.25)
        """
        values = dict(gene.params)
        return LayerGene(
            self.kind,
            {
                name: domain.clip(values[name])
                if name in values
                else domain.clip(_midpoint(domain))
                for name, domain in self.params
            },
        )


def _midpoint(domain: Domain) -> GeneValue:
    if isinstance(domain, Choice):
        return domain.options[0]
    if domain.log:
        return math.sqrt(domain.low * domain.high)
    return (domain.low + domain.high) / 2


# --------------------------------------------------------------------------- shapes
def _conv_out(length: int, kernel: int, stride: int) -> int:
    return (length - kernel) // stride + 1


# The parameter that sets how much of the signal a layer consumes, by kind.
SIZE_GENES = {
    "conv": "kernel_size",
    "temporal_conv": "kernel_size",
    "separable_conv": "kernel_size",
    "maxpool": "pool_size",
    "avgpool": "pool_size",
}
# Layers that span every electrode row of an EEG feature map and collapse it to 1.
_ROW_COLLAPSING = frozenset({"conv", "spatial_conv"})


def _next_shape(family: str, layer: LayerGene, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Spatial shape after ``layer`` for a signal of spatial shape ``shape``."""
    if family == "eeg" and layer.kind in _ROW_COLLAPSING:  # shape is (electrode rows, time)
        shape = (1, shape[1])
    size_gene = SIZE_GENES.get(layer.kind)
    if size_gene is None or layer.get("padding", "valid") == "same":
        return shape
    size = int(layer[size_gene])
    stride = int(layer.get("stride", size if layer.kind.endswith("pool") else 1))
    if family == "eeg":  # EEG layers shrink time only
        return (shape[0], _conv_out(shape[1], size, stride))
    return tuple(_conv_out(n, size, stride) for n in shape)


def signal_shapes(genome: Genome, input_shape: Sequence[int]) -> list[tuple[int, ...]]:
    """Spatial shape after each layer of a convolutional genome.

    ``input_shape`` is ``(channels, length)`` or ``(channels, height, width)``.
    For the ``cnn1d`` and ``cnn2d`` families the spatial shape is the length
    or the image size; for the ``eeg`` family it is ``(electrode rows,
    time)``, where spatial and plain convolutions collapse the rows to 1.
    The first entry is the input's spatial shape; a value below 1 means the
    layer before it cannot be built.

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
    """
    # an EEG network's spatial shape keeps the electrodes as its rows
    spatial = input_shape if genome.family == "eeg" else input_shape[1:]
    shape = tuple(int(s) for s in spatial)
    shapes = [shape]
    for layer in genome.layers:
        shape = _next_shape(genome.family, layer, shape)
        shapes.append(shape)
    return shapes


# --------------------------------------------------------------------------- space
# Dimensions of one sample each builder family takes.
FAMILY_NDIM = {"mlp": 1, "cnn1d": 2, "eeg": 2, "cnn2d": 3}


@dataclass(frozen=True)
class SearchSpace:
    """The set of genomes a search may visit.

    Parameters
    ----------
    family : {"mlp", "cnn1d", "eeg", "cnn2d"}
        Builder family of every genome in the space.
    layers : sequence of LayerSpec
        Vocabulary of layer kinds.
    globals : mapping of str to domain
        Network-wide and training genes.
    min_layers, max_layers : int
        Depth range (identity layers count).
    init_max_layers : int or None, default=None
        Deepest genome drawn by :meth:`sample` (mutation may grow deeper, up
        to ``max_layers``). ``None`` means ``max_layers``.
    input_shape : tuple of int or None
        Shape of one sample, set by :meth:`bind` at fit time.
    name : str
        Label shown in logs.

    Examples
    --------
    >>> import numpy as np
    >>> space = mlp_space().bind((20,))
    >>> genome = space.sample(np.random.default_rng(0))
    >>> space.contains(genome)
    True
    """

    family: str
    layers: tuple[LayerSpec, ...]
    globals: tuple[tuple[str, Domain], ...]
    min_layers: int = 1
    max_layers: int = 6
    init_max_layers: int | None = None
    input_shape: tuple[int, ...] | None = None
    name: str = "custom"
    _kinds: dict[str, LayerSpec] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # An explicit __init__ (the dataclass keeps it; dataclasses.replace calls
    # it with every field): sequences and mappings are stored as tuples.
    def __init__(
        self,
        family: str,
        layers: Iterable[LayerSpec],
        globals: DomainsLike,
        min_layers: int = 1,
        max_layers: int = 6,
        init_max_layers: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str = "custom",
    ) -> None:
        for attribute, value in (
            ("family", family),
            ("layers", tuple(layers)),
            ("globals", _sorted_pairs(globals)),
            ("min_layers", min_layers),
            ("max_layers", max_layers),
            ("init_max_layers", init_max_layers),
            ("input_shape", input_shape),
            ("name", name),
        ):
            object.__setattr__(self, attribute, value)
        object.__setattr__(self, "_kinds", {spec.kind: spec for spec in self.layers})
        self._check()

    def _check(self) -> None:
        problems = []
        if self.family not in FAMILY_NDIM:
            problems.append(f"family must be one of {sorted(FAMILY_NDIM)}, got {self.family!r}")
        if not self.layers:
            problems.append("a search space needs at least one layer kind")
        if len(self._kinds) != len(self.layers):
            problems.append("layer kinds must be unique")
        if not 0 <= self.min_layers <= self.max_layers:
            problems.append(
                f"need 0 <= min_layers <= max_layers, got {self.min_layers!r}, {self.max_layers!r}"
            )
        if sum(spec.weight for spec in self.layers) <= 0:
            problems.append("at least one layer kind needs a positive weight")
        if problems:
            raise ValueError("invalid search space: " + "; ".join(problems))

    # -- binding ----------------------------------------------------------------
    @property
    def is_convolutional(self) -> bool:
        """Whether the family is a CNN one (``"cnn1d"``, ``"cnn2d"`` or ``"eeg"``)."""
        return self.family != "mlp"

    @property
    def input_ndim(self) -> int:
        """Dimensions of one sample this family expects (1, 2 or 3)."""
        return FAMILY_NDIM[self.family]

    def bind(self, input_shape: Sequence[int]) -> SearchSpace:
        """Return a copy of the space that knows the shape of one sample.

        Raises
        ------
        ValueError
            If the shape has the wrong number of dimensions for the family.

        Examples
        --------
        >>> cnn_space().bind((6, 896)).input_shape
        (6, 896)
        >>> cnn_space().bind((64,))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: search space 'cnn1d' (cnn1d) expects samples with 2 dimension(s), got ...
        """
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != self.input_ndim:
            raise ValueError(
                f"search space {self.name!r} ({self.family}) expects samples with "
                f"{self.input_ndim} dimension(s), got shape {shape!r}"
            )
        return replace(self, input_shape=shape)

    # -- the three verbs ----------------------------------------------------------
    def layer_spec(self, kind: str) -> LayerSpec:
        """The :class:`~skevonas.space.LayerSpec` of layer kind ``kind``.

        Raises
        ------
        ValueError
            If the space has no such layer kind.

        Examples
        --------
        >>> mlp_space().layer_spec("dense").weight
        1.0
        >>> mlp_space().layer_spec("conv")
        Traceback (most recent call last):
            ...
        ValueError: layer kind must be one of ['dense'], got 'conv'
        """
        try:
            return self._kinds[kind]
        except KeyError:
            raise ValueError(
                f"layer kind must be one of {sorted(self._kinds)}, got {kind!r}"
            ) from None

    def sample_layer(self, rng: np.random.Generator, exclude: str | None = None) -> LayerGene:
        """Draw one layer gene, each kind as likely as its weight says.

        A kind is drawn with probability proportional to the ``weight`` of its
        :class:`~skevonas.space.LayerSpec`. ``exclude`` names a kind not to draw
        (mutation uses it to replace a layer by one of another kind).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> space = cnn_space()
        >>> "conv" in {space.sample_layer(rng, exclude="conv").kind for _ in range(100)}
        False
        """
        specs = [s for s in self.layers if s.kind != exclude and s.weight > 0] or list(self.layers)
        weights = np.array([s.weight for s in specs], dtype=float)
        spec = specs[int(rng.choice(len(specs), p=weights / weights.sum()))]
        return spec.sample(rng)

    def sample_globals(self, rng: np.random.Generator) -> dict[str, GeneValue]:
        """Draw every global gene from its domain.

        Examples
        --------
        >>> import numpy as np
        >>> sorted(mlp_space().sample_globals(np.random.default_rng(0)))
        ['batch_size', 'lr', 'optimizer']
        """
        return {name: domain.sample(rng) for name, domain in self.globals}

    def sample(self, rng: np.random.Generator) -> Genome:
        """Draw a random genome inside the space (repaired if needed).

        Its depth is drawn uniformly from ``min_layers`` (at least 1) to
        ``init_max_layers`` (or ``max_layers``), each layer with
        :meth:`sample_layer` and the global genes with :meth:`sample_globals`.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> space = cnn_space().bind((6, 896))
        >>> genomes = [space.sample(rng) for _ in range(20)]
        >>> all(space.contains(g) for g in genomes), max(len(g.layers) for g in genomes) <= 6
        (True, True)
        """
        top = (
            self.max_layers
            if self.init_max_layers is None
            else min(self.init_max_layers, self.max_layers)
        )
        depth = int(rng.integers(max(self.min_layers, 1 if top else 0), max(top, 1) + 1))
        depth = min(depth, self.max_layers)
        layers = [self.sample_layer(rng) for _ in range(depth)]
        return self.repair(Genome(self.family, layers, self.sample_globals(rng)))

    def contains(self, genome: Genome) -> bool:
        """Whether ``genome`` lies in the space (and fits the bound input shape).

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> space = cnn_space().bind((6, 20))  # 20 time samples
        >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 8, "kernel_size": 25, "stride": 1})],
        ...            {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "head": "flatten"})
        >>> space.contains(g)  # a kernel longer than the signal
        False
        >>> space.contains(space.repair(g))
        True
        """
        if not isinstance(genome, Genome) or genome.family != self.family:
            return False
        if not self.min_layers <= len(genome.layers) <= self.max_layers:
            return False
        for layer in genome.layers:
            spec = self._kinds.get(layer.kind)
            if spec is None or not spec.contains(layer):
                return False
        domains = dict(self.globals)
        values = dict(genome.globals)
        if set(values) != set(domains) or not all(
            domains[k].contains(v) for k, v in values.items()
        ):
            return False
        if any(
            layer.kind.endswith("pool") and int(layer.get("stride", 0)) > int(layer["pool_size"])
            for layer in genome.layers
        ):
            return False
        if self.is_convolutional and self.input_shape is not None:
            return all(min(shape) >= 1 for shape in signal_shapes(genome, self.input_shape))
        return True

    def repair(self, genome: Genome) -> Genome:
        """Return the nearest genome inside the space.

        Values are clipped into their domains, missing genes get a default,
        unknown layer kinds and layers beyond ``max_layers`` are dropped, and
        for convolutional families every kernel or pool larger than the signal
        that reaches it is shrunk to fit (or the layer is dropped if even the
        smallest value does not fit). Deterministic: needs no RNG.

        Examples
        --------
        >>> from skevonas import Genome, LayerGene
        >>> space = cnn_space().bind((6, 20))  # 20 time samples
        >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 8, "kernel_size": 25, "stride": 1}),
        ...                      LayerGene("dense", {"units": 8})], {"lr": 1.0})
        >>> repaired = space.repair(g)
        >>> repaired.layers  # the kernel shrunk to the signal; the MLP layer dropped
        (conv(filters=8, kernel_size=20, stride=1),)
        >>> dict(repaired.globals)  # lr clipped into its domain; missing genes filled in
        {'batch_size': 16, 'head': 'flatten', 'lr': 0.005, 'optimizer': 'adam'}
        """
        if genome.family != self.family:
            raise ValueError(
                f"genome family {genome.family!r} does not match search space "
                f"family {self.family!r}"
            )
        layers = [self._kinds[g.kind].clip(g) for g in genome.layers if g.kind in self._kinds]
        layers = layers[: self.max_layers]
        if self.is_convolutional and self.input_shape is not None:
            layers = self._fit_signal(layers)
        while len(layers) < self.min_layers:
            layers.append(self._default_layer())
        values = dict(genome.globals)
        globals_ = {
            name: domain.clip(values[name]) if name in values else domain.clip(_midpoint(domain))
            for name, domain in self.globals
        }
        repaired = Genome(self.family, layers, globals_)
        return repaired

    # -- helpers ------------------------------------------------------------------
    def _default_layer(self) -> LayerGene:
        # The most harmless layer the space offers: identity if present, else
        # the first kind with every parameter at its smallest value.
        if "identity" in self._kinds:
            return LayerGene("identity", {})
        spec = self.layers[0]
        return spec.clip(LayerGene(spec.kind, {n: _low(d) for n, d in spec.params}))

    def _fit_signal(self, layers: list[LayerGene]) -> list[LayerGene]:
        if self.input_shape is None:
            raise ValueError(f"search space {self.name!r} is not bound to an input shape")
        shape = signal_shapes(Genome(self.family, []), self.input_shape)[0]
        kept = []
        for layer in layers:
            size_key = SIZE_GENES.get(layer.kind)
            if size_key is not None and layer.get("padding", "valid") != "same":
                # EEG networks shrink time only; image and 1-D CNNs every axis.
                room = shape[-1] if self.family == "eeg" else min(shape)
                domains = self._kinds[layer.kind].domains
                size = int(layer[size_key])
                if size > room:
                    if int(_low(domains[size_key])) > room:
                        continue  # cannot fit: drop the layer
                    layer = layer.replace(**{size_key: domains[size_key].clip(room)})
                    if int(layer[size_key]) > room:
                        continue
                if "stride" in domains and layer.kind.endswith("pool"):
                    # a pool never skips samples: stride <= pool size
                    stride = min(int(layer["stride"]), int(layer[size_key]))
                    layer = layer.replace(stride=domains["stride"].clip(stride))
            shape = _next_shape(self.family, layer, shape)
            kept.append(layer)
        return kept


def _low(domain: Domain) -> GeneValue:
    if isinstance(domain, Choice):
        numeric = [o for o in domain.options if isinstance(o, (int, float))]
        return min(numeric) if numeric else domain.options[0]
    return domain.low


# --------------------------------------------------------------------------- presets
_TRAINING: dict[str, Domain] = {
    "optimizer": Choice(("adam", "adamw", "sgd", "rmsprop")),
    "lr": Float(1e-4, 5e-3, log=True),
    "batch_size": Choice((16, 32, 64, 128)),
}


def mlp_space(max_layers: int = 4) -> SearchSpace:
    """Multi-layer perceptrons for ``(n_samples, n_features)`` input.

    Each hidden layer has its own width, activation and dropout; depth ranges
    from 1 to ``max_layers``. Training genes: optimizer, learning rate and
    batch size.

    Examples
    --------
    >>> space = mlp_space(max_layers=3)
    >>> space.family, space.max_layers, [s.kind for s in space.layers]
    ('mlp', 3, ['dense'])
    """
    dense_params: dict[str, Domain] = {
        "units": Choice((16, 32, 64, 128, 256, 512)),
        "activation": Choice(("relu", "elu", "tanh", "leaky_relu")),
        "dropout": Float(0.0, 0.5),
    }
    dense = LayerSpec("dense", dense_params)
    return SearchSpace(
        "mlp", [dense], dict(_TRAINING), min_layers=1, max_layers=max_layers, name="mlp"
    )


def cnn_space(ndim: int = 1, max_layers: int = 10) -> SearchSpace:
    """Convolutional networks built from the EEG-NAS thesis's layer list.

    Layers: ``conv`` (filters, kernel size, stride), ``maxpool`` (pool size,
    stride equal to the pool size), ``batchnorm``, ``elu``, ``dropout``
    (rate) and ``identity``. For ``ndim=1`` the input is
    ``(channels, time)``; for ``ndim=2`` it is ``(channels, height, width)``
    and kernels and pools are square. Global genes: the classifier head
    (``"flatten"``; for images also global ``"avg"`` pooling) plus
    optimizer, learning rate and batch size.

    Examples
    --------
    >>> sorted(s.kind for s in cnn_space().layers)
    ['batchnorm', 'conv', 'dropout', 'elu', 'identity', 'maxpool']
    """
    if ndim not in (1, 2):
        raise ValueError(f"ndim must be one of [1, 2], got {ndim!r}")
    kernel = Int(2, 32) if ndim == 1 else Int(2, 7)
    pool = Int(2, 8) if ndim == 1 else Int(2, 4)
    conv_params: dict[str, Domain] = {
        "filters": Choice((8, 16, 32, 64)),
        "kernel_size": kernel,
        "stride": Int(1, 3),
    }
    layers = [
        LayerSpec("conv", conv_params, weight=3.0),
        LayerSpec("maxpool", {"pool_size": pool}, weight=2.0),
        LayerSpec("batchnorm", weight=1.5),
        LayerSpec("elu", weight=2.0),
        LayerSpec("dropout", {"rate": Float(0.0, 0.6)}, weight=1.0),
        LayerSpec("identity", weight=0.5),
    ]
    # Time series: a flatten head, as ShallowConvNet and EEGNet classify from
    # every remaining time step; on SCP1 every global-average variant we tried
    # was 0.07-0.14 less accurate than its flatten twin (docs/design.md).
    # Images: flatten or global average pooling.
    heads = ("flatten",) if ndim == 1 else ("flatten", "avg")
    globals_: dict[str, Domain] = {**_TRAINING, "head": Choice(heads)}
    return SearchSpace(
        f"cnn{ndim}d",
        layers,
        globals_,
        min_layers=1,
        max_layers=max_layers,
        init_max_layers=min(6, max_layers),
        name=f"cnn{ndim}d",
    )


def _eeg_space() -> SearchSpace:
    from .eeg import eeg_space  # skevonas.eeg builds on this module

    return eeg_space()


def _keras_mlp_space() -> SearchSpace:
    from .presets import keras_mlp_space

    return keras_mlp_space()


def _naturalselection_space() -> SearchSpace:
    from .presets import naturalselection_space

    return naturalselection_space()


SPACES = {
    "mlp": mlp_space,
    "eeg": _eeg_space,
    "cnn1d": lambda: cnn_space(1),
    "cnn2d": lambda: cnn_space(2),
    # the seed systems' spaces (skevonas.presets; the EEG thesis's is "cnn1d")
    "keras_mlp": _keras_mlp_space,
    "naturalselection": _naturalselection_space,
}
_AUTO = {1: "mlp", 2: "eeg", 3: "cnn2d"}


def get_space(name: str | SearchSpace, sample_shape: Sequence[int]) -> SearchSpace:
    """Resolve a search-space setting and bind it to the shape of one sample.

    ``"auto"`` picks the family from the number of dimensions of one sample:
    1 -> ``"mlp"``, 2 -> ``"eeg"`` (:func:`skevonas.eeg.eeg_space`), 3 ->
    ``"cnn2d"``.

    Examples
    --------
    >>> get_space("auto", (6, 896)).name
    'eeg'
    """
    if isinstance(name, SearchSpace):
        return name.bind(sample_shape)
    if name == "auto":
        name = _AUTO[len(sample_shape)]
    if name not in SPACES:
        raise ValueError(
            f"search_space must be one of {['auto', *SPACES]} or a SearchSpace, got {name!r}"
        )
    return SPACES[name]().bind(sample_shape)
