"""Value domains of genes, and the layer kinds a search space allows.

A domain says which values one gene may take and how to draw, clip and
nudge them: :class:`Int` and :class:`Float` ranges (optionally on a log
scale) and :class:`Choice` among fixed options. A :class:`LayerSpec` names
a layer kind and gives each of its parameters a domain. A gene named in
:data:`IMPLICIT_GENES` may be left out of a layer: it then has the value
given there (how genomes saved before the gene existed stay valid).
:data:`TRAINING_GENES` holds the training genes (optimizer, learning rate,
batch size, weight decay) that the built-in search spaces share.

Nothing here holds random state: every draw takes a
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .genome import GeneValue, LayerGene

__all__ = [
    "IMPLICIT_GENES",
    "TRAINING_GENES",
    "Choice",
    "Domain",
    "DomainsLike",
    "Float",
    "Int",
    "LayerSpec",
    "lowest",
    "midpoint",
    "sorted_domains",
]

#: Genes a layer may leave out, by name, and the value that leaving one out
#: means: genes added to a layer kind after genomes were saved without them.
#: A convolution without ``dilation`` is not dilated. A :class:`LayerSpec`
#: counts an absent implicit gene as this value (:meth:`LayerSpec.contains`)
#: and writes it out when it repairs a layer (:meth:`LayerSpec.clip`); the
#: builders and shape rules read it the same way. Read-only.
IMPLICIT_GENES: Mapping[str, GeneValue] = MappingProxyType({"dilation": 1})


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

    def nudge(self, value: Any, rng: np.random.Generator) -> int:
        """The smallest move away from ``value``: a notch up or down.

        On a linear scale the notch is 1; on a log scale ``value`` is
        multiplied or divided by 1.25 (at least 1 either way). A notch that
        would leave the domain goes the other way.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> sorted({Int(2, 32).nudge(7, rng) for _ in range(20)})
        [6, 8]
        >>> sorted({Int(3, 128, log=True).nudge(64, rng) for _ in range(20)})
        [51, 80]
        >>> Int(2, 32).nudge(32, rng)
        31
        """
        if self.low == self.high:
            return self.low
        up = rng.random() < 0.5
        if self.log:
            moved = value * 1.25 if up else value / 1.25
            new = int(round(moved))
            if new == value:
                new = value + (1 if up else -1)
        else:
            new = value + (1 if up else -1)
        if not self.low <= new <= self.high:  # off the end: the other way
            new = self.clip(2 * value - new)
        return int(new)


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

    def nudge(self, value: Any, rng: np.random.Generator) -> float:
        """A small move away from ``value``, a third of :meth:`step`'s or less.

        On a linear scale the move is 2 % to 5 % of the range, up or down; on a
        log scale ``value`` is multiplied or divided by a factor of 1.1 to 1.4.
        A move that would leave the domain goes the other way; the result is
        rounded to 6 significant digits.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> moves = [Float(0.0, 0.6).nudge(0.25, rng) - 0.25 for _ in range(50)]
        >>> 0.012 <= min(abs(m) for m in moves) and max(abs(m) for m in moves) <= 0.03
        True
        >>> Float(0.0, 0.6).nudge(0.0, rng) > 0
        True
        """
        if self.low == self.high:
            return float(self.low)
        up = rng.random() < 0.5
        if self.log:
            factor = math.exp(rng.uniform(math.log(1.1), math.log(1.4)))
            moved = value * factor if up else value / factor
            if not self.low <= moved <= self.high:
                moved = value / factor if up else value * factor
        else:
            delta = rng.uniform(0.02, 0.05) * (self.high - self.low)
            moved = value + delta if up else value - delta
            if not self.low <= moved <= self.high:
                moved = value - delta if up else value + delta
        return float(f"{self.clip(moved):.6g}")


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

    def nudge(self, value: GeneValue, rng: np.random.Generator) -> GeneValue:
        """For ordered numeric options, a neighbour (as :meth:`step`); else ``value`` unchanged.

        A move between unordered options (an activation, an optimizer) is no
        small step, so :meth:`nudge` leaves them alone (:meth:`is_ordered`).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> sorted({Choice((16, 32, 64, 128)).nudge(32, rng) for _ in range(20)})
        [16, 64]
        >>> Choice(("relu", "elu")).nudge("relu", rng)
        'relu'
        """
        return self.step(value, rng) if self.is_ordered() else value

    def is_ordered(self) -> bool:
        """Whether the options are numbers (not bools), so that they have neighbours.

        Examples
        --------
        >>> Choice((0.0, 1e-4)).is_ordered(), Choice((True, False)).is_ordered()
        (True, False)
        """
        return len(self.options) > 1 and all(
            isinstance(o, (int, float)) and not isinstance(o, bool) for o in self.options
        )


Domain = Int | Float | Choice


def _py(value: Any) -> GeneValue:
    """numpy scalars -> plain Python, so genomes stay JSON-friendly."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- layers
