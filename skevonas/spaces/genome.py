"""Genomes: immutable, hashable descriptions of one candidate network.

A :class:`Genome` is a variable-length tuple of :class:`LayerGene` (the
architecture) plus a tuple of global genes (training settings such as the
optimizer, learning rate and batch size, and family-wide choices such as the
classifier head). Genomes never change after creation; operators return new
ones. Each genome has a canonical :meth:`Genome.key` used for caching,
deduplication and logs, and round-trips through plain JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GENOME_FORMS", "GeneValue", "Genome", "LayerGene", "parse_genome", "short_repr"]

GeneValue = int | float | str | bool
# Genes as given to a constructor: a mapping, or (name, value) pairs.
GenesLike = Mapping[str, GeneValue] | tuple[tuple[str, GeneValue], ...]

# Layer kinds that build no module: they are dropped from the canonical key so
# that two genomes which build the same network are cached as one.
NO_OP_KINDS = frozenset({"identity"})


def _freeze_params(params: Mapping[str, Any] | tuple) -> tuple[tuple[str, GeneValue], ...]:
    items = params.items() if isinstance(params, Mapping) else params
    frozen = []
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"gene names must be strings, got {name!r}")
        if isinstance(value, float) and value != value:  # NaN
            raise ValueError(f"gene {name!r} is NaN")
        if not isinstance(value, (bool, int, float, str)):
            raise TypeError(f"gene {name!r} must be an int, float, str or bool, got {value!r}")
        frozen.append((name, value))
    names = [name for name, _ in frozen]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate gene names in {names!r}")
    return tuple(sorted(frozen))


def _lookup(pairs: tuple[tuple[str, GeneValue], ...], name: str, missing: str) -> GeneValue:
    for key, value in pairs:
        if key == name:
            return value
    raise KeyError(missing)


def _canonical_value(value: GeneValue) -> GeneValue:
    # Round floats so that 0.1 + 0.2 and 0.3 share a key.
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


@dataclass(frozen=True)
class LayerGene:
    """One layer of a genome: a kind (``"conv"``, ``"dense"``...) and its parameters.

    Parameters
    ----------
    kind : str
        Name of the layer kind, as known to the search space and the builders.
    params : mapping or tuple of (str, value) pairs, default=()
        The layer's parameters. Stored sorted by name as a tuple of pairs.

    Examples
    --------
    >>> gene = LayerGene("conv", {"filters": 16, "kernel_size": 5, "stride": 1})
    >>> gene["filters"]
    16
    >>> gene
    conv(filters=16, kernel_size=5, stride=1)
    """

    kind: str
    params: tuple[tuple[str, GeneValue], ...] = ()

    # An explicit __init__ (the dataclass keeps it) so that the accepted input
    # types differ from the stored, canonical ones.
    def __init__(self, kind: str, params: GenesLike = ()) -> None:
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"layer kind must be a non-empty string, got {kind!r}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "params", _freeze_params(params))

    def __getitem__(self, name: str) -> GeneValue:
        return _lookup(self.params, name, f"layer {self.kind!r} has no parameter {name!r}")

    def get(self, name: str, default: Any = None) -> Any:
        """Return parameter ``name``, or ``default`` if the layer has none.

        Examples
        --------
        >>> gene = LayerGene("dense", {"units": 64})
        >>> gene.get("units"), gene.get("dropout", 0.0)
        (64, 0.0)
        """
        return dict(self.params).get(name, default)

    def replace(self, **changes: GeneValue) -> LayerGene:
        """Return a copy with some parameters changed.

        Examples
        --------
        >>> gene = LayerGene("conv", {"filters": 16, "kernel_size": 5})
        >>> gene.replace(kernel_size=7)
        conv(filters=16, kernel_size=7)
        >>> gene["kernel_size"]  # genes are immutable: the original is unchanged
        5
        """
        params = dict(self.params)
        params.update(changes)
        return LayerGene(self.kind, params)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: ``{"kind": ..., "params": {...}}``.

        Examples
        --------
        >>> LayerGene("dropout", {"rate": 0.25}).to_dict()
        {'kind': 'dropout', 'params': {'rate': 0.25}}
        """
        return {"kind": self.kind, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerGene:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> gene = LayerGene("dropout", {"rate": 0.25})
        >>> LayerGene.from_dict(gene.to_dict()) == gene
        True
        """
        return cls(data["kind"], dict(data.get("params", {})))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params)
        return f"{self.kind}({inner})"


def _fmt(value: GeneValue) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class Genome:
    """An immutable candidate: a model family, layer genes and global genes.

    Parameters
    ----------
    family : str
        The builder family, e.g. ``"mlp"``, ``"cnn1d"`` or ``"cnn2d"``.
    layers : sequence of LayerGene
        The hidden layers, input side first. The output layer is implied.
    globals : mapping or tuple of (str, value) pairs, default=()
        Genes that apply to the whole network or its training (optimizer,
        learning rate, batch size, head...).

    Examples
    --------
    >>> g = Genome(
    ...     "mlp",
    ...     [LayerGene("dense", {"units": 64, "activation": "relu"})],
    ...     {"optimizer": "adam", "lr": 0.001},
    ... )
    >>> print(g)
    mlp: dense(activation='relu', units=64) -> output | lr=0.001, optimizer='adam'
    >>> Genome.from_json(g.to_json()) == g
    True
    >>> len(g.short_key())
    10
    """

    family: str
    layers: tuple[LayerGene, ...]
    globals: tuple[tuple[str, GeneValue], ...] = field(default=())

    def __init__(self, family: str, layers: Iterable[LayerGene], globals: GenesLike = ()) -> None:
        if not isinstance(family, str) or not family:
            raise ValueError(f"family must be a non-empty string, got {family!r}")
        layers = tuple(layers)
        for layer in layers:
            if not isinstance(layer, LayerGene):
                raise TypeError(f"layers must be LayerGene instances, got {layer!r}")
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "globals", _freeze_params(globals))

    # -- access -----------------------------------------------------------------
    def __getitem__(self, name: str) -> GeneValue:
        return _lookup(self.globals, name, f"genome has no global gene {name!r}")

    def get(self, name: str, default: Any = None) -> Any:
        """Return global gene ``name``, or ``default`` if absent.

        Examples
        --------
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
        >>> g.get("lr"), g.get("batch_size", 32)
        (0.01, 32)
        """
        return dict(self.globals).get(name, default)

    def replace(self, layers: Any = None, **global_changes: GeneValue) -> Genome:
        """Return a copy with new layers and/or some global genes changed.

        Examples
        --------
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
        >>> print(g.replace(lr=0.001))
        mlp: dense(units=8) -> output | lr=0.001
        >>> print(g.replace(layers=[LayerGene("dense", {"units": 16})] * 2))
        mlp: dense(units=16) -> dense(units=16) -> output | lr=0.01
        """
        params = dict(self.globals)
        params.update(global_changes)
        return Genome(self.family, self.layers if layers is None else tuple(layers), params)

    @property
    def n_layers(self) -> int:
        """Number of layer genes that build a module (identity layers excluded)."""
        return sum(layer.kind not in NO_OP_KINDS for layer in self.layers)

    # -- identity ---------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """The form used for the key: no-op layers dropped, floats rounded.

        Floats are rounded to 6 significant digits.

        Examples
        --------
        >>> g = Genome("cnn1d", [LayerGene("identity"), LayerGene("dropout", {"rate": 0.1 + 0.2})])
        >>> g.canonical()
        {'family': 'cnn1d', 'layers': [['dropout', [['rate', 0.3]]]], 'globals': []}
        """
        return {
            "family": self.family,
            "layers": [
                [layer.kind, [[k, _canonical_value(v)] for k, v in layer.params]]
                for layer in self.layers
                if layer.kind not in NO_OP_KINDS
            ],
            "globals": [[k, _canonical_value(v)] for k, v in self.globals],
        }

    def key(self) -> str:
        """Canonical string key: equal for genomes that build the same network.

        Examples
        --------
        >>> a = Genome("cnn1d", [LayerGene("dropout", {"rate": 0.3})])
        >>> b = Genome("cnn1d", [LayerGene("identity"), LayerGene("dropout", {"rate": 0.1 + 0.2})])
        >>> a == b, a.key() == b.key()
        (False, True)
        >>> a.key()
        '{"family":"cnn1d","globals":[],"layers":[["dropout",[["rate",0.3]]]]}'
        """
        return json.dumps(self.canonical(), separators=(",", ":"), sort_keys=True)

    def short_key(self) -> str:
        """A 10-character hash of :meth:`key`, for logs and file names.

        Examples
        --------
        >>> g = Genome("cnn1d", [LayerGene("dropout", {"rate": 0.3})])
        >>> len(g.short_key()), g.short_key() == g.replace(layers=[LayerGene("identity"),
        ...                                                      *g.layers]).short_key()
        (10, True)
        """
        return hashlib.sha1(self.key().encode()).hexdigest()[:10]

    # -- serialisation ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the genome (every layer kept, identity included).

        Examples
        --------
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
        >>> g.to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'family': 'mlp', 'layers': [{'kind': 'dense', 'params': {'units': 8}}],
         'globals': {'lr': 0.01}}
        """
        return {
            "family": self.family,
            "layers": [layer.to_dict() for layer in self.layers],
            "globals": dict(self.globals),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genome:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            If ``data`` does not describe a genome.

        Examples
        --------
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
        >>> Genome.from_dict(g.to_dict()) == g
        True
        """
        try:
            return cls(
                data["family"],
                [LayerGene.from_dict(layer) for layer in data["layers"]],
                dict(data.get("globals", {})),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a valid genome dictionary: {exc}") from exc

    def to_json(self, **kwargs: Any) -> str:
        """The genome as a JSON string; ``kwargs`` go to :func:`json.dumps`.

        Examples
        --------
        >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
        >>> print(g.to_json())  # doctest: +NORMALIZE_WHITESPACE
        {"family": "mlp", "layers": [{"kind": "dense", "params": {"units": 8}}],
         "globals": {"lr": 0.01}}
        """
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Genome:
        """Inverse of :meth:`to_json`.

        Examples
        --------
        >>> g = Genome.from_json('{"family": "mlp", "layers": [{"kind": "dense", '
        ...                      '"params": {"units": 8}}], "globals": {"lr": 0.01}}')
        >>> print(g)
        mlp: dense(units=8) -> output | lr=0.01
        """
        return cls.from_dict(json.loads(text))

    # -- display ------------------------------------------------------------------
    def describe(self) -> str:
        """Multi-line, human-readable description of the architecture.

        Examples
        --------
        >>> g = Genome("cnn1d", [LayerGene("conv", {"filters": 8, "kernel_size": 5, "stride": 1}),
        ...                      LayerGene("elu")], {"head": "flatten", "lr": 0.001})
        >>> print(g.describe())  # doctest: +ELLIPSIS
        cnn1d genome ...
           0. conv(filters=8, kernel_size=5, stride=1)
           1. elu()
              output (linear, one unit per class)
          training: head='flatten', lr=0.001
        """
        lines = [f"{self.family} genome {self.short_key()}"]
        for i, layer in enumerate(self.layers):
            lines.append(f"  {i:2d}. {layer!r}")
        lines.append("      output (linear, one unit per class)")
        lines.append("  training: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.globals))
        return "\n".join(lines)

    def __str__(self) -> str:
        body = " -> ".join([repr(layer) for layer in self.layers] + ["output"])
        train = ", ".join(f"{k}={_fmt(v)}" for k, v in self.globals)
        return f"{self.family}: {body} | {train}"


# --------------------------------------------------------------------------- reading
# How a genome may be given where one is expected (in error messages).
GENOME_FORMS = "a Genome, a dict from Genome.to_dict() or a JSON string from Genome.to_json()"


def short_repr(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters, for error messages.

    Examples
    --------
    >>> short_repr("x" * 100, limit=10)
    "'xxxxxx..."
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_genome(genome: Genome | Mapping[str, Any] | str) -> Genome:
    """Read a genome given as a :class:`Genome`, a dict or a JSON string.

    Parameters
    ----------
    genome : Genome, dict or str
        A genome, its :meth:`Genome.to_dict` form or its
        :meth:`Genome.to_json` form.

    Returns
    -------
    Genome

    Raises
    ------
    ValueError
        If ``genome`` is none of these, or does not describe a genome.

    Examples
    --------
    >>> g = parse_genome('{"family": "mlp", "layers": [{"kind": "dense", '
    ...                  '"params": {"units": 8, "activation": "relu"}}], "globals": {}}')
    >>> g.family, g.layers[0]["units"]
    ('mlp', 8)
    """
    if isinstance(genome, Genome):
        return genome
    try:
        if isinstance(genome, str):
            return Genome.from_json(genome)
        if isinstance(genome, Mapping):
            return Genome.from_dict(genome)
    except (ValueError, TypeError, AttributeError) as exc:
        # json.JSONDecodeError is a ValueError; a JSON list or number is a TypeError
        reason = f"{type(exc).__name__}: {exc}"
    else:
        reason = f"{type(genome).__name__} is none of these"
    raise ValueError(
        f"genome must be {GENOME_FORMS}; could not read {short_repr(genome)}: {reason}"
    )
