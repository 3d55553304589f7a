import copy

import numpy as np
import pytest

from skevonas.evolution.operators import (
    crossover_genes,
    crossover_layers,
    mutate,
    nudge,
    offspring,
    roulette,
    tournament,
)
from skevonas.spaces.catalogue import cnn_space, mlp_space
from skevonas.spaces.domains import Choice, Float, Int, LayerSpec
from skevonas.spaces.genome import Genome
from skevonas.spaces.space import SearchSpace

SPACES = {
    "mlp": mlp_space().bind((12,)),
    "cnn1d": cnn_space(1).bind((6, 128)),
    "cnn1d-short": cnn_space(1).bind((2, 6)),
    "cnn2d": cnn_space(2).bind((1, 8, 8)),
}


@pytest.fixture(params=sorted(SPACES))
def space(request):
    return SPACES[request.param]


def test_operators_keep_inputs_and_return_genomes_in_space(space):
    rng = np.random.default_rng(0)
    for _ in range(100):
        a, b = space.sample(rng), space.sample(rng)
        before = (copy.deepcopy(a.to_dict()), copy.deepcopy(b.to_dict()))
        children = [
            crossover_genes(a, b, space, rng),
            crossover_layers(a, b, space, rng),
            mutate(a, space, rng),
        ]
        assert (a.to_dict(), b.to_dict()) == before
        for child in children:
            assert isinstance(child, Genome)
            assert space.contains(child), child


def test_mutation_always_changes_the_genome(space):
    rng = np.random.default_rng(1)
    for _ in range(200):
        genome = space.sample(rng)
        assert mutate(genome, space, rng).key() != genome.key()


def test_gene_wise_crossover_takes_each_gene_from_a_parent():
    space = SPACES["mlp"]
    rng = np.random.default_rng(2)
    for _ in range(100):
        a, b = space.sample(rng), space.sample(rng)
        child = crossover_genes(a, b, space, rng)
        assert len(child.layers) in (len(a.layers), len(b.layers))
        for name, value in child.globals:
            assert value in (a[name], b[name])
        for i, layer in enumerate(child.layers):
            sources = [p.layers[i] for p in (a, b) if i < len(p.layers)]
            for name, value in layer.params:
                assert value in [s[name] for s in sources]


def test_layer_wise_crossover_inherits_whole_layers():
    space = SPACES["mlp"]
    rng = np.random.default_rng(3)
    for _ in range(100):
        a, b = space.sample(rng), space.sample(rng)
        child = crossover_layers(a, b, space, rng)
        # The child's layers are a prefix of a's followed by a suffix of b's.
        splits = [
            a.layers[:i] + b.layers[j:]
            for i in range(len(a.layers) + 1)
            for j in range(len(b.layers) + 1)
        ]
        assert child.layers in splits
        assert space.min_layers <= len(child.layers) <= space.max_layers


def test_layer_wise_crossover_can_change_depth():
    space = SPACES["cnn1d"]
    rng = np.random.default_rng(4)
    depths = set()
    for _ in range(100):
        a, b = space.sample(rng), space.sample(rng)
        child = crossover_layers(a, b, space, rng)
        depths.add(len(child.layers) - len(a.layers))
    assert len(depths) > 3


def test_tournament_favours_fitter_genomes():
    rng = np.random.default_rng(0)
    scores = [0.1, 0.2, 0.3, 0.9]
    picks = tournament(scores, 2000, rng, size=3)
    counts = np.bincount(picks, minlength=4)
    assert counts[3] > counts[2] > counts[1] >= counts[0]
    assert counts[0] == 0  # the worst never wins a 3-way tournament of 4 distinct entrants


def test_roulette_is_fitness_proportional_and_skips_failures():
    rng = np.random.default_rng(0)
    picks = roulette([0.5, 0.6, 0.9, float("nan")], 4000, rng)
    counts = np.bincount(picks, minlength=4)
    assert counts[3] == 0
    assert counts[2] > counts[1] > counts[0] > 0
    # Negative scores (e.g. neg_log_loss) work too.
    picks = roulette([-2.0, -0.1], 1000, rng)
    assert np.bincount(picks, minlength=2)[1] > 900


def test_operators_are_reproducible():
    space = SPACES["cnn1d"]
    outs = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        a, b = space.sample(rng), space.sample(rng)
        outs.append(
            [
                crossover_genes(a, b, space, rng).key(),
                crossover_layers(a, b, space, rng).key(),
                mutate(a, space, rng).key(),
            ]
        )
    assert outs[0] == outs[1]