# Domains as given to a constructor: a mapping, or (name, domain) pairs.
DomainsLike = Mapping[str, Domain] | Iterable[tuple[str, Domain]]


def sorted_domains(items: DomainsLike) -> tuple[tuple[str, Domain], ...]:
    """Domains given as a mapping or as pairs, as ``(name, domain)`` pairs sorted by name.

    The form in which a :class:`LayerSpec` and a search space store them, so
    that two specs with the same domains compare (and print) equal.

    Examples
    --------
    >>> sorted_domains({"units": Int(1, 8), "activation": Choice(("relu",))})
    (('activation', Choice(options=('relu',))), ('units', Int(low=1, high=8, log=False)))
    """
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
        object.__setattr__(self, "params", sorted_domains(params))
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

        A gene of :data:`IMPLICIT_GENES` may be absent; it then has its implicit value:

        >>> conv = LayerSpec("conv", {"kernel_size": Int(2, 9), "dilation": Choice((1, 2))})
        >>> conv.contains(LayerGene("conv", {"kernel_size": 3}))
        True
        """
        domains = self.domains
        values = {
            **{name: value for name, value in IMPLICIT_GENES.items() if name in domains},
            **dict(gene.params),
        }
        return (
            gene.kind == self.kind
            and set(values) == set(domains)
            and all(domains[name].contains(value) for name, value in values.items())
        )

    def clip(self, gene: LayerGene) -> LayerGene:
        """The gene with every parameter clipped into its domain.

        Missing parameters get their value in :data:`IMPLICIT_GENES`, else the
        middle of their domain (the first option of a ``Choice``); parameters the
        spec does not know are dropped.

        Examples
        --------
        >>> from skevonas import LayerGene
        >>> spec = LayerSpec("dropout", {"rate": Float(0.0, 0.5)})
        >>> spec.clip(LayerGene("dropout", {"rate": 0.9}))
        dropout(rate=0.5)
        >>> spec.clip(LayerGene("dropout"))
        dropout(rate=0.25)
        >>> LayerSpec("conv", {"dilation": Choice((4, 2, 1))}).clip(LayerGene("conv"))
        conv(dilation=1)
        """
        values = dict(gene.params)
        return LayerGene(
            self.kind,
            {
                name: domain.clip(values.get(name, _absent(name, domain)))
                for name, domain in self.params
            },
        )


def _absent(name: str, domain: Domain) -> GeneValue:
    """The value a gene left out of a layer starts from: implicit, or the domain's middle."""
    return IMPLICIT_GENES[name] if name in IMPLICIT_GENES else midpoint(domain)


def midpoint(domain: Domain) -> GeneValue:
    """The value a missing gene starts from, before it is clipped into ``domain``.

    The middle of a range (the geometric middle on a log scale; not rounded
    for an :class:`Int`), or the first option of a :class:`Choice`.

    Examples
    --------
    >>> midpoint(Int(1, 4)), midpoint(Float(1e-4, 1e-2, log=True))
    (2.5, 0.001)
    >>> Int(1, 4).clip(midpoint(Int(1, 4))), midpoint(Choice(("relu", "elu")))
    (2, 'relu')
    """
    if isinstance(domain, Choice):
        return domain.options[0]
    if domain.log:
        return math.sqrt(domain.low * domain.high)
    return (domain.low + domain.high) / 2


def lowest(domain: Domain) -> GeneValue:
    """The smallest value of ``domain``: its low end, or its smallest numeric option.

    A :class:`Choice` without numeric options gives its first option.

    Examples
    --------
    >>> lowest(Int(2, 9)), lowest(Choice((16, 8, 32))), lowest(Choice(("valid", "same")))
    (2, 8, 'valid')
    """
    if isinstance(domain, Choice):
        numeric = [o for o in domain.options if isinstance(o, (int, float))]
        return min(numeric) if numeric else domain.options[0]
    return domain.low


#: The training genes the built-in search spaces share, by gene name: the
#: optimizer, the learning rate, the batch size and the weight decay (the
#: optimizer's ``weight_decay``: decoupled for AdamW, an L2 penalty for the
#: others; 0 first, so that a genome saved before the gene existed is
#: repaired to no decay). Read-only; a space copies it
#: (``{**TRAINING_GENES, "head": ...}``) and may add its own global genes.
TRAINING_GENES: Mapping[str, Domain] = MappingProxyType(
    {
        "optimizer": Choice(("adam", "adamw", "sgd", "rmsprop")),
        "lr": Float(1e-4, 5e-3, log=True),
        "batch_size": Choice((16, 32, 64, 128)),
        "weight_decay": Choice((0.0, 1e-5, 1e-4, 1e-3, 1e-2)),
    }
)
