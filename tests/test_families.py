import numpy as np
import pytest
import torch

from skevonas.eeg import standard_eeg_genomes
from skevonas.families import (
    FAMILIES,
    Family,
    families_with_rank,
    family_for_rank,
    get_family,
)
from skevonas.networks import build_module
from skevonas.shapes import AUTO_FAMILIES, FAMILY_SHAPES
from skevonas.spaces import SPACES, get_space

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


def test_seed_genomes_are_the_standard_eeg_networks_for_eeg_only():
    eeg = get_family("eeg")
    assert eeg.seed_genomes() == standard_eeg_genomes()
    space = eeg.default_space().bind((6, 896))
    assert all(space.contains(genome) for genome in eeg.seed_genomes())
    assert all(FAMILIES[name].seed_genomes() == [] for name in ("mlp", "cnn1d", "cnn2d"))


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
    from skevonas.genome import Genome

    with pytest.raises(ValueError, match="Unknown model family 'rnn'"):
        build_module(Genome("rnn", [], {}), (4,), 2)
