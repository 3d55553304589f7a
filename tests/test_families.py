import numpy as np
import pytest
import torch

from skevonas.settings import initial_genomes
from skevonas.spaces.catalogue import (
    SPACES,
    get_space,
    standard_image_cnn_genome,
    standard_mlp_genome,
)
from skevonas.spaces.domains import TRAINING_GENES, Choice, LayerSpec
from skevonas.spaces.eeg_space import standard_eeg_genomes
from skevonas.spaces.families import (
    FAMILIES,
    Family,
    families_with_rank,
    family_for_rank,
    get_family,
)
from skevonas.spaces.networks import build_module
from skevonas.spaces.shapes import AUTO_FAMILIES, FAMILY_SHAPES
from skevonas.spaces.space import SearchSpace

# A small sample of each rank: a feature vector, an EEG-like epoch, an image.
SMALL_SHAPES = {1: (6,), 2: (3, 40), 3: (2, 9, 9)}


def test_the_registry_lists_every_family_in_rank_order():
    assert list(FAMILIES) == ["mlp", "cnn1d", "eeg", "cnn2d"]
    assert all(isinstance(family, Family) for family in FAMILIES.values())
    assert [family.name for family in FAMILIES.values()] == list(FAMILIES)
    assert [family.input_ndim for family in FAMILIES.values()] == [1, 2, 2, 3]


def test_the_registry_and_the_torch_free_tables_agree():
    # shapes.py and spaces.py hold the parts that must not need torch.
    assert FAMILIES.keys() == FAMILY_SHAPES.keys()
    for name, family in FAMILIES.items():
        assert family.shape_rule is FAMILY_SHAPES[name]
        assert family.default_space is SPACES[name]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_default_space_is_of_its_own_family_and_rank(name):
    family = FAMILIES[name]
    space = family.default_space()
    assert space.family == name and space.name == name
    assert space.input_ndim == family.input_ndim
    assert space.shape_rule is family.shape_rule


@pytest.mark.parametrize("name", list(FAMILIES))
def test_a_sampled_genome_of_the_default_space_builds_and_runs(name):
    family = FAMILIES[name]
    shape = SMALL_SHAPES[family.input_ndim]
    space = family.default_space().bind(shape)
    rng = np.random.default_rng(0)
    for _ in range(5):
        genome = space.sample(rng)
        layers = family.builder(genome, shape, 3)
        assert layers[-1][0] == "output"
        net = build_module(genome, shape, 3).eval()
        with torch.no_grad():
            assert net(torch.zeros((2, *shape))).shape == (2, 3)


def test_seed_genomes_are_the_standard_networks_and_lie_in_the_default_spaces():
    eeg = get_family("eeg")
    assert eeg.seed_genomes() == standard_eeg_genomes()
    space = eeg.default_space().bind((6, 896))
    assert all(space.contains(genome) for genome in eeg.seed_genomes())
    mlp = get_family("mlp")
    assert mlp.seed_genomes() == [standard_mlp_genome()]
    assert mlp.default_space().bind((784,)).contains(standard_mlp_genome())
    cnn2d = get_family("cnn2d")
    assert cnn2d.seed_genomes() == [standard_image_cnn_genome()]
    assert cnn2d.default_space().bind((1, 28, 28)).contains(standard_image_cnn_genome())
    assert FAMILIES["cnn1d"].seed_genomes() == []


@pytest.mark.parametrize(
    ("space", "shape", "expected"),
    [
        ("mlp", (20,), 1),
        ("naturalselection", (20,), 0),  # Keras optimizers, no lr gene
        ("keras_mlp", (20,), 0),
        ("eeg", (6, 896), 3),
        ("eeg", (28, 50), 3),  # short trials: repaired later, still seeded
        ("cnn1d", (6, 896), 0),
        ("cnn2d", (3, 32, 32), 1),
        ("cnn2d", (1, 8, 8), 1),  # small images: repaired later, still seeded
    ],
)
def test_seeds_for_keeps_the_seeds_a_space_can_express(space, shape, expected):
    bound = get_space(space, shape)
    seeds = get_family(bound.family).seeds_for(bound)
    assert len(seeds) == expected
    assert initial_genomes("auto", bound) == seeds


def test_seeds_for_drops_a_seed_with_a_layer_kind_the_space_lacks():
    narrow = SearchSpace(
        "eeg",
        [LayerSpec("temporal_conv", {"filters": Choice((8,))})],
        dict(TRAINING_GENES, head=Choice(("flatten",))),
    )
    assert get_family("eeg").seeds_for(narrow.bind((6, 100))) == []


def test_get_family_errors_list_the_families():
    assert get_family("cnn1d") is FAMILIES["cnn1d"]
    message = r"Unknown model family 'rnn'; must be one of \['cnn1d', 'cnn2d', 'eeg', 'mlp'\]"
    with pytest.raises(ValueError, match=message):
        get_family("rnn")
    with pytest.raises(ValueError, match="Unknown model family None"):
        get_family(None)  # type: ignore[arg-type]


def test_family_for_rank_is_the_auto_choice():
    assert [family_for_rank(n).name for n in (1, 2, 3)] == ["mlp", "eeg", "cnn2d"]
    for ndim, name in AUTO_FAMILIES.items():
        assert family_for_rank(ndim).input_ndim == ndim
        assert get_space("auto", SMALL_SHAPES[ndim]).family == name
    for ndim in (0, 4):
        with pytest.raises(ValueError, match=rf"one of \[1, 2, 3\] .*got {ndim} instead"):
            family_for_rank(ndim)


def test_families_with_rank():
    assert [f.name for f in families_with_rank(1)] == ["mlp"]
    assert [f.name for f in families_with_rank(2)] == ["cnn1d", "eeg"]
    assert [f.name for f in families_with_rank(3)] == ["cnn2d"]
    assert families_with_rank(4) == []


def test_build_module_rejects_unknown_families():
    from skevonas.spaces.genome import Genome

    with pytest.raises(ValueError, match="Unknown model family 'rnn'"):
        build_module(Genome("rnn", [], {}), (4,), 2)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (2, 5, 5)])
def test_the_image_seed_builds_on_any_image_size_after_repair(shape):
    space = get_space("cnn2d", shape)
    (seed,) = initial_genomes("auto", space)
    genome = space.repair(seed)
    assert space.contains(genome)
    net = build_module(genome, shape, 4).eval()
    with torch.no_grad():
        assert net(torch.zeros((2, *shape))).shape == (2, 4)
