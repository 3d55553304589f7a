"""Search spaces: which genomes exist, how to draw one, and how to mend one.

A search space is declarative. It names the layer kinds it allows, the domain
of every parameter, the global (training) genes, and the depth range. It holds
no random state: :meth:`SearchSpace.sample` takes a
:class:`numpy.random.Generator`. Spaces for convolutional families know the
input shape (bound with :meth:`SearchSpace.bind` at fit time) so that
:meth:`SearchSpace.repair` can guarantee that no layer shrinks the signal
below length 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return self.clip(int(value))
        return int(rng.integers(self.low, self.high + 1))

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, (int, np.integer))
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    def clip(self, value: Any) -> int:
        return int(min(max(int(round(value)), self.low), self.high))

    def step(self, value: int, rng: np.random.Generator) -> int:
        """A small move away from ``value`` (unchanged only if the domain has one value)."""
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
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, (float, int, np.floating))
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    def clip(self, value: Any) -> float:
        return float(min(max(float(value), self.low), self.high))

    def step(self, value: float, rng: np.random.Generator) -> float:
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
        return _py(self.options[int(rng.integers(len(self.options)))])

    def contains(self, value: Any) -> bool:
        # bool is an int in Python: never let True stand for 1 or the reverse.
        return any(
            value == o and isinstance(value, bool) == isinstance(o, bool) for o in self.options
        )

    def clip(self, value: Any) -> GeneValue:
        if self.contains(value):
            return value
        if all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in self.options):
            try:
                return _py(min(self.options, key=lambda o: abs(float(o) - float(value))))
            except (TypeError, ValueError):
                pass
        return _py(self.options[0])

    def step(self, value: GeneValue, rng: np.random.Generator) -> GeneValue:
        """A different option; for ordered numeric options, a neighbour."""
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
    """

    kind: str
    params: tuple[tuple[str, Domain], ...] = ()
    weight: float = 1.0

    def __post_init__(self) -> None:
        items = self.params.items() if isinstance(self.params, Mapping) else self.params
        object.__setattr__(self, "params", tuple(sorted(items, key=lambda kv: kv[0])))
        if self.weight < 0:
            raise ValueError(f"weight of layer {self.kind!r} must be >= 0, got {self.weight!r}")

    @property
    def domains(self) -> dict[str, Domain]:
        return dict(self.params)

    def sample(self, rng: np.random.Generator) -> LayerGene:
        return LayerGene(self.kind, {name: d.sample(rng) for name, d in self.params})

    def contains(self, gene: LayerGene) -> bool:
        domains = self.domains
        values = dict(gene.params)
        return (
            gene.kind == self.kind
            and set(values) == set(domains)
            and all(domains[name].contains(value) for name, value in values.items())
        )

    def clip(self, gene: LayerGene) -> LayerGene:
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


def signal_shapes(genome: Genome, input_shape: Sequence[int]) -> list[tuple[int, ...]]:
    """Spatial shape after each layer of a convolutional genome.

    ``input_shape`` is ``(channels, length)`` or ``(channels, height, width)``.
    The first entry is the input's spatial shape; a value below 1 means the
    layer before it cannot be built.

    Examples
    --------
    >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 4, "kernel_size": 5, "stride": 2}),
    ...                      LayerGene("maxpool", {"pool_size": 3})], {})
    >>> signal_shapes(g, (6, 100))
    [(100,), (48,), (16,)]
    """
    shape = tuple(int(s) for s in input_shape[1:])
    shapes = [shape]
    for layer in genome.layers:
        if layer.kind == "conv":
            k, s = int(layer["kernel_size"]), int(layer["stride"])
            shape = tuple(_conv_out(n, k, s) for n in shape)
        elif layer.kind == "maxpool":
            p = int(layer["pool_size"])
            shape = tuple(_conv_out(n, p, p) for n in shape)
        shapes.append(shape)
    return shapes


