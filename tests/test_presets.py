import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from torch import nn

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene
from skevonas.evolution.operators import crossover_genes, crossover_layers, mutate
from skevonas.spaces.domains import Choice, Int
from skevonas.spaces.networks import build_module
from skevonas.spaces.presets import (
    KERAS_MLP_CHOICES,
    keras_mlp_genome,
    keras_mlp_grid,
    keras_mlp_space,
    naturalselection_space,
)
from skevonas.spaces.presets.keras import INITIALIZERS, KERAS_OPTIMIZERS, initialize_linear
from skevonas.training.recipe import OPTIMIZERS, make_net, optimizer_for, optimizer_names

ACTIVATION_TYPES = {"relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def n_genomes(space):
    """Number of genomes of a space whose domains are all Int or Choice."""

    def size(domain):
        assert isinstance(domain, (Int, Choice))
        return domain.high - domain.low + 1 if isinstance(domain, Int) else len(domain.options)

    per_layer = math.prod(size(d) for spec in space.layers for _, d in spec.params)
    assert space.min_layers == space.max_layers  # a fixed number of layer slots
    return math.prod(size(d) for _, d in space.globals) * per_layer**space.max_layers


# --------------------------------------------------------------------------- sizes
def test_keras_space_has_the_672_networks_of_the_ga():
    space = keras_mlp_space()
    assert space.family == "mlp" and space.name == "keras_mlp"
    assert n_genomes(space) == 672 == 6 * 4 * 4 * 7


def test_keras_grid_is_the_whole_space():
    space = keras_mlp_space()
    grid = keras_mlp_grid()
    assert len(grid) == 672
    assert len({g.key() for g in grid}) == 672
    assert all(space.contains(g) for g in grid)
    # Each of the GA's networks appears once, as the genes say.
    seen = {(g["depth"], g["units"], g["activation"], g["optimizer"]) for g in grid}
    expected = {
        (depth, units, activation, f"keras_{optimizer}")
        for depth in KERAS_MLP_CHOICES["nb_layers"]
        for units in KERAS_MLP_CHOICES["nb_neurons"]
        for activation in KERAS_MLP_CHOICES["activation"]
        for optimizer in KERAS_MLP_CHOICES["optimizer"]
    }
    assert seen == expected
    # Sampling finds nothing outside the grid.
    keys = {g.key() for g in grid}
    rng = np.random.default_rng(0)
    assert all(space.sample(rng).key() in keys for _ in range(200))


def test_naturalselection_space_size_and_defaults():
    space = naturalselection_space()
    assert space.family == "mlp" and space.name == "naturalselection"
    assert (space.min_layers, space.max_layers) == (5, 5)
    # 7 optimizers, 6 initializers, 4 activations, 8 batch sizes, 6 input
    # dropouts; 5 slots of 8 widths (0 = no layer) x 6 dropouts.
    assert n_genomes(space) == 7 * 6 * 4 * 8 * 6 * (8 * 6) ** 5
    dense = space.layer_spec("dense").domains
    assert dense["units"].options == (0, 16, 32, 64, 128, 256, 512, 1024)
    assert dense["dropout"].options == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    assert naturalselection_space(max_layers=3).max_layers == 3


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: keras_mlp_space(batch_size=0), "batch_size must be an int >= 1, got 0 instead"),
        (lambda: keras_mlp_grid(batch_size=1.5), "batch_size must be an int >= 1"),
        (lambda: naturalselection_space(max_layers=0), "max_layers must be an int >= 1"),
        (
            lambda: keras_mlp_genome(2, 100, "relu", "adam"),
            r"nb_neurons must be one of \[64, 128, 256, 512, 768, 1024\], got 100 instead",
        ),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- building
def _structure(net):
    linears = [m for m in net if isinstance(m, nn.Linear)]
    activations = [type(m) for m in net if type(m) in ACTIVATION_TYPES.values()]
    dropouts = [m.p for m in net if isinstance(m, nn.Dropout)]
    return linears, activations, dropouts


