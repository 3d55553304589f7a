"""Genetic operators: selection, crossover and mutation.

Every operator is a pure function with an explicit
:class:`numpy.random.Generator`. Operators never modify their inputs (genomes
are immutable anyway) and always return genomes inside the search space
(they finish with :meth:`~skevonas.SearchSpace.repair`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from ..spaces.domains import Choice
from ..spaces.genome import Genome, LayerGene
from ..spaces.space import SearchSpace

__all__ = [
    "CROSSOVERS",
    "SELECTIONS",
    "crossover_genes",
    "crossover_layers",
    "mutate",
    "nudge",
    "offspring",
    "roulette",
    "tournament",
]


# --------------------------------------------------------------------------- selection
def _fitness(scores: Sequence[float]) -> np.ndarray:
    # Failed candidates (NaN) rank below everything.
    values = np.asarray(scores, dtype=float)
    return np.where(np.isfinite(values), values, -np.inf)


def tournament(
    scores: Sequence[float], n: int, rng: np.random.Generator, size: int = 3
) -> np.ndarray:
    """Indices of ``n`` winners of tournaments among ``size`` random entrants.

    Examples
    --------
    >>> import numpy as np
    >>> tournament([0.1, 0.9, 0.5], 4, np.random.default_rng(0), size=3).tolist()
    [1, 1, 1, 1]
    """
    fitness = _fitness(scores)
    size = max(1, min(size, len(fitness)))
    winners = []
    for _ in range(n):
        entrants = rng.choice(len(fitness), size=size, replace=False)
        # argmax takes the first of equals; entrants are in random order.
        winners.append(int(entrants[np.argmax(fitness[entrants])]))
    return np.array(winners, dtype=int)


def roulette(scores: Sequence[float], n: int, rng: np.random.Generator, **_: object) -> np.ndarray:
    """Fitness-proportional selection of ``n`` indices.

    Scores are shifted so that the worst finite score gets a small positive
    weight (sklearn scorers may be negative); failed candidates get none.

    Examples
    --------
    >>> import numpy as np
    >>> picks = roulette([0.5, 0.9, float("nan")], 100, np.random.default_rng(0))
    >>> 2 in picks
    False
    """
    fitness = _fitness(scores)
    finite = np.isfinite(fitness)
    if not finite.any():
        return rng.integers(len(fitness), size=n)
    low, high = fitness[finite].min(), fitness[finite].max()
    floor = 0.05 * (high - low) if high > low else 1.0
    weights = np.where(finite, fitness - low + floor, 0.0)
    return rng.choice(len(fitness), size=n, p=weights / weights.sum())


SELECTIONS: dict[str, Callable[..., np.ndarray]] = {
    "tournament": tournament,
    "roulette": roulette,
}


# --------------------------------------------------------------------------- crossover
def _mix(ga: dict, gb: dict, rng: np.random.Generator) -> dict:
    # Each gene from either parent; a gene only one parent has (a layer saved
    # before the gene existed, see IMPLICIT_GENES) comes from that parent.
    return {
        name: (ga if name not in gb or (name in ga and rng.random() < 0.5) else gb)[name]
        for name in sorted(set(ga) | set(gb))
    }


def _mix_globals(a: Genome, b: Genome, rng: np.random.Generator) -> dict:
    return _mix(dict(a.globals), dict(b.globals), rng)


def crossover_genes(a: Genome, b: Genome, space: SearchSpace, rng: np.random.Generator) -> Genome:
    """Gene-wise (uniform) crossover: every gene comes from one of the parents.

    Layers are aligned by position. Where both parents have a layer of the
    same kind, each of its parameters comes from either parent; where the
    kinds differ, the whole layer comes from one parent. The child's depth is
    one parent's depth; global genes are drawn one by one.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> space = mlp_space().bind((8,))
    >>> rng = np.random.default_rng(0)
    >>> a, b = space.sample(rng), space.sample(rng)
    >>> space.contains(crossover_genes(a, b, space, rng))
    True
    """
    depth = len(a.layers) if rng.random() < 0.5 else len(b.layers)
    layers: list[LayerGene] = []
    for i in range(depth):
        la = a.layers[i] if i < len(a.layers) else None
        lb = b.layers[i] if i < len(b.layers) else None
        if la is None or lb is None:
            only = la if la is not None else lb
            if only is not None:  # always, as depth is one of the two lengths
                layers.append(only)
        elif la.kind == lb.kind:
            layers.append(LayerGene(la.kind, _mix(dict(la.params), dict(lb.params), rng)))
        else:
            layers.append(la if rng.random() < 0.5 else lb)
    return space.repair(Genome(a.family, layers, _mix_globals(a, b, rng)))


def crossover_layers(a: Genome, b: Genome, space: SearchSpace, rng: np.random.Generator) -> Genome:
    """Layer-wise (one-point) crossover: whole layers are inherited.

    The child takes ``a``'s layers up to a random cut and ``b``'s layers from
    another random cut on, so depth may differ from both parents (cuts that
    would leave the space's depth range are drawn again). Global
    genes are drawn one by one.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import cnn_space
    >>> space = cnn_space().bind((4, 128))
    >>> rng = np.random.default_rng(1)
    >>> a, b = space.sample(rng), space.sample(rng)
    >>> child = crossover_layers(a, b, space, rng)
    >>> space.contains(child)
    True
    """
    # Draw cut points until the child's depth is inside the space's range
    # (a few tries; repair handles the rest).
    for _ in range(10):
        cut_a = int(rng.integers(0, len(a.layers) + 1))
        cut_b = int(rng.integers(0, len(b.layers) + 1))
        layers = list(a.layers[:cut_a]) + list(b.layers[cut_b:])
        if space.min_layers <= len(layers) <= space.max_layers:
            break
    return space.repair(Genome(a.family, layers, _mix_globals(a, b, rng)))


CROSSOVERS: dict[str, Callable[..., Genome]] = {
    "gene": crossover_genes,
    "layer": crossover_layers,
}


# --------------------------------------------------------------------------- mutation
Site = tuple[int | None, str]  # (layer index or None for a global gene, gene name)


def _gene_sites(genome: Genome, space: SearchSpace, ordered: bool = False) -> list[Site]:
    # Every gene of the genome (the globals first); ``ordered``: only those with a
    # smallest move (numbers, and options in an order).
    def keep(domain: object) -> bool:
        return not ordered or not isinstance(domain, Choice) or domain.is_ordered()

    sites: list[Site] = [(None, name) for name, domain in space.globals if keep(domain)]
    for i, layer in enumerate(genome.layers):
        spec = space.layer_spec(layer.kind)
        sites += [(i, name) for name, domain in spec.params if keep(domain)]
    return sites


def _move_gene(
    genome: Genome,
    space: SearchSpace,
    site: Site,
    rng: np.random.Generator,
    move: Literal["step", "nudge"],
) -> Genome:
    # The genome with the gene at ``site`` moved by its domain's ``step`` or ``nudge``.
    index, name = site
    if index is None:
        domain = dict(space.globals)[name]
        return genome.replace(**{name: getattr(domain, move)(genome[name], rng)})
    spec = space.layer_spec(genome.layers[index].kind)
    layer = spec.clip(genome.layers[index])  # unchanged, but with its implicit genes written out
    layers = list(genome.layers)
    layers[index] = layer.replace(**{name: getattr(spec.domains[name], move)(layer[name], rng)})
    return genome.replace(layers=layers)


def _step_gene(genome: Genome, space: SearchSpace, rng: np.random.Generator) -> Genome:
    # One numeric step or categorical redraw, on a layer parameter or global gene.
    sites = _gene_sites(genome, space)
    if not sites:
        return genome
    return _move_gene(genome, space, sites[int(rng.integers(len(sites)))], rng, "step")


def _add_layer(genome: Genome, space: SearchSpace, rng: np.random.Generator) -> Genome:
    layers = list(genome.layers)
    layers.insert(int(rng.integers(0, len(layers) + 1)), space.sample_layer(rng))
    return genome.replace(layers=layers)


def _remove_layer(genome: Genome, space: SearchSpace, rng: np.random.Generator) -> Genome:
    layers = list(genome.layers)
    del layers[int(rng.integers(len(layers)))]
    return genome.replace(layers=layers)


def _replace_layer(genome: Genome, space: SearchSpace, rng: np.random.Generator) -> Genome:
    layers = list(genome.layers)
    i = int(rng.integers(len(layers)))
    layers[i] = space.sample_layer(rng, exclude=layers[i].kind)
    return genome.replace(layers=layers)


def mutate(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, max_tries: int = 50
) -> Genome:
    """Return a genome that differs from ``genome`` (by canonical key).

    One move is drawn per try: a numeric step or categorical redraw of one
    gene (half the time), or adding, removing or replacing a layer. Moves
    that would leave the depth range are skipped. If ``max_tries`` moves all
    fail to change the genome (a space with a single member), the genome is
    returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> space = mlp_space().bind((8,))
    >>> rng = np.random.default_rng(0)
    >>> g = space.sample(rng)
    >>> mutate(g, space, rng).key() != g.key()
    True
    """
    key = genome.key()
    for _ in range(max_tries):
        moves = [_step_gene]
        weights = [3.0]
        if len(genome.layers) < space.max_layers:
            moves.append(_add_layer)
            weights.append(1.0)
        if len(genome.layers) > max(space.min_layers, 1):
            moves.append(_remove_layer)
            weights.append(1.0)
        if genome.layers and len(space.layers) > 1:
            moves.append(_replace_layer)
            weights.append(1.0)
        p = np.array(weights) / sum(weights)
        move = moves[int(rng.choice(len(moves), p=p))]
        child = space.repair(move(genome, space, rng))
        if child.key() != key:
            return child
    return genome


def nudge(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, max_tries: int = 20
) -> Genome:
    """Return a genome one small step from ``genome``: a near neighbour.

    One gene with an order moves by its domain's smallest step (``nudge``):
    a layer a notch wider or narrower, a kernel a notch longer or shorter,
    a dropout rate, learning rate or weight decay nudged. Layers are neither
    added nor removed, and unordered genes (activations, the optimizer) do
    not change, so the child stays close to a parent that trained well
    (and a child that inherits weights keeps nearly all of them). If
    ``max_tries`` nudges leave the genome unchanged (after repair), it is
    mutated (:func:`mutate`) instead.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import mlp_space, standard_mlp_genome
    >>> space = mlp_space().bind((8,))
    >>> seed = standard_mlp_genome()
    >>> child = nudge(seed, space, np.random.default_rng(0))
    >>> child.key() != seed.key(), len(child.layers) == len(seed.layers)
    (True, True)
    >>> [layer["activation"] for layer in child.layers], dict(child.globals)["optimizer"]
    (['relu', 'relu'], 'adamw')
    """
    key = genome.key()
    sites = _gene_sites(genome, space, ordered=True)
    for _ in range(max_tries if sites else 0):
        site = sites[int(rng.integers(len(sites)))]
        child = space.repair(_move_gene(genome, space, site, rng, "nudge"))
        if child.key() != key:
            return child
    return mutate(genome, space, rng)


# --------------------------------------------------------------------------- breeding
def offspring(
    ranked: Sequence[Genome],
    scores: Sequence[float],
    space: SearchSpace,
    rng: np.random.Generator,
    *,
    selection: str,
    tournament_size: int,
    crossover: str,
    crossover_rate: float,
    mutation_rate: float,
    seen: Callable[[str], bool],
    local_rate: float = 0.0,
    n_elites: int = 1,
) -> tuple[Genome, tuple[str, ...]]:
    """One child bred from the genomes ``ranked`` and the short keys of its parents.

    With probability ``local_rate`` the child is a small step (:func:`nudge`)
    from one of the ``n_elites`` best genomes (``ranked`` is best first),
    drawn uniformly: a search close to what trains well. Otherwise two
    parents by ``selection`` on ``scores`` (one per genome, as
    :func:`~skevonas.evolution.records.selection_scores` gives them); crossover
    with probability ``crossover_rate`` (else the child copies the first
    parent); mutation with probability
    ``mutation_rate``. Either way the child is then mutated again (up to 5
    times; nudged, for a small step) while ``seen`` says its key was met
    before. The generational loop and the asynchronous one
    (:mod:`skevonas.evolution.asynchronous`) breed with it. With
    ``local_rate=0`` no draw is spent on the choice, so a search bred before
    the setting existed breeds the same children.

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas.spaces.catalogue import mlp_space
    >>> space = mlp_space().bind((4,))
    >>> rng = np.random.default_rng(0)
    >>> ranked = [space.sample(rng) for _ in range(3)]
    >>> child, parents = offspring(ranked, [0.9, 0.8, 0.7], space, rng,
    ...     selection="tournament", tournament_size=2, crossover="both", crossover_rate=0.5,
    ...     mutation_rate=1.0, seen=lambda key: False)
    >>> space.contains(child), 1 <= len(parents) <= 2
    (True, True)
    """
    parents: tuple[str, ...]
    move = mutate
    if local_rate > 0 and rng.random() < local_rate:
        elite = ranked[int(rng.integers(max(1, min(n_elites, len(ranked)))))]
        move, parents = nudge, (elite.short_key(),)
        child = nudge(elite, space, rng)
    else:
        i, j = SELECTIONS[selection](scores, 2, rng, size=tournament_size)
        a, b = ranked[int(i)], ranked[int(j)]
        if rng.random() < crossover_rate:
            mode = crossover if crossover != "both" else ("gene", "layer")[int(rng.integers(2))]
            child = CROSSOVERS[mode](a, b, space, rng)
            parents = (a.short_key(), b.short_key())
        else:
            child, parents = a, (a.short_key(),)
        if rng.random() < mutation_rate:
            child = mutate(child, space, rng)
    for _ in range(5):  # steer away from genomes already seen
        if not seen(child.key()):
            break
        child = move(child, space, rng)
    return child, parents
