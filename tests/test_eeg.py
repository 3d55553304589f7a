"""The EEG search space, the standard EEG genomes, seeding and normalisation."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene
from skevonas.builders.layers import AddMapAxis, SafeLog, Square, channel_stats
from skevonas.eeg import eeg_space, eegnet_genome, shallow_convnet_genome, standard_eeg_genomes
from skevonas.networks import build_module, count_parameters
from skevonas.shapes import signal_shapes
from skevonas.spaces import get_space

SHAPES = [(6, 896), (7, 1152), (28, 50), (14, 128), (2, 8)]


def modules(net):
    return [type(m) for m in net.modules()]


# --------------------------------------------------------------------------- the space
def test_eeg_space_is_the_default_for_3d_input_and_has_the_eeg_blocks():
    space = get_space("auto", (6, 896))
    assert space.family == "eeg" and space.name == "eeg"
    assert get_space("eeg", (6, 896)).family == "eeg"
    assert get_space("cnn1d", (6, 896)).family == "cnn1d"  # the thesis space stays available
    kinds = {spec.kind for spec in space.layers}
    thesis = {"conv", "dropout", "batchnorm", "elu", "maxpool", "identity"}
    eeg_blocks = {"temporal_conv", "spatial_conv", "separable_conv", "avgpool", "square", "log"}
    assert thesis | eeg_blocks == kinds


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_every_sampled_genome_lies_in_the_space_and_runs(shape):
    space = eeg_space().bind(shape)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        genome = space.sample(rng)
        assert space.contains(genome), genome
        assert space.repair(genome) == genome
        seen.update(layer.kind for layer in genome.layers)
        net = build_module(genome, shape, 3)
        out = net.eval()(torch.randn(2, *shape))
        assert out.shape == (2, 3) and torch.isfinite(out).all()
        # the shape arithmetic the space repairs with matches what torch builds
        assert net.output.in_features == _flat_width(net, shape)
    assert len(seen) >= 10


def _flat_width(net, shape):
    with torch.no_grad():
        x = torch.zeros(1, *shape)
        for name, layer in net.named_children():
            if name == "flatten":
                return x[0].numel()
            x = layer(x)
    raise AssertionError("no flatten layer")


def test_repair_shrinks_time_kernels_and_keeps_pool_strides_within_pools():
    space = eeg_space().bind((4, 30))
    genome = Genome(
        "eeg",
        [
            LayerGene("avgpool", {"pool_size": 4, "stride": 20}),
            LayerGene("temporal_conv", {"filters": 8, "kernel_size": 100, "padding": "valid"}),
            LayerGene("maxpool", {"pool_size": 2, "stride": 2}),
        ],
        {},
    )
    assert not space.contains(genome)
    repaired = space.repair(genome)
    assert space.contains(repaired)
    assert (repaired.layers[0]["pool_size"], repaired.layers[0]["stride"]) == (4, 4)
    assert repaired.layers[1]["kernel_size"] == 7  # the whole (30 - 4) // 4 + 1 steps left
    assert len(repaired.layers) == 2  # no room left for the last pool
    assert signal_shapes(repaired, (4, 30))[-1] == (4, 1)


def test_same_padding_keeps_the_length_for_even_kernels_without_warnings():
    gene = LayerGene("temporal_conv", {"filters": 4, "kernel_size": 64, "padding": "same"})
    genome = Genome("eeg", [gene], {})
    assert signal_shapes(genome, (3, 100))[-1] == (3, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = build_module(genome, (3, 100), 2)
        net(torch.zeros(1, 3, 100))
    assert net.output.in_features == 4 * 3 * 100


def test_spatial_convolutions_span_every_electrode():
    genome = Genome(
        "eeg",
        [
            LayerGene("temporal_conv", {"filters": 8, "kernel_size": 5, "padding": "valid"}),
            LayerGene("spatial_conv", {"depth_multiplier": 2, "depthwise": True}),
            LayerGene("spatial_conv", {"depth_multiplier": 1, "depthwise": False}),
        ],
        {},
    )
    net = build_module(genome, (6, 40), 2)
    depthwise, full = net.spatial_conv_1, net.spatial_conv_2
    assert (
        depthwise.kernel_size == (6, 1) and depthwise.groups == 8 and depthwise.out_channels == 16
    )
    assert full.kernel_size == (1, 1) and full.groups == 1  # rows are already collapsed
    assert signal_shapes(genome, (6, 40))[-1] == (1, 36)


def test_unknown_eeg_layer_and_bad_padding_are_named():
    with pytest.raises(ValueError, match="Unknown EEG layer kind 'lstm'"):
        build_module(Genome("eeg", [LayerGene("lstm")], {}), (3, 10), 2)
    bad = LayerGene("temporal_conv", {"filters": 4, "kernel_size": 3, "padding": "full"})
    with pytest.raises(ValueError, match=r"padding must be one of \['same', 'valid'\], got 'full'"):
        build_module(Genome("eeg", [bad], {}), (3, 10), 2)


def test_square_and_log_layers():
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert Square()(x).tolist() == [4.0, 0.0, 9.0]
    assert torch.isfinite(SafeLog()(x)).all()
    assert AddMapAxis()(torch.zeros(2, 3, 4)).shape == (2, 1, 3, 4)


# --------------------------------------------------------------------------- standard nets
def test_shallow_convnet_genome_has_the_published_structure_and_size():
    # BCI Competition IV 2a: 22 electrodes, 4.5 s at 250 Hz, 4 classes.
    net = build_module(shallow_convnet_genome(), (22, 1125), 4)
    kinds = modules(net)
    for kind in (AddMapAxis, nn.Conv2d, nn.BatchNorm2d, Square, nn.AvgPool2d, SafeLog, nn.Dropout):
        assert kind in kinds
    temporal, spatial = net.temporal_conv_0, net.spatial_conv_1
    assert (temporal.out_channels, temporal.kernel_size) == (40, (1, 25))
    assert (spatial.out_channels, spatial.kernel_size, spatial.groups) == (40, (22, 1), 1)
    assert (net.avgpool_4.kernel_size, net.avgpool_4.stride) == ((1, 75), (1, 15))
    # 40 maps x 69 pooled steps reach the output; tens of thousands of parameters
    # (ShallowConvNet's published size for 22 electrodes is about 40 to 50 thousand).
    assert net.output.in_features == 40 * 69
    assert 35_000 <= count_parameters(net) <= 60_000


def test_eegnet_genome_has_the_published_structure_and_size():
    # EEGNet-8,2 on 22 electrodes, 2 s at 128 Hz, 4 classes.
    net = build_module(eegnet_genome(), (22, 256), 4)
    temporal = net.temporal_conv_0[1]
    assert (temporal.out_channels, temporal.kernel_size) == (8, (1, 64))
    depthwise = net.spatial_conv_2
    assert (depthwise.out_channels, depthwise.kernel_size, depthwise.groups) == (16, (22, 1), 8)
    separable_depthwise, pointwise = net.separable_conv_7[0][1], net.separable_conv_7[1]
    assert separable_depthwise.groups == 16 and separable_depthwise.kernel_size == (1, 16)
    assert pointwise.kernel_size == (1, 1) and pointwise.out_channels == 16
    assert net.output.in_features == 16 * (256 // 32)  # "same" convolutions, pools of 4 and 8
    # EEGNet is a compact network: a few thousand parameters.
    assert 1_000 <= count_parameters(net) <= 5_000


def test_standard_genomes_rescale_to_the_sampling_rate_and_fit_any_length():
    assert shallow_convnet_genome(sfreq=125).layers[0]["kernel_size"] == 12
    assert eegnet_genome(sfreq=256).layers[0]["kernel_size"] == 128
    assert eegnet_genome(sfreq=64).layers[7]["kernel_size"] == 8
    with pytest.raises(ValueError, match="sfreq must be a number > 0, got -1"):
        shallow_convnet_genome(sfreq=-1)
    with pytest.raises(ValueError, match="f1=5 and depth_multiplier=2"):
        eegnet_genome(f1=5)
    for shape in SHAPES:
        space = eeg_space().bind(shape)
        for genome in standard_eeg_genomes():
            repaired = space.repair(genome)
            assert space.contains(repaired)
            build_module(repaired, shape, 2).eval()(torch.zeros(1, *shape))


def test_genome_classifier_trains_the_standard_genomes(scp1_small):
    X_train, X_test, y_train, y_test = scp1_small
    for genome in standard_eeg_genomes(sfreq=64):
        clf = GenomeClassifier(genome, max_epochs=2, patience=2, random_state=0)
        clf.fit(X_train, y_train)
        assert clf.predict_proba(X_test).shape == (len(y_test), 2)


# --------------------------------------------------------------------------- seeding
def _generation_zero(clf):
    return [Genome.from_dict(r["genome"]) for r in clf.evaluations_ if r["generation"] == 0]


def test_an_eeg_search_is_seeded_with_the_standard_networks_by_default(scp1_small, fast):
    X_train, _, y_train, _ = scp1_small
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}).fit(X_train, y_train)
    first = {g.key() for g in _generation_zero(clf)}
    space = clf.search_space_
    assert {space.repair(g).key() for g in standard_eeg_genomes()} <= first
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}, initial_genomes=None)
    clf.fit(X_train, y_train)
    assert not {space.repair(g).key() for g in standard_eeg_genomes()} & {
        g.key() for g in _generation_zero(clf)
    }


def test_initial_genomes_take_genomes_dicts_and_json(scp1_small, fast):
    X_train, _, y_train, _ = scp1_small
    seeds = [
        shallow_convnet_genome(sfreq=64),
        eegnet_genome(sfreq=64).to_dict(),
        json.dumps(eegnet_genome(sfreq=64, f1=4).to_dict()),
    ]
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}, initial_genomes=seeds)
    clf.fit(X_train, y_train)
    first = {g.key() for g in _generation_zero(clf)}
    space = clf.search_space_
    wanted = [shallow_convnet_genome(64), eegnet_genome(64), eegnet_genome(64, f1=4)]
    assert {space.repair(g).key() for g in wanted} <= first
    assert len(first) == fast["population_size"]


def test_bad_initial_genomes_are_named(scp1_small, fast):
    X_train, _, y_train, _ = scp1_small
    with pytest.raises(ValueError, match='initial_genomes must be "auto", None or a list'):
        EvolutionaryNASClassifier(**fast, initial_genomes="shallow").fit(X_train, y_train)
    mlp = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})], {})
    with pytest.raises(ValueError, match=r"initial_genomes\[1\] is a 'mlp' genome.*'eeg'"):
        EvolutionaryNASClassifier(**fast, initial_genomes=[eegnet_genome(), mlp]).fit(
            X_train, y_train
        )
    with pytest.raises(ValueError, match=r"initial_genomes\[0\]: genome must be"):
        EvolutionaryNASClassifier(**fast, initial_genomes=["{not json"]).fit(X_train, y_train)


# --------------------------------------------------------------------------- normalisation
def test_the_refit_standardises_with_the_statistics_of_all_training_data(scp1_small, fast):
    X_train, X_test, y_train, _ = scp1_small
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}).fit(X_train, y_train)
    layer = clf.best_module_.standardize
    mean, std = channel_stats(X_train)
    np.testing.assert_allclose(layer.mean[0].cpu().numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(layer.std[0].cpu().numpy(), std, rtol=1e-5)
    # predicting never refits them
    clf.predict(X_test * 10)
    np.testing.assert_allclose(layer.mean[0].cpu().numpy(), mean, rtol=1e-5)