# --------------------------------------------------------------------------- small steps
def _differences(a: Genome, b: Genome) -> list[tuple[int | None, str]]:
    """The genes where ``a`` and ``b`` differ (same depth and layer kinds)."""
    found = [(None, name) for name in dict(a.globals) if a[name] != b[name]]
    for i, (la, lb) in enumerate(zip(a.layers, b.layers, strict=True)):
        assert la.kind == lb.kind
        found += [(i, name) for name in dict(la.params) if la[name] != lb[name]]
    return found


def _shrunk(site: tuple[int | None, str], genome: Genome, child: Genome) -> bool:
    """Whether the repair shrank this kernel or pool to fit the signal."""
    i, name = site
    return (
        i is not None
        and name in ("kernel_size", "pool_size")
        and child.layers[i][name] < genome.layers[i][name]
    )


def test_nudge_moves_one_ordered_gene_by_its_smallest_step(space):
    rng = np.random.default_rng(0)
    for _ in range(100):
        genome = space.sample(rng)
        before = copy.deepcopy(genome.to_dict())
        child = nudge(genome, space, rng)
        assert genome.to_dict() == before and space.contains(child)
        if len(child.layers) != len(genome.layers):
            continue  # a repair dropped a layer that no longer fits (the short space)
        changed = _differences(genome, child)

        moved = [site for site in changed if not _shrunk(site, genome, child)]
        assert changed and len(moved) <= 1, changed
        index, name = (moved or changed)[0]
        old = genome[name] if index is None else genome.layers[index][name]
        new = child[name] if index is None else child.layers[index][name]
        if not moved:
            continue
        assert not isinstance(old, str) and not isinstance(old, bool), (name, old, new)
        domain = (
            dict(space.globals)[name]
            if index is None
            else space.layer_spec(genome.layers[index].kind).domains[name]
        )
        if isinstance(domain, Choice):  # a neighbour among the sorted options
            ordered = sorted(domain.options)
            assert abs(ordered.index(new) - ordered.index(old)) == 1
        elif isinstance(domain, Int) and not domain.log:
            assert abs(new - old) == 1
        elif isinstance(domain, Float) and not domain.log:
            assert abs(new - old) <= 0.05 * (domain.high - domain.low) + 1e-9


def test_nudge_falls_back_to_mutation_when_nothing_can_move():
    space = mlp_space().bind((4,))
    frozen = SearchSpace(
        "mlp",
        [LayerSpec("dense", {"units": Choice((8,)), "activation": Choice(("relu", "elu"))})],
        {"optimizer": Choice(("adam",))},
        min_layers=1,
        max_layers=2,
    ).bind((4,))
    genome = frozen.sample(np.random.default_rng(0))
    child = nudge(genome, frozen, np.random.default_rng(0))
    assert child.key() != genome.key() and frozen.contains(child)
    assert space.contains(
        nudge(space.sample(np.random.default_rng(1)), space, np.random.default_rng(2))
    )


def test_a_local_child_is_one_small_step_from_an_elite():
    space = SPACES["mlp"]
    rng = np.random.default_rng(0)
    ranked = [space.sample(rng) for _ in range(6)]
    elites = {g.short_key(): g for g in ranked[:2]}
    for _ in range(30):
        child, parents = offspring(
            ranked,
            [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
            space,
            rng,
            **BREEDING,
            local_rate=1.0,
            n_elites=2,
            seen=lambda k: False,
        )
        assert len(parents) == 1 and parents[0] in elites
        assert len(_differences(elites[parents[0]], child)) == 1


def test_local_rate_zero_breeds_as_before():
    # No draw is spent on the choice: the same children as a breeding without it.
    space = SPACES["cnn1d"]
    ranked = [space.sample(np.random.default_rng(i)) for i in range(5)]
    scores = [0.5, 0.4, 0.3, 0.2, 0.1]
    first = offspring(
        ranked, scores, space, np.random.default_rng(3), **BREEDING, seen=lambda k: False
    )
    second = offspring(
        ranked,
        scores,
        space,
        np.random.default_rng(3),
        **BREEDING,
        local_rate=0.0,
        n_elites=2,
        seen=lambda k: False,
    )
    assert first[0].key() == second[0].key() and first[1] == second[1]
    # a local child already seen is nudged again, not mutated far away
    rng = np.random.default_rng(4)
    seen = {nudge(ranked[0], space, np.random.default_rng(4)).key()}
    child, _ = offspring(
        ranked[:1],
        scores[:1],
        space,
        rng,
        **BREEDING,
        local_rate=1.0,
        n_elites=1,
        seen=lambda k: k in seen,
    )
    assert child.key() not in seen and len(child.layers) == len(ranked[0].layers)


BREEDING = {
    "selection": "tournament",
    "tournament_size": 2,
    "crossover": "both",
    "crossover_rate": 0.5,
    "mutation_rate": 0.8,
}
