import copy

import numpy as np
import pytest

from skevonas.evolution.operators import (
    crossover_genes,
    crossover_layers,
    mutate,
    roulette,
    tournament,
)
from skevonas.spaces.catalogue import cnn_space, mlp_space
from skevonas.spaces.genome import Genome

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
