import numpy as np
import pytest
import torch

from skevonas.spaces.builders import Standardize
from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.catalogue import cnn_space, mlp_space
from skevonas.spaces.genome import Genome, LayerGene
from skevonas.spaces.networks import build_module, count_parameters

TRAIN = {"optimizer": "adam", "lr": 0.001, "batch_size": 32}


@pytest.mark.parametrize(
    "space, shape",
    [
        (mlp_space(), (7,)),
        (cnn_space(1), (6, 128)),
        (cnn_space(1), (3, 4)),
        (cnn_space(2), (1, 8, 8)),
        (cnn_space(2), (3, 16, 12)),
    ],
)
def test_every_sampled_genome_builds_and_runs(space, shape):
    space = space.bind(shape)
    rng = np.random.default_rng(0)
    for _ in range(30):
        genome = space.sample(rng)
        net = build_module(genome, shape, n_classes=3).eval()
        out = net(torch.zeros((2, *shape)))
        assert out.shape == (2, 3)
        assert isinstance(net.output, torch.nn.Linear)


def test_cnn_layer_structure_and_parameter_count():
    genome = Genome(
        "cnn1d",
        [
            LayerGene("conv", {"filters": 16, "kernel_size": 5, "stride": 2}),
            LayerGene("batchnorm"),
            LayerGene("elu"),
            LayerGene("maxpool", {"pool_size": 3}),
            LayerGene("dropout", {"rate": 0.5}),
            LayerGene("identity"),
        ],
        {**TRAIN, "head": "flatten"},
    )
    net = build_module(genome, (6, 100), n_classes=2)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Conv1d", "BatchNorm1d", "ELU", "MaxPool1d", "Dropout", "Flatten", "Linear"]
    # conv: 6*16*5 + 16; bn: 32; 100 -> 48 -> 16 positions; linear 16*16*2 + 2
    assert count_parameters(net) == 6 * 16 * 5 + 16 + 32 + 16 * 16 * 2 + 2


def test_mlp_structure():
    genome = Genome(
        "mlp",
        [
            LayerGene("dense", {"units": 32, "activation": "tanh", "dropout": 0.0}),
            LayerGene("dense", {"units": 8, "activation": "elu", "dropout": 0.2}),
        ],
        TRAIN,
    )
    net = build_module(genome, (5,), n_classes=4)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Flatten", "Linear", "Tanh", "Linear", "ELU", "Dropout", "Linear"]
    assert count_parameters(net) == 5 * 32 + 32 + 32 * 8 + 8 + 8 * 4 + 4


def test_standardize_layer_uses_training_statistics():
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(50, 3, 20)) * [[5], [1], [0.1]] + [[10], [0], [-3]]).astype("float32")
    mean, std = channel_stats(X)
    assert mean.shape == (3, 1)
    genome = Genome("cnn1d", [LayerGene("identity")], {**TRAIN, "head": "avg"})
    net = build_module(genome, (3, 20), 2, input_stats=(mean, std))
    assert isinstance(net.standardize, Standardize)
    z = net.standardize(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(z.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2)), 1, atol=1e-4)
    assert "standardize.mean" in net.state_dict()


def test_unknown_family_and_kind():
    with pytest.raises(ValueError, match="Unknown model family 'rnn'"):
        build_module(Genome("rnn", [], {}), (3,), 2)
    with pytest.raises(ValueError, match="Unknown CNN layer kind 'lstm'"):
        build_module(Genome("cnn1d", [LayerGene("lstm")], {}), (3, 10), 2)
    with pytest.raises(ValueError, match="below length 1"):
        build_module(
            Genome(
                "cnn1d", [LayerGene("conv", {"filters": 4, "kernel_size": 20, "stride": 1})], {}
            ),
            (3, 10),
            2,
        )
