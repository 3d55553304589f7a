"""Weight inheritance (skevonas.training.inherit): the layer alignment, the tensor rules,
function preservation where the change allows it, and a property test over the real spaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skevonas.evolution.operators import crossover_genes, crossover_layers, mutate
from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.catalogue import get_space
from skevonas.spaces.eeg_space import eegnet_genome
from skevonas.spaces.genome import Genome, LayerGene
from skevonas.spaces.networks import build_module
from skevonas.training.inherit import (
    Inheritance,
    align_layers,
    crossover_parent,
    inherit,
    initial_state,
)

TRAIN = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32}


# --------------------------------------------------------------------------- helpers
def dense(units, activation="relu", dropout=0.0):
    return LayerGene("dense", {"units": units, "activation": activation, "dropout": dropout})


def conv(filters, kernel=3, stride=1):
    return LayerGene("conv", {"filters": filters, "kernel_size": kernel, "stride": stride})


def temporal(filters, kernel=5, padding="same", dilation=1):
    params = {"filters": filters, "kernel_size": kernel, "padding": padding, "dilation": dilation}
    return LayerGene("temporal_conv", params)


BN, ELU = LayerGene("batchnorm"), LayerGene("elu")


def trained_state(genome, shape, n_classes=3, seed=0, stats=None):
    """A parent's state as after training: random weights, batch norms off their start."""
    state = initial_state(genome, shape, n_classes, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    for key, value in state.items():
        if key.endswith(("running_mean", "bias")):
            state[key] = value + 0.3 * torch.randn(value.shape, generator=gen)
        elif key.endswith("running_var") or (key.endswith("weight") and value.dim() == 1):
            state[key] = 0.5 + torch.rand(value.shape, generator=gen)
    if stats is not None:
        front = build_module(genome, shape, n_classes, input_stats=stats).standardize
        state = {f"standardize.{k}": v for k, v in front.state_dict().items()} | state
    return state


def net(genome, shape, state, n_classes=3, stats=None):
    with torch.random.fork_rng(devices=[]):
        module = build_module(genome, shape, n_classes, input_stats=stats)
    module.load_state_dict(state, strict=True)
    return module.eval()


def outputs(genome, shape, state, n_classes=3, stats=None):
    x = torch.randn((16, *shape), generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        return net(genome, shape, state, n_classes, stats)(x)


def assert_same_function(parent, child, shape, n_classes=3):
    state = trained_state(parent, shape, n_classes)
    got = inherit(parent, state, child, shape, n_classes, seed=5)
    expected = outputs(parent, shape, state, n_classes)
    actual = outputs(child, shape, got.state, n_classes)
    torch.testing.assert_close(actual, expected, atol=1e-6, rtol=1e-6)
    return got


# --------------------------------------------------------------------------- the alignment
def test_alignment_shifts_the_layers_after_an_inserted_or_removed_one():
    a, b, c = conv(8), LayerGene("maxpool", {"pool_size": 2}), conv(16)
    assert align_layers([a, b, c], [a, b, c]) == {0: 0, 1: 1, 2: 2}
    assert align_layers([a, b, c], [a, ELU, b, c]) == {0: 0, 2: 1, 3: 2}
    assert align_layers([a, b, c], [a, c]) == {0: 0, 1: 2}
    assert align_layers([a, b, c], [b, c]) == {0: 1, 1: 2}
    assert align_layers([a, b, c], []) == {}
    assert align_layers([], [a]) == {}


def test_alignment_prefers_identical_genes_then_earlier_matches():
    d16, d32, d64 = dense(16), dense(32), dense(64)
    # a changed width still corresponds (same kind)
    assert align_layers([d16, d32], [d64, d32]) == {0: 0, 1: 1}
    # the removed layer is the one whose neighbours then match exactly
    assert align_layers([d16, d32, d64], [d16, d64]) == {0: 0, 1: 2}
    # a duplicated layer: the first copy inherits, the second is new
    assert align_layers([d64, d32], [d64, d64, d32]) == {0: 0, 2: 1}
    # kinds never mix, and identity layers correspond to nothing
    identity = LayerGene("identity")
    assert align_layers([conv(8), identity], [identity, BN, conv(8)]) == {2: 0}


def test_crossover_parent_is_the_one_that_gave_most_layers():
    a = Genome("cnn1d", [conv(8), BN, conv(16)], {**TRAIN, "head": "flatten"})
    b = Genome("cnn1d", [conv(32, 5), ELU, conv(64, 7)], {**TRAIN, "head": "flatten"})
    assert crossover_parent(Genome("cnn1d", [conv(8), BN, conv(64, 7)]), [a, b]) == 0
    assert crossover_parent(Genome("cnn1d", [conv(32, 5), ELU, conv(16)]), [a, b]) == 1
    assert crossover_parent(Genome("cnn1d", [conv(8), ELU, conv(64, 7)]), [a, b]) == 1
    assert crossover_parent(Genome("cnn1d", [conv(8), conv(64, 7)]), [a, b]) == 0  # a tie
    assert crossover_parent(a, [a]) == 0
    with pytest.raises(ValueError, match="at least one"):
        crossover_parent(a, [])


# --------------------------------------------------------------------------- fresh weights
@pytest.mark.parametrize(
    "genome, shape",
    [
        (eegnet_genome(), (4, 64)),
        (Genome("cnn2d", [conv(8), BN, ELU, conv(4, 2)], {**TRAIN, "head": "avg"}), (2, 9, 9)),
        (
            Genome(
                "mlp",
                [],
                {"depth": 2, "units": 16, "activation": "relu", "initializer": "glorot_uniform"},
            ),
            (6,),
        ),
        (Genome("mlp", [dense(16), dense(0)], {"initializer": "he_normal"}), (6,)),
    ],
    ids=["eegnet", "cnn2d", "keras-uniform", "keras-normal"],
)
def test_fresh_weights_are_the_childs_own_and_leave_the_global_rng_alone(genome, shape):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        expected = build_module(genome, shape, 3).state_dict()
    before = torch.random.get_rng_state()
    state = initial_state(genome, shape, 3, seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def test_inheritance_is_deterministic_whatever_ran_before():
    parent = eegnet_genome()
    child = Genome("eeg", [temporal(16, 9), *parent.layers[1:]], dict(parent.globals))
    state = trained_state(parent, (4, 64))
    before = torch.random.get_rng_state()
    first = inherit(parent, state, child, (4, 64), 3, seed=11)
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(123)
    torch.rand(1000)
    second = inherit(parent, state, child, (4, 64), 3, seed=11)
    other = inherit(parent, state, child, (4, 64), 3, seed=12)
    assert all(torch.equal(first.state[k], second.state[k]) for k in first.state)
    assert not all(torch.equal(first.state[k], other.state[k]) for k in first.state)
    assert (first.copied, first.total, first.origins) == (
        second.copied,
        second.total,
        second.origins,
    )


# --------------------------------------------------------------------------- the rules
@pytest.mark.parametrize(
    "parent, shape, changes",
    [
        (
            Genome("mlp", [dense(32, "relu", 0.2), dense(16, "tanh")], TRAIN),
            (6,),
            {"lr": 0.01, "optimizer": "sgd", "batch_size": 64},
        ),
        (eegnet_genome(), (4, 64), {"lr": 3e-4}),
    ],
)
def test_a_change_of_global_genes_keeps_every_tensor(parent, shape, changes):
    state = trained_state(parent, shape)
    got = inherit(parent, state, parent.replace(**changes), shape, 3, seed=0)
    assert isinstance(got, Inheritance)
    assert got.state.keys() == state.keys()
    assert all(torch.equal(got.state[k], state[k]) for k in state)
    assert got.copied == got.total and got.fraction == 1.0
    assert set(got.origins.values()) == {"copied"}


def test_a_changed_dropout_rate_keeps_every_tensor():
    parent = Genome(
        "cnn1d",
        [conv(8), LayerGene("dropout", {"rate": 0.1}), conv(4)],
        {**TRAIN, "head": "flatten"},
    )
    child = parent.replace(layers=[conv(8), LayerGene("dropout", {"rate": 0.5}), conv(4)])
    got = assert_same_function(parent, child, (2, 20))
    assert got.copied == got.total


def test_a_widened_dense_layer_computes_what_the_parent_computed():
    parent = Genome("mlp", [dense(32, "relu", 0.3), dense(16, "tanh")], TRAIN)
    for widths in ([64, 16], [32, 64], [128, 128]):
        child = Genome(
            "mlp",
            [
                dense(w, a, d)
                for w, (a, d) in zip(widths, [("relu", 0.3), ("tanh", 0.0)], strict=True)
            ],
            TRAIN,
        )
        got = assert_same_function(parent, child, (6,))
        assert got.origins["dense_0.weight"] == ("resized" if widths[0] != 32 else "copied")
        assert 0 < got.copied < got.total


def test_widened_filters_with_batchnorm_between_compute_what_the_parent_computed():
    pool = LayerGene("maxpool", {"pool_size": 2})
    layers = [conv(8, 5), BN, ELU, pool, conv(16), BN, ELU]
    for family, shape in (("cnn1d", (3, 40)), ("cnn2d", (2, 14, 14))):
        for head in ("flatten", "avg") if family == "cnn2d" else ("flatten",):
            parent = Genome(family, layers, {**TRAIN, "head": head})
            child = parent.replace(layers=[conv(16, 5), BN, ELU, pool, conv(32), BN, ELU])
            got = assert_same_function(parent, child, shape)
            assert got.origins["batchnorm_1.running_var"] == "resized"
            new = slice(8, 16)
            assert torch.equal(got.state["batchnorm_1.weight"][new], torch.ones(8))
            assert torch.equal(got.state["batchnorm_1.bias"][new], torch.zeros(8))
            assert torch.equal(got.state["batchnorm_1.running_mean"][new], torch.zeros(8))
            assert torch.equal(got.state["batchnorm_1.running_var"][new], torch.ones(8))
            assert not got.state["conv_4.weight"][:16, 8:].any()  # old units, new inputs: 0


def test_widened_eeg_filters_through_depthwise_and_separable_convolutions():
    parent = eegnet_genome()
    child = Genome("eeg", [temporal(16, 32), *parent.layers[1:]], dict(parent.globals))
    parent = Genome("eeg", [temporal(8, 32), *parent.layers[1:]], dict(parent.globals))
    got = assert_same_function(parent, child, (4, 64))
    assert got.origins["spatial_conv_2.weight"] == "resized"


def test_mlps_of_global_genes_grow_deeper_and_wider_keeping_their_function():
    keras = {
        "depth": 2,
        "units": 16,
        "activation": "relu",
        "dropout": 0.2,
        "initializer": "glorot_uniform",
        "optimizer": "keras_adam",
        "batch_size": 32,
    }
    parent = Genome("mlp", [], keras)
    got = assert_same_function(parent, parent.replace(depth=3), (6,))
    assert got.origins["dense_2.weight"] == "identity" and got.layers == {0: 0, 1: 1}
    assert_same_function(parent, parent.replace(units=64), (6,))


def test_narrowed_layers_keep_their_first_units():
    parent = Genome("mlp", [dense(32), dense(16)], TRAIN)
    child = Genome("mlp", [dense(16), dense(16)], TRAIN)
    state = trained_state(parent, (6,))
    got = inherit(parent, state, child, (6,), 3, seed=0)
    assert torch.equal(got.state["dense_0.weight"], state["dense_0.weight"][:16])
    assert torch.equal(got.state["dense_0.bias"], state["dense_0.bias"][:16])
    assert torch.equal(got.state["dense_1.weight"], state["dense_1.weight"][:, :16])


@pytest.mark.parametrize("dilation", [1, 2])
def test_a_longer_same_padded_kernel_holds_the_old_one_at_its_centre(dilation):
    rest = [BN, ELU, LayerGene("avgpool", {"pool_size": 4, "stride": 4})]
    parent = Genome("eeg", [temporal(8, 5, dilation=dilation), *rest], TRAIN)
    child = Genome("eeg", [temporal(8, 9, dilation=dilation), *rest], TRAIN)
    got = assert_same_function(parent, child, (3, 48))
    kernel = got.state["temporal_conv_0.1.weight"]
    assert not kernel[..., :2].any() and not kernel[..., 7:].any()
    # and back: the centre crop
    state = trained_state(child, (3, 48))
    back = inherit(child, state, parent, (3, 48), 3, seed=0)
    old = state["temporal_conv_0.1.weight"]
    assert torch.equal(back.state["temporal_conv_0.1.weight"], old[..., 2:7])


def test_new_layers_start_as_the_identity_where_the_family_allows():
    # a dense layer of equal width between ReLUs
    parent = Genome("mlp", [dense(16), dense(8)], TRAIN)
    child = Genome("mlp", [dense(16), dense(16), dense(8)], TRAIN)
    got = assert_same_function(parent, child, (6,))
    assert got.origins["dense_1.weight"] == "identity" and got.layers == {0: 0, 2: 1}
    # ... but not after a tanh, nor on the raw inputs
    tanh = Genome("mlp", [dense(16, "tanh"), dense(16), dense(8)], TRAIN)
    got = inherit(
        parent.replace(layers=[dense(16, "tanh"), dense(8)]),
        trained_state(parent, (6,)),
        tanh,
        (6,),
        3,
        seed=0,
    )
    assert got.origins["dense_1.weight"] == "fresh"
    # a batch norm anywhere; temporal and separable convolutions with "same" padding
    pool = LayerGene("avgpool", {"pool_size": 4, "stride": 4})
    parent = Genome("eeg", [temporal(8, 5), ELU, pool], TRAIN)
    separable = LayerGene("separable_conv", {"filters": 8, "kernel_size": 4, "padding": "same"})
    for new in (BN, temporal(8, 7), temporal(8, 3, dilation=2), separable):
        child = parent.replace(layers=[temporal(8, 5), new, ELU, pool])
        got = assert_same_function(parent, child, (3, 48))
        assert {got.origins[k] for k in got.state if k.startswith(f"{new.kind}_1")} == {"identity"}
    # a new plain convolution (valid padding) is fresh
    cnn = Genome("cnn1d", [conv(8), ELU], {**TRAIN, "head": "flatten"})
    got = inherit(
        cnn,
        trained_state(cnn, (3, 30)),
        cnn.replace(layers=[conv(8), conv(8), ELU]),
        (3, 30),
        3,
        seed=0,
    )
    assert got.origins["conv_1.weight"] == "fresh" and got.origins["conv_0.weight"] == "copied"


def test_an_avg_head_turned_flatten_computes_what_the_parent_computed():
    layers = [conv(8), BN, ELU]
    parent = Genome("cnn2d", layers, {**TRAIN, "head": "avg"})
    assert_same_function(parent, parent.replace(head="flatten"), (2, 9, 9))
    # the way back is exact only for constant maps, but inherits the output layer
    state = trained_state(parent.replace(head="flatten"), (2, 9, 9))
    got = inherit(parent.replace(head="flatten"), state, parent, (2, 9, 9), 3, seed=0)
    summed = state["output.weight"].reshape(3, 8, 49).sum(-1)
    torch.testing.assert_close(got.state["output.weight"], summed)


def test_an_output_layer_of_the_same_width_over_other_maps_is_relaid():
    # 8 maps x 10 positions, then 16 maps x 5 positions: 80 inputs either way
    parent = Genome("cnn1d", [conv(8), LayerGene("maxpool", {"pool_size": 2})], TRAIN)
    child = Genome("cnn1d", [conv(16), LayerGene("maxpool", {"pool_size": 4})], TRAIN)
    state = trained_state(parent, (3, 22))
    got = inherit(parent, state, child, (3, 22), 3, seed=0)
    assert got.origins["output.weight"] == "resized"
    old = state["output.weight"].reshape(3, 8, 10)[:, :, 2:7]  # the centre 5 positions
    new = got.state["output.weight"].reshape(3, 16, 5)
    assert torch.equal(new[:, :8], old) and not new[:, 8:].any()


def test_a_removed_layer_lets_the_rest_inherit_by_the_alignment():
    parent = Genome("cnn1d", [conv(8), BN, conv(16), BN, ELU], {**TRAIN, "head": "flatten"})
    child = parent.replace(layers=[conv(8), conv(16), BN, ELU])
    state = trained_state(parent, (3, 30))
    got = inherit(parent, state, child, (3, 30), 3, seed=0)
    assert got.layers == {0: 0, 1: 2, 2: 3, 3: 4}
    assert torch.equal(got.state["conv_1.weight"], state["conv_2.weight"])
    assert torch.equal(got.state["batchnorm_2.running_var"], state["batchnorm_3.running_var"])


def test_the_standardize_front_comes_with_the_parent():
    X = np.random.default_rng(0).normal(3.0, 2.0, size=(20, 3, 30)).astype(np.float32)
    stats = channel_stats(X)
    parent = Genome("cnn1d", [conv(8), ELU], {**TRAIN, "head": "flatten"})
    child = parent.replace(layers=[conv(16), ELU])
    state = trained_state(parent, (3, 30), stats=stats)
    got = inherit(parent, state, child, (3, 30), 3, seed=0)
    assert got.origins["standardize.mean"] == "copied"
    x = torch.randn((4, 3, 30), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = net(parent, (3, 30), state, stats=stats)(x)
        actual = net(child, (3, 30), got.state, stats=stats)(x)
    torch.testing.assert_close(actual, expected, atol=1e-6, rtol=1e-6)


def test_a_state_that_is_not_the_parents_is_refused():
    parent = Genome("mlp", [dense(16)], TRAIN)
    state = trained_state(Genome("mlp", [dense(32)], TRAIN), (6,))
    with pytest.raises(ValueError, match="parent_state is not the state"):
        inherit(parent, state, parent, (6,), 3, seed=0)


# --------------------------------------------------------------------------- every space
# the presets' MLPs are wide (up to 1024 units): fewer rounds
SPACES = [
    ("mlp", (10,), 15),
    ("cnn1d", (3, 40), 15),
    ("cnn2d", (2, 10, 10), 15),
    ("eeg", (4, 48), 15),
    ("keras_mlp", (10,), 6),
    ("naturalselection", (10,), 6),
]


@pytest.mark.parametrize("name, shape, rounds", SPACES, ids=[name for name, *_ in SPACES])
def test_every_mutated_or_crossed_child_gets_a_complete_loadable_state(name, shape, rounds):
    space = get_space(name, shape)
    rng = np.random.default_rng(0)
    for round_ in range(rounds):
        parent = space.sample(rng)
        child = mutate(parent, space, rng)
        if round_ % 3 == 1:
            child = mutate(child, space, rng)
        if round_ % 3 == 2:
            other = space.sample(rng)
            cross = (crossover_genes, crossover_layers)[round_ % 2]
            child = mutate(cross(parent, other, space, rng), space, rng)
            parent = [parent, other][crossover_parent(child, [parent, other])]
        state = trained_state(parent, shape, seed=round_)
        got = inherit(parent, state, child, shape, 3, seed=round_)
        module = net(child, shape, got.state)  # strict: every key, every shape
        assert set(got.origins) == set(got.state) and 0 <= got.copied <= got.total
        with torch.no_grad():
            assert torch.isfinite(module(torch.zeros((2, *shape)))).all()
        again = inherit(parent, state, child, shape, 3, seed=round_)
        assert all(torch.equal(got.state[k], again.state[k]) for k in got.state)