def test_every_grid_genome_builds_the_network_of_the_ga():
    # On the meta device: the structure without allocating the weights.
    with torch.device("meta"):
        for genome in keras_mlp_grid():
            net = build_module(genome, (784,), n_classes=10)
            linears, activations, dropouts = _structure(net)
            depth, units = genome["depth"], genome["units"]
            assert len(linears) == depth + 1
            assert [m.out_features for m in linears] == [units] * depth + [10]
            assert linears[0].in_features == 784
            assert activations == [ACTIVATION_TYPES[genome["activation"]]] * depth
            assert dropouts == [0.2] * depth
            assert net.output is linears[-1]


def test_keras_networks_run_with_keras_initial_weights():
    torch.manual_seed(0)
    for depth in (1, 4):
        genome = keras_mlp_genome(depth, 64, "sigmoid", "sgd")
        net = build_module(genome, (20,), n_classes=3)
        out = net.eval()(torch.zeros((2, 20)))
        assert out.shape == (2, 3)
        for layer in (m for m in net if isinstance(m, nn.Linear)):
            fan_in, fan_out = layer.in_features, layer.out_features
            assert layer.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out))
            assert torch.count_nonzero(layer.bias) == 0


def test_naturalselection_genome_builds_slots_with_absent_layers():
    layers = [
        LayerGene("dense", {"units": 0, "dropout": 0.1}),  # no layer, but its dropout
        LayerGene("dense", {"units": 512, "dropout": 0.0}),
        LayerGene("dense", {"units": 128, "dropout": 0.3}),
        LayerGene("dense", {"units": 0, "dropout": 0.0}),  # nothing at all
        LayerGene("dense", {"units": 32, "dropout": 0.0}),
    ]
    genome = Genome(
        "mlp",
        layers,
        {
            "optimizer": "tf_keras_adam",
            "initializer": "he_normal",
            "activation": "softsign",
            "batch_size": 1024,
            "input_dropout": 0.2,
        },
    )
    assert naturalselection_space().contains(genome)
    net = build_module(genome, (784,), n_classes=10)
    kinds = [type(m).__name__ for m in net]
    assert kinds == [
        "Flatten",
        "Dropout",  # input dropout
        "Dropout",  # the dropout of the absent first layer
        "Linear",
        "Softsign",
        "Linear",
        "Softsign",
        "Dropout",
        "Linear",
        "Softsign",
        "Linear",
    ]
    assert [m.p for m in net if isinstance(m, nn.Dropout)] == [0.2, 0.1, 0.3]
    assert [m.out_features for m in net if isinstance(m, nn.Linear)] == [512, 128, 32, 10]
    assert net(torch.zeros((2, 784))).shape == (2, 10)


def test_all_slots_empty_is_a_linear_model():
    space = naturalselection_space()
    genome = space.repair(Genome("mlp", [], {}))  # padded with empty slots
    assert space.contains(genome)
    assert [layer["units"] for layer in genome.layers] == [0] * 5
    net = build_module(genome, (6,), n_classes=2)
    assert [type(m).__name__ for m in net] == ["Flatten", "Linear"]


@pytest.mark.parametrize(
    "name, std",
    [("he_normal", math.sqrt(2 / 784)), ("lecun_normal", math.sqrt(1 / 784))],
)
def test_normal_initializers_have_keras_spread(name, std):
    torch.manual_seed(0)
    genome = Genome(
        "mlp", [], {"depth": 1, "units": 1024, "activation": "relu", "initializer": name}
    )
    weight = build_module(genome, (784,), 10)[1].weight.detach()
    assert float(weight.std()) == pytest.approx(std, rel=0.02)
    assert float(weight.abs().max()) <= 2 * std / 0.8796 + 1e-6  # truncated at 2 sigma


def test_mlp_builder_errors():
    base = {"depth": 1, "units": 8, "activation": "relu"}
    with pytest.raises(ValueError, match="initializer must be one of"):
        build_module(Genome("mlp", [], {**base, "initializer": "orthogonal"}), (4,), 2)
    with pytest.raises(ValueError, match="layer genes must be 'identity'"):
        build_module(Genome("mlp", [LayerGene("dense", {"units": 8})], base), (4,), 2)
    with pytest.raises(ValueError, match="'depth' must be an int >= 0"):
        build_module(Genome("mlp", [], {**base, "depth": -1}), (4,), 2)
    with pytest.raises(ValueError, match="no 'activation' parameter"):
        build_module(Genome("mlp", [LayerGene("dense", {"units": 8})], {}), (4,), 2)