# --------------------------------------------------------------------------- space
@dataclass(frozen=True)
class SearchSpace:
    """The set of genomes a search may visit.

    Parameters
    ----------
    family : {"mlp", "cnn1d", "cnn2d"}
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
    _kinds: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        items = self.globals.items() if isinstance(self.globals, Mapping) else self.globals
        object.__setattr__(self, "globals", tuple(sorted(items, key=lambda kv: kv[0])))
        object.__setattr__(self, "_kinds", {spec.kind: spec for spec in self.layers})
        problems = []
        if self.family not in ("mlp", "cnn1d", "cnn2d"):
            problems.append(f"family must be one of ['mlp', 'cnn1d', 'cnn2d'], got {self.family!r}")
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
        return self.family.startswith("cnn")

    @property
    def input_ndim(self) -> int:
        """Dimensions of one sample this family expects (1, 2 or 3)."""
        return {"mlp": 1, "cnn1d": 2, "cnn2d": 3}[self.family]

    def bind(self, input_shape: Sequence[int]) -> SearchSpace:
        """Return a copy of the space that knows the shape of one sample."""
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != self.input_ndim:
            raise ValueError(
                f"search space {self.name!r} ({self.family}) expects samples with "
                f"{self.input_ndim} dimension(s), got shape {shape!r}"
            )
        return replace(self, input_shape=shape)

    # -- the three verbs ----------------------------------------------------------
    def layer_spec(self, kind: str) -> LayerSpec:
        try:
            return self._kinds[kind]
        except KeyError:
            raise ValueError(
                f"layer kind must be one of {sorted(self._kinds)}, got {kind!r}"
            ) from None

    def sample_layer(self, rng: np.random.Generator, exclude: str | None = None) -> LayerGene:
        """Draw one layer gene, kinds weighted by :attr:`LayerSpec.weight`."""
        specs = [s for s in self.layers if s.kind != exclude and s.weight > 0] or list(self.layers)
        weights = np.array([s.weight for s in specs], dtype=float)
        spec = specs[int(rng.choice(len(specs), p=weights / weights.sum()))]
        return spec.sample(rng)

    def sample_globals(self, rng: np.random.Generator) -> dict[str, GeneValue]:
        return {name: domain.sample(rng) for name, domain in self.globals}

    def sample(self, rng: np.random.Generator) -> Genome:
        """Draw a random genome inside the space (repaired if needed)."""
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
        """Whether ``genome`` lies in the space (and fits the bound input shape)."""
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
        shape = tuple(self.input_shape[1:])
        kept = []
        for layer in layers:
            size_key = {"conv": "kernel_size", "maxpool": "pool_size"}.get(layer.kind)
            if size_key is None:
                kept.append(layer)
                continue
            room = min(shape)
            size = int(layer[size_key])
            smallest = _low(self._kinds[layer.kind].domains[size_key])
            if size > room:
                if smallest > room:
                    continue  # cannot fit: drop the layer
                layer = layer.replace(
                    **{size_key: self._kinds[layer.kind].domains[size_key].clip(room)}
                )
                if int(layer[size_key]) > room:
                    continue
            stride = int(layer["stride"]) if layer.kind == "conv" else int(layer[size_key])
            shape = tuple(_conv_out(n, int(layer[size_key]), stride) for n in shape)
            kept.append(layer)
        return kept


def _low(domain: Domain) -> GeneValue:
    if isinstance(domain, Choice):
        numeric = [o for o in domain.options if isinstance(o, (int, float))]
        return min(numeric) if numeric else domain.options[0]
    return domain.low


# --------------------------------------------------------------------------- presets
_TRAINING = {
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
    dense = LayerSpec(
        "dense",
        {
            "units": Choice((16, 32, 64, 128, 256, 512)),
            "activation": Choice(("relu", "elu", "tanh", "leaky_relu")),
            "dropout": Float(0.0, 0.5),
        },
    )
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
    layers = [
        LayerSpec(
            "conv",
            {"filters": Choice((8, 16, 32, 64)), "kernel_size": kernel, "stride": Int(1, 3)},
            weight=3.0,
        ),
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
    globals_ = dict(_TRAINING, head=Choice(heads))
    return SearchSpace(
        f"cnn{ndim}d",
        layers,
        globals_,
        min_layers=1,
        max_layers=max_layers,
        init_max_layers=min(6, max_layers),
        name=f"cnn{ndim}d",
    )


SPACES = {
    "mlp": mlp_space,
    "cnn1d": lambda: cnn_space(1),
    "cnn2d": lambda: cnn_space(2),
}
_AUTO = {1: "mlp", 2: "cnn1d", 3: "cnn2d"}


def get_space(name: str | SearchSpace, sample_shape: Sequence[int]) -> SearchSpace:
    """Resolve a search-space setting and bind it to the shape of one sample.

    ``"auto"`` picks the family from the number of dimensions of one sample:
    1 -> ``"mlp"``, 2 -> ``"cnn1d"``, 3 -> ``"cnn2d"``.

    Examples
    --------
    >>> get_space("auto", (6, 896)).name
    'cnn1d'
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
