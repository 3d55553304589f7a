"""The EEG search space, the standard EEG genomes, seeding and normalisation."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene
from skevonas.evolution.operators import crossover_genes, mutate
from skevonas.prepare import apply_input_affine, decimate_data
from skevonas.spaces.builders.layers import AddMapAxis, SafeLog, Square, channel_stats
from skevonas.spaces.catalogue import get_space
from skevonas.spaces.eeg_space import (
    eeg_space,
    eegnet_genome,
    eegnex_genome,
    shallow_convnet_genome,
    standard_eeg_genomes,
)
from skevonas.spaces.networks import build_module, count_parameters
from skevonas.spaces.shapes import signal_shapes

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


# EEGNeX where the benchmarks use it: SCP1 (6 electrodes, 3.5 s) at 256 Hz and
# decimated to 64 Hz, and FingerMovements (28 electrodes, 0.5 s) at 100 Hz.
EEGNEX_CASES = [((6, 896), 256), ((6, 224), 64), ((28, 50), 100)]


def _braindecode_eegnex():
    """braindecode's EEGNeX class, loaded from its module file.

    ``import braindecode`` fails where torchaudio does not load (its
    ``__init__`` imports every model and module). The EEGNeX module needs
    only ``braindecode.models.base`` and two layers of
    ``braindecode.modules``: stand-in packages with just those let it
    import. They leave ``sys.modules`` afterwards.
    """
    spec = importlib.util.find_spec("braindecode")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("braindecode is not installed")
    root = spec.submodule_search_locations[0]
    before = set(sys.modules)
    try:
        for name in ("braindecode", "braindecode.models", "braindecode.modules"):
            package = types.ModuleType(name)
            package.__path__ = [root + name[len("braindecode") :].replace(".", "/")]
            sys.modules[name] = package
        layers = sys.modules["braindecode.modules"]
        for module, name in (
            ("convolution", "Conv2dWithConstraint"),
            ("linear", "LinearWithConstraint"),
        ):
            setattr(
                layers, name, getattr(importlib.import_module(f"{layers.__name__}.{module}"), name)
            )
        return importlib.import_module("braindecode.models.eegnex").EEGNeX
    except (ImportError, OSError) as exc:
        pytest.skip(f"braindecode's EEGNeX does not load here: {exc}")
    finally:
        for name in set(sys.modules) - before:
            if name == "braindecode" or name.startswith("braindecode."):
                del sys.modules[name]


def _conv_biases(net):
    return sum(m.bias.numel() for m in net.modules() if isinstance(m, nn.Conv2d))


def test_eegnex_genome_has_braindecodes_layers():
    g = eegnex_genome()
    assert [layer.get("dilation") for layer in g.layers if layer.kind == "temporal_conv"] == [
        1,
        1,
        2,
        4,
    ]
    assert [layer["filters"] for layer in g.layers if layer.kind == "temporal_conv"] == [
        8,
        32,
        32,
        8,
    ]
    assert [layer["kernel_size"] for layer in g.layers if layer.kind == "temporal_conv"] == [
        64,
        64,
        16,
        16,
    ]
    net = build_module(g, (22, 256), 4)
    assert net.temporal_conv_2[1].in_channels == 8  # the second convolution mixes the 8 maps
    assert net.spatial_conv_4.groups == 32 and net.spatial_conv_4.out_channels == 64
    assert net.temporal_conv_9[1].dilation == (1, 2) and net.temporal_conv_9[1].in_channels == 64
    assert net.temporal_conv_11[1].dilation == (1, 4)
    assert net.output.in_features == 8 * (256 // 32)
    assert [eegnex_genome(sfreq).layers[9]["kernel_size"] for sfreq in (64, 100, 256)] == [
        8,
        12,
        32,
    ]


@pytest.mark.parametrize(("shape", "sfreq"), EEGNEX_CASES, ids=str)
def test_eegnex_genome_lies_in_the_eeg_space_and_builds(shape, sfreq):
    space = eeg_space().bind(shape)
    genome = eegnex_genome(sfreq)
    assert space.contains(genome) and space.repair(genome) == genome
    net = build_module(genome, shape, 2)
    assert net.eval()(torch.zeros(3, *shape)).shape == (3, 2)
    assert net.output.in_features == _flat_width(net, shape)


def test_eegnex_genome_is_repaired_to_fit_short_epochs():
    space = eeg_space().bind((4, 20))  # 20 samples: 5 after the first pool, too few for 8
    genome = eegnex_genome(100)
    assert not space.contains(genome)
    repaired = space.repair(genome)
    assert space.contains(repaired)
    assert repaired.layers[14]["pool_size"] == 5 and repaired.layers[14]["stride"] == 5
    assert build_module(repaired, (4, 20), 2).eval()(torch.zeros(1, 4, 20)).shape == (1, 2)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(("shape", "sfreq"), [((22, 256), None), *EEGNEX_CASES], ids=str)
def test_eegnex_genome_has_the_weights_of_braindecodes_eegnex(shape, sfreq):
    eegnex = _braindecode_eegnex()
    genome = eegnex_genome(sfreq)
    long_kernel, short_kernel = genome.layers[0]["kernel_size"], genome.layers[9]["kernel_size"]
    theirs = eegnex(
        n_chans=shape[0],
        n_times=shape[1],
        n_outputs=3,
        kernel_block_1_2=long_kernel,
        kernel_block_4=short_kernel,
        kernel_block_5=short_kernel,
    )
    ours = build_module(genome, shape, 3)
    # Every weight of braindecode's network, shape for shape; ours has one more
    # bias per convolution filter (8 + 32 + 64 + 32 + 8 = 144), which the batch
    # normalisation after each convolution cancels (braindecode's have none).
    their_shapes = sorted(tuple(p.shape) for p in theirs.parameters())
    conv_biases = {id(m.bias) for m in ours.modules() if isinstance(m, nn.Conv2d)}
    our_shapes = sorted(tuple(p.shape) for p in ours.parameters() if id(p) not in conv_biases)
    assert our_shapes == their_shapes
    assert _conv_biases(ours) == 144
    assert count_parameters(ours) == sum(p.numel() for p in theirs.parameters()) + 144
    if shape == (22, 256):  # braindecode's default EEGNeX, 22 electrodes, 2 s at 128 Hz
        weights = 8 * 64 + 32 * 8 * 64 + 64 * 22 + 32 * 64 * 16 + 8 * 32 * 16
        batchnorms = 2 * (8 + 32 + 64 + 32 + 8)
        output = 8 * (256 // 32) * 3 + 3
        assert count_parameters(ours) == weights + batchnorms + output + 144 == 55_795
    # The "same" padded convolutions, dilated or not, compute what braindecode's do.
    rows, time = shape
    convolutions = [
        (ours.temporal_conv_0, theirs.block_1[1], (1, rows, time)),
        (ours.temporal_conv_2, theirs.block_2[0], (8, rows, time)),
        (ours.temporal_conv_9, theirs.block_4[0], (64, 1, time // 4)),
        (ours.temporal_conv_11, theirs.block_5[0], (32, 1, time // 4)),
    ]
    with torch.no_grad():
        for our, their, input_shape in convolutions:
            our[1].weight.copy_(their.weight)
            our[1].bias.zero_()
            x = torch.randn(2, *input_shape)
            torch.testing.assert_close(our(x), their(x))


def test_dilated_convolutions_span_their_dilated_kernel():
    def genome(kind, padding, dilation=None):
        genes = {"filters": 8, "kernel_size": 5, "padding": padding}
        if dilation is not None:
            genes["dilation"] = dilation
        return Genome("eeg", [LayerGene(kind, genes)], {})

    for kind in ("temporal_conv", "separable_conv"):
        # valid: (5 - 1) * 4 + 1 = 17 samples per output step; same: the length stays
        for padding, length in (("valid", 40 - 16), ("same", 40)):
            g = genome(kind, padding, 4)
            assert signal_shapes(g, (3, 40))[-1] == (3, length)
            net = build_module(g, (3, 40), 2)
            assert _flat_width(net, (3, 40)) == 8 * 3 * length == net.output.in_features
        assert signal_shapes(genome(kind, "valid"), (3, 40))[-1] == (3, 36)  # no gene: 1


def test_repair_shrinks_dilated_kernels_to_the_signal():
    space = eeg_space().bind((2, 30))
    conv = {"filters": 8, "kernel_size": 16, "dilation": 4, "padding": "valid"}
    repaired = space.repair(Genome("eeg", [LayerGene("temporal_conv", conv)], {}))
    # the longest kernel with that dilation that fits: (8 - 1) * 4 + 1 = 29 <= 30
    assert (repaired.layers[0]["kernel_size"], repaired.layers[0]["dilation"]) == (8, 4)
    assert space.contains(repaired)
    # even the shortest kernel (3) dilated by 8 spans 17 > 10 samples: undilated instead
    space = eeg_space().bind((2, 10))
    conv = {**conv, "dilation": 8}
    repaired = space.repair(Genome("eeg", [LayerGene("temporal_conv", conv)], {}))
    assert (repaired.layers[0]["kernel_size"], repaired.layers[0]["dilation"]) == (10, 1)
    assert space.contains(repaired)


def test_genomes_without_dilation_are_in_the_space_and_build_as_before():
    for old, shape, n_parameters in (
        (eegnet_genome(), (22, 256), 2_028),  # counts of the networks before the gene existed
        (shallow_convnet_genome(), (22, 1125), 47_404),
    ):
        space = eeg_space().bind(shape)
        assert all("dilation" not in dict(layer.params) for layer in old.layers)
        assert space.contains(old)
        explicit = space.repair(old)  # repair writes the implicit dilation out
        kinds = ("temporal_conv", "separable_conv")
        dilatable = [layer for layer in explicit.layers if layer.kind in kinds]
        assert explicit != old and {layer["dilation"] for layer in dilatable} == {1}
        torch.manual_seed(0)
        net_old = build_module(old, shape, 4).eval()
        torch.manual_seed(0)
        net_explicit = build_module(explicit, shape, 4).eval()
        assert count_parameters(net_old) == count_parameters(net_explicit) == n_parameters
        assert str(net_old) == str(net_explicit)
        x = torch.randn(2, *shape)
        torch.testing.assert_close(net_old(x), net_explicit(x), rtol=0, atol=0)


def test_operators_take_genomes_without_dilation():
    space = eeg_space().bind((6, 224))
    old, new = eegnet_genome(64), eegnex_genome(64)
    rng = np.random.default_rng(0)
    for _ in range(40):
        assert space.contains(mutate(old, space, rng))
        assert space.contains(crossover_genes(old, new, space, rng))
        assert space.contains(crossover_genes(new, old, space, rng))


def test_genome_classifier_trains_the_standard_genomes(scp1_small):
    X_train, X_test, y_train, y_test = scp1_small
    for genome in standard_eeg_genomes(sfreq=64):
        clf = GenomeClassifier(genome, max_epochs=2, patience=2, random_state=0)
        clf.fit(X_train, y_train)
        proba = clf.predict_proba(X_test)
        assert proba.shape == (len(y_test), 2)
        # columns follow classes_, rows are distributions, predict takes the likeliest
        assert clf.classes_.tolist() == ["negativity", "positivity"] == sorted(set(y_train))
        np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
        assert (clf.predict(X_test) == clf.classes_[proba.argmax(axis=1)]).all()
        # the genome's own network, trained for the epochs early stopping chose, gives them
        assert clf.n_params_ == count_parameters(build_module(genome, X_train.shape[1:], 2))
        assert clf.best_epoch_ in (1, 2) and len(clf.estimator_.history) == clf.best_epoch_
        with torch.no_grad():
            # module_ takes X after the float64 affine step (input_offset_, input_scale_)
            Z = (X_test - clf.input_offset_) / clf.input_scale_
            logits = clf.module_(torch.from_numpy(Z.astype(np.float32)))
        np.testing.assert_allclose(logits.softmax(1).numpy(), proba, atol=1e-6)


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
    clf = EvolutionaryNASClassifier(
        **{**fast, "n_generations": 1}, ensemble_size=1, decimate=1
    ).fit(X_train, y_train)
    layer = clf.best_module_.standardize
    # of all of X_train as the network sees it: after the float64 affine step (all of X too)
    mean, std = channel_stats(apply_input_affine(X_train, clf.input_offset_, clf.input_scale_))
    np.testing.assert_allclose(layer.mean[0].cpu().numpy(), mean, atol=1e-6)
    np.testing.assert_allclose(layer.std[0].cpu().numpy(), std, rtol=1e-5)
    offset, scale = channel_stats(X_train)
    np.testing.assert_allclose(clf.input_offset_, offset, rtol=1e-5)
    np.testing.assert_allclose(clf.input_scale_, scale, rtol=1e-5)
    # predicting never refits them
    clf.predict(X_test * 10)
    np.testing.assert_allclose(layer.mean[0].cpu().numpy(), mean, atol=1e-6)
    np.testing.assert_allclose(clf.input_offset_, offset, rtol=1e-5)


def test_ensemble_members_standardise_with_statistics_of_the_decimated_data(scp1_small, fast):
    X_train, _, y_train, _ = scp1_small
    clf = EvolutionaryNASClassifier(
        **{**fast, "n_generations": 1}, n_finalists=3, cv=2, ensemble_size=3, decimate=2
    ).fit(X_train, y_train)
    Z = apply_input_affine(X_train, clf.input_offset_, clf.input_scale_)  # what they see
    mean, std = channel_stats(decimate_data(Z, 2))
    for member in clf.best_module_.members:
        np.testing.assert_allclose(member.standardize.mean[0].numpy(), mean, atol=1e-5)
        np.testing.assert_allclose(member.standardize.std[0].numpy(), std, rtol=1e-4)
