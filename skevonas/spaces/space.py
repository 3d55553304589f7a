"""Search spaces: which genomes exist, how to draw one, and how to mend one.

A search space is declarative. It names the layer kinds it allows, the domain
of every parameter (:mod:`skevonas.spaces.domains`), the global (training) genes,
and the depth range. It holds no random state:
:meth:`~skevonas.SearchSpace.sample` takes a :class:`numpy.random.Generator`.
Spaces for convolutional families know the input shape (bound with
:meth:`~skevonas.SearchSpace.bind` at fit time) so that
:meth:`~skevonas.SearchSpace.repair` can guarantee that no layer shrinks the
signal below length 1 (the family's :class:`~skevonas.spaces.shapes.ShapeRule`).

The named spaces (``"mlp"``, ``"eeg"``, ``"cnn1d"``...) are in
:mod:`skevonas.spaces.catalogue`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .domains import Domain, DomainsLike, LayerSpec, lowest, midpoint, sorted_domains
from .genome import GeneValue, Genome, LayerGene
from .shapes import (
    FAMILY_SHAPES,
    SIZE_GENES,
    ShapeRule,
    kernel_dilation,
    kernel_span,
    signal_shapes,
)

__all__ = ["SearchSpace"]


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
    >>> from skevonas import mlp_space
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
            ("globals", sorted_domains(globals)),
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
        if self.family not in FAMILY_SHAPES:
            problems.append(f"family must be one of {sorted(FAMILY_SHAPES)}, got {self.family!r}")
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
    def shape_rule(self) -> ShapeRule:
        """How the family's layers change the shape of one sample (:mod:`~.shapes`)."""
        return FAMILY_SHAPES[self.family]

    @property
    def is_convolutional(self) -> bool:
        """Whether the family is a CNN one (``"cnn1d"``, ``"cnn2d"`` or ``"eeg"``)."""
        return self.shape_rule.has_signal_axes

    @property
    def input_ndim(self) -> int:
        """Dimensions of one sample this family expects (1, 2 or 3)."""
        return self.shape_rule.rank

    def bind(self, input_shape: Sequence[int]) -> SearchSpace:
        """Return a copy of the space that knows the shape of one sample.

        Raises
        ------
        ValueError
            If the shape has the wrong number of dimensions for the family.

        Examples
        --------
        >>> from skevonas import cnn_space
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
        """The :class:`~skevonas.spaces.domains.LayerSpec` of layer kind ``kind``.

        Raises
        ------
        ValueError
            If the space has no such layer kind.

        Examples
        --------
        >>> from skevonas import mlp_space
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
        :class:`~skevonas.spaces.domains.LayerSpec`. ``exclude`` names a kind not to draw
        (mutation uses it to replace a layer by one of another kind).

        Examples
        --------
        >>> from skevonas import cnn_space
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
        >>> from skevonas import mlp_space
        >>> import numpy as np
        >>> sorted(mlp_space().sample_globals(np.random.default_rng(0)))
        ['batch_size', 'lr', 'optimizer', 'weight_decay']
        """
        return {name: domain.sample(rng) for name, domain in self.globals}

    def sample(self, rng: np.random.Generator) -> Genome:
        """Draw a random genome inside the space (repaired if needed).

        Its depth is drawn uniformly from ``min_layers`` (at least 1) to
        ``init_max_layers`` (or ``max_layers``), each layer with
        :meth:`sample_layer` and the global genes with :meth:`sample_globals`.

        Examples
        --------
        >>> from skevonas import cnn_space
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
        >>> from skevonas import Genome, LayerGene, cnn_space
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
        >>> from skevonas import Genome, LayerGene, cnn_space
        >>> space = cnn_space().bind((6, 20))  # 20 time samples
        >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 8, "kernel_size": 25, "stride": 1}),
        ...                      LayerGene("dense", {"units": 8})], {"lr": 1.0})
        >>> repaired = space.repair(g)
        >>> repaired.layers  # the kernel shrunk to the signal; the MLP layer dropped
        (conv(filters=8, kernel_size=20, stride=1),)
        >>> dict(repaired.globals)  # lr clipped into its domain; missing genes filled in
        {'batch_size': 16, 'head': 'flatten', 'lr': 0.005, 'optimizer': 'adam', 'weight_decay': 0.0}
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
            name: domain.clip(values[name]) if name in values else domain.clip(midpoint(domain))
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
        return spec.clip(LayerGene(spec.kind, {n: lowest(d) for n, d in spec.params}))

    def _fit_signal(self, layers: list[LayerGene]) -> list[LayerGene]:
        if self.input_shape is None:
            raise ValueError(f"search space {self.name!r} is not bound to an input shape")
        rule = self.shape_rule
        shape = rule.spatial(tuple(int(s) for s in self.input_shape))
        kept = []
        for layer in layers:
            size_key = SIZE_GENES.get(layer.kind)
            if size_key is not None and layer.get("padding", "valid") != "same":
                # EEG networks shrink time only; image and 1-D CNNs every axis.
                domains = self._kinds[layer.kind].domains
                fitted = _fit_kernel(layer, size_key, rule.room(shape), domains)
                if fitted is None:
                    continue  # cannot fit: drop the layer
                layer = fitted
                if "stride" in domains and layer.kind.endswith("pool"):
                    # a pool never skips samples: stride <= pool size
                    stride = min(int(layer["stride"]), int(layer[size_key]))
                    layer = layer.replace(stride=domains["stride"].clip(stride))
            shape = rule.next_shape(layer, shape)
            kept.append(layer)
        return kept


def _fit_kernel(
    layer: LayerGene, size_key: str, room: int, domains: dict[str, Domain]
) -> LayerGene | None:
    """``layer`` with a kernel (or pool) that spans at most ``room`` samples; None if none can.

    A kernel that is too long is shrunk; a dilated one whose shortest kernel
    is still too long loses its dilation first.
    """
    dilation = kernel_dilation(layer)
    if kernel_span(int(layer[size_key]), dilation) <= room:
        return layer
    shortest = int(lowest(domains[size_key]))
    if kernel_span(shortest, dilation) > room and "dilation" in domains:
        layer = layer.replace(dilation=lowest(domains["dilation"]))
        dilation = kernel_dilation(layer)
    if kernel_span(shortest, dilation) > room:
        return None
    layer = layer.replace(**{size_key: domains[size_key].clip((room - 1) // dilation + 1)})
    return layer if kernel_span(int(layer[size_key]), dilation) <= room else None
