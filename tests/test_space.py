import numpy as np
import pytest

from skevonas.spaces.catalogue import SPACES, cnn_space, get_space, mlp_space
from skevonas.spaces.domains import LayerSpec
from skevonas.spaces.genome import Genome, LayerGene
from skevonas.spaces.shapes import signal_shapes
from skevonas.spaces.space import SearchSpace


@pytest.mark.parametrize(
    "space",
    [
        mlp_space().bind((10,)),
        cnn_space(1).bind((6, 896)),
        cnn_space(1).bind((3, 5)),
        cnn_space(2).bind((1, 8, 8)),
        cnn_space(2).bind((3, 2, 30)),
    ],
    ids=["mlp", "cnn1d-long", "cnn1d-short", "cnn2d", "cnn2d-flat"],
)
def test_samples_lie_in_the_space_and_never_shrink_below_one(space):
    rng = np.random.default_rng(0)
    for _ in range(200):
        genome = space.sample(rng)
        assert space.contains(genome)
        if space.is_convolutional:
            assert min(min(s) for s in signal_shapes(genome, space.input_shape)) >= 1


def test_repair_shrinks_kernels_that_do_not_fit():
    space = cnn_space(1).bind((2, 10))
    genome = Genome(
        "cnn1d",
        [
            LayerGene("conv", {"filters": 8, "kernel_size": 8, "stride": 3}),
            LayerGene("conv", {"filters": 8, "kernel_size": 30, "stride": 1}),
            LayerGene("maxpool", {"pool_size": 8}),
        ],
        {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "head": "flatten"},
    )
    assert not space.contains(genome)
    repaired = space.repair(genome)
    assert space.contains(repaired)
    # 10 -> 1 after the first conv: the second conv shrinks to its smallest
    # kernel (2), which still does not fit, so it and the pool are dropped.
    assert [layer.kind for layer in repaired.layers] == ["conv"]
    assert signal_shapes(repaired, (2, 10))[-1] == (1,)


def test_repair_clips_values_and_fills_missing_genes():
    space = mlp_space().bind((4,))
    genome = Genome(
        "mlp",
        [LayerGene("dense", {"units": 100000, "activation": "relu", "dropout": 3.0})],
        {"lr": 5.0},
    )
    repaired = space.repair(genome)
    assert space.contains(repaired)
    assert repaired.layers[0]["units"] == 1024
    assert repaired.layers[0]["dropout"] == 0.5
    assert repaired["lr"] == 5e-3
    assert set(dict(repaired.globals)) == {"optimizer", "lr", "batch_size", "weight_decay"}
    assert repaired["weight_decay"] == 0.0  # a genome saved before the gene: no decay


def test_repair_keeps_min_layers():
    space = mlp_space().bind((4,))
    repaired = space.repair(Genome("mlp", [], {}))
    assert len(repaired.layers) == space.min_layers
    assert space.contains(repaired)


def test_contains_rejects_foreign_genomes():
    space = mlp_space().bind((4,))
    genome = space.sample(np.random.default_rng(1))
    assert not space.contains(genome.replace(optimizer="lbfgs"))
    assert not space.contains(Genome("cnn1d", genome.layers, genome.globals))
    assert not space.contains(genome.replace(layers=[LayerGene("conv", {})]))
    assert not space.contains("not a genome")
    with pytest.raises(ValueError, match="does not match"):
        space.repair(Genome("cnn1d", [], {}))


def test_get_space_resolves_names_and_auto():
    assert get_space("auto", (5,)).family == "mlp"
    assert get_space("auto", (6, 100)).family == "eeg"
    assert get_space("auto", (1, 8, 8)).family == "cnn2d"
    assert get_space("keras_mlp", (64,)).name == "keras_mlp"
    assert get_space("naturalselection", (64,)).family == "mlp"
    assert get_space(cnn_space(1), (6, 100)).input_shape == (6, 100)
    with pytest.raises(ValueError, match=r"search_space must be one of \['auto', 'mlp'"):
        get_space("transformer", (5,))
    with pytest.raises(ValueError, match="expects samples with 2 dimension"):
        get_space("cnn1d", (5,))


def test_get_space_errors_name_the_setting():
    with pytest.raises(ValueError, match=r"search_space must be one of .*got 3$"):
        get_space(3, (5,))  # type: ignore[arg-type]
    for shape in [(), (1, 2, 3, 4)]:
        with pytest.raises(ValueError, match=rf"one of \[1, 2, 3\] .*got {len(shape)} instead"):
            get_space("auto", shape)
    with pytest.raises(ValueError, match=r"'cnn2d' \(cnn2d\) expects samples with 3 dimension"):
        get_space("cnn2d", (6, 100))


def test_every_named_space_has_its_name_and_a_known_family():
    assert list(SPACES) == ["mlp", "eeg", "cnn1d", "cnn2d", "keras_mlp", "naturalselection"]
    for name, make in SPACES.items():
        space = make()
        assert space.name == name and space.input_shape is None
        assert make() == space  # a fresh, equal space on every call


def test_space_reprs_and_names_are_unchanged():
    # Logs and checkpoints show these: a refactor must not change them (issue 29
    # changed them on purpose: 1,024 units and the weight-decay gene).
    assert repr(mlp_space()) == (
        "SearchSpace(family='mlp', layers=(LayerSpec(kind='dense', params=(('activation', "
        "Choice(options=('relu', 'elu', 'tanh', 'leaky_relu'))), ('dropout', "
        "Float(low=0.0, high=0.5, log=False)), ('units', Choice(options=(16, 32, 64, 128, "
        "256, 512, 1024)))), weight=1.0),), globals=(('batch_size', Choice(options=(16, 32, 64, "
        "128))), ('lr', Float(low=0.0001, high=0.005, log=True)), ('optimizer', "
        "Choice(options=('adam', 'adamw', 'sgd', 'rmsprop'))), ('weight_decay', "
        "Choice(options=(0.0, 1e-05, 0.0001, 0.001, 0.01)))), min_layers=1, max_layers=4, "
        "init_max_layers=None, input_shape=None, name='mlp')"
    )
    assert [get_space("auto", s).name for s in [(5,), (6, 100), (1, 8, 8)]] == [
        "mlp",
        "eeg",
        "cnn2d",
    ]


def test_search_space_checks_its_family_against_the_shape_rules():
    with pytest.raises(
        ValueError, match=r"family must be one of \['cnn1d', 'cnn2d', 'eeg', 'mlp'\]"
    ):
        SearchSpace("rnn", [LayerSpec("identity")], {})
    assert not mlp_space().is_convolutional and mlp_space().input_ndim == 1
    assert cnn_space(1).is_convolutional and cnn_space(1).shape_rule.name == "series"