def test_plain_mlp_genomes_build_as_before():
    # No new global gene: the layers, their order and PyTorch's own weights.
    genome = Genome(
        "mlp",
        [LayerGene("dense", {"units": 8, "activation": "elu", "dropout": 0.1})],
        {"optimizer": "adam", "lr": 0.001, "batch_size": 32},
    )
    torch.manual_seed(0)
    net = build_module(genome, (4,), 3)
    torch.manual_seed(0)
    reference = nn.Sequential(
        nn.Flatten(), nn.Linear(4, 8), nn.ELU(), nn.Dropout(0.1), nn.Linear(8, 3)
    )
    assert [type(m) for m in net] == [type(m) for m in reference]
    for a, b in zip(net.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- optimizers
# name -> (torch class, the args that must match Keras's defaults)
KERAS_TWINS = {
    "keras_sgd": (torch.optim.SGD, {"lr": 0.01, "momentum": 0, "nesterov": False}),
    "keras_rmsprop": (torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
    "keras_adagrad": (
        torch.optim.Adagrad,
        {"lr": 0.01, "eps": 1e-7, "initial_accumulator_value": 0},
    ),
    "keras_adadelta": (torch.optim.Adadelta, {"lr": 1.0, "rho": 0.95, "eps": 1e-7}),
    "keras_adam": (torch.optim.Adam, {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}),
    "keras_adamax": (torch.optim.Adamax, {"lr": 0.002, "betas": (0.9, 0.999), "eps": 1e-7}),
    "keras_nadam": (torch.optim.NAdam, {"lr": 0.002, "eps": 1e-7, "momentum_decay": 0.004}),
    "tf_keras_sgd": (torch.optim.SGD, {"lr": 0.01, "momentum": 0}),
    "tf_keras_rmsprop": (torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
    "tf_keras_adagrad": (
        torch.optim.Adagrad,
        {"lr": 0.001, "eps": 1e-7, "initial_accumulator_value": 0.1},
    ),
    "tf_keras_adadelta": (torch.optim.Adadelta, {"lr": 0.001, "rho": 0.95, "eps": 1e-7}),
    "tf_keras_adam": (torch.optim.Adam, {"lr": 0.001, "eps": 1e-7}),
    "tf_keras_adamax": (torch.optim.Adamax, {"lr": 0.001, "eps": 1e-7}),
    "tf_keras_nadam": (torch.optim.NAdam, {"lr": 0.001, "eps": 1e-7}),
}


def _optimizer(genome):
    net = make_net(genome, (4,), 3, max_epochs=1, input_stats=None, device="cpu", net_params={})
    return net.initialize().optimizer_


@pytest.mark.parametrize("name", sorted(KERAS_TWINS))
def test_keras_optimizer_twins(name):
    cls, expected = KERAS_TWINS[name]
    genome = Genome("mlp", [], {"depth": 1, "units": 8, "activation": "relu", "optimizer": name})
    optimizer = _optimizer(genome)
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    for arg, value in expected.items():
        assert group[arg] == pytest.approx(value), arg
    # An explicit lr gene wins over the twin's default.
    assert _optimizer(genome.replace(lr=0.05)).param_groups[0]["lr"] == 0.05


def test_presets_use_only_registered_twins():
    keras = dict(keras_mlp_space().globals)["optimizer"].options
    ns = dict(naturalselection_space().globals)["optimizer"].options
    assert set(keras) | set(ns) == set(KERAS_TWINS)
    assert set(KERAS_TWINS) <= set(optimizer_names())


def test_the_twins_are_found_through_the_presets_not_the_core_table():
    assert list(KERAS_OPTIMIZERS) == [
        f"{prefix}_{name}"
        for prefix in ("keras", "tf_keras")
        for name in ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam")
    ]
    for name, (cls, args) in KERAS_OPTIMIZERS.items():
        assert cls is KERAS_TWINS[name][0]
        assert optimizer_for(name) == (cls, args), name
    # the core table holds torch's optimizers only; the twins stay with the presets
    assert not set(KERAS_OPTIMIZERS) & set(OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initialize_linear_zeroes_biases_and_keeps_keras_limits(name):
    torch.manual_seed(0)
    layer = nn.Linear(300, 100)
    initialize_linear(layer, name)
    scale, fan_mode, distribution = INITIALIZERS[name]
    fan = 300 if fan_mode == "fan_in" else 200
    limit = math.sqrt(3 * scale / fan) if distribution == "uniform" else 2 * math.sqrt(scale / fan)
    weight = layer.weight.detach()
    assert float(weight.abs().max()) <= limit / (1 if distribution == "uniform" else 0.8796)
    assert bool((layer.bias == 0).all())
    with pytest.raises(ValueError, match="initializer must be one of"):
        initialize_linear(layer, "orthogonal")


def test_existing_optimizers_are_unchanged():
    plain = Genome("mlp", [], {"depth": 1, "units": 8, "activation": "relu"})
    adam = _optimizer(plain)  # no optimizer gene: adam at 1e-3
    assert type(adam) is torch.optim.Adam and adam.param_groups[0]["lr"] == 1e-3
    assert adam.param_groups[0]["eps"] == 1e-8
    sgd = _optimizer(plain.replace(optimizer="sgd")).param_groups[0]
    assert (sgd["lr"], sgd["momentum"], sgd["nesterov"]) == (1e-3, 0.9, True)
    rmsprop = _optimizer(plain.replace(optimizer="rmsprop")).param_groups[0]
    assert rmsprop["alpha"] == 0.99


# --------------------------------------------------------------------------- the space's verbs
@pytest.mark.parametrize("make_space", [keras_mlp_space, naturalselection_space])
def test_samples_round_trip_and_operators_stay_inside(make_space):
    space = make_space().bind((4,))
    rng = np.random.default_rng(0)
    genomes = [space.sample(rng) for _ in range(30)]
    for genome in genomes:
        assert space.contains(genome)
        assert space.repair(genome) == genome
        assert Genome.from_json(genome.to_json()) == genome
    for a, b in zip(genomes[::2], genomes[1::2], strict=True):
        child = mutate(a, space, rng)
        assert space.contains(child) and child.key() != a.key()
        assert space.contains(crossover_genes(a, b, space, rng))
        assert space.contains(crossover_layers(a, b, space, rng))


def test_keras_repair_clips_to_the_ga_values():
    space = keras_mlp_space()
    genome = Genome(
        "mlp",
        [LayerGene("dense", {"units": 8, "activation": "relu"})],
        {"depth": 9, "units": 100, "activation": "relu", "optimizer": "adam", "lr": 0.1},
    )
    assert not space.contains(genome)
    repaired = space.repair(genome)
    assert space.contains(repaired)
    assert repaired.layers == ()  # the space has no layer genes
    assert dict(repaired.globals) == {
        "activation": "relu",
        "batch_size": 128,
        "depth": 4,
        "dropout": 0.2,
        "initializer": "glorot_uniform",
        "optimizer": "keras_rmsprop",  # not a GA optimizer: the first one
        "units": 128,  # the nearest width
    }


def test_keras_genome_matches_the_space_for_any_batch_size():
    space = keras_mlp_space(batch_size=64)
    genome = keras_mlp_genome(3, 768, "elu", "nadam", batch_size=64)
    assert space.contains(genome)
    assert not keras_mlp_space().contains(genome)
    assert genome in keras_mlp_grid(batch_size=64)


# --------------------------------------------------------------------------- a search
@pytest.mark.parametrize("make_space", [keras_mlp_space, naturalselection_space])
def test_a_tiny_search_runs_in_a_preset(make_space):
    X, y = load_iris(return_X_y=True)
    space = make_space()
    clf = EvolutionaryNASClassifier(
        search_space=space,
        population_size=4,
        n_generations=2,
        max_epochs=1,
        device="cpu",
        random_state=0,
    ).fit(X, y)
    assert clf.search_space_.name == space.name
    assert space.contains(clf.best_genome_)
    assert all(record["status"] == "ok" for record in clf.evaluations_)
    assert clf.predict(X[:5]).shape == (5,)
    assert clf.score(X, y) == np.mean(clf.predict(X) == y)
