"""skevonas.save / skevonas.load of a search whose final network is an ensemble.

A search may end with an :class:`~skevonas.training.ensemble.EnsembleModule`: one or
more members (each with its own input statistics) averaged with weights,
behind an optional :class:`~skevonas.spaces.builders.layers.Decimate` front for
long EEG epochs. Its model file stores every member genome, the weights and
the decimation factor; here such files round-trip exactly, export, and every
crafted ensemble entry or member tensor table is refused by name. Until the
search composes ensembles itself, :func:`compose` builds them by hand from a
tiny fitted search, the way the search does.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene, ModelFileError, load, save
from skevonas.spaces.builders.layers import Decimate, channel_stats
from skevonas.spaces.networks import build_module
from skevonas.store.ensemble_entry import EnsembleEntry
from skevonas.store.modelfile import read_model, write_model
from skevonas.training.ensemble import EnsembleModule, ensemble_net

pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.load` is deprecated:DeprecationWarning"
)

TINY = {"population_size": 2, "n_generations": 1, "max_epochs": 2, "random_state": 0}
EEG_A = Genome(
    "eeg",
    [
        LayerGene("temporal_conv", {"filters": 4, "kernel_size": 5}),
        LayerGene("batchnorm"),
        LayerGene("spatial_conv", {"depth_multiplier": 1, "depthwise": True}),
        LayerGene("avgpool", {"pool_size": 4, "stride": 4}),
    ],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "head": "flatten"},
)
EEG_B = Genome(
    "eeg",
    [
        LayerGene("temporal_conv", {"filters": 2, "kernel_size": 3}),
        LayerGene("spatial_conv", {"depth_multiplier": 2, "depthwise": True}),
        LayerGene("avgpool", {"pool_size": 2, "stride": 2}),
    ],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "head": "flatten"},
)
MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 8, "activation": "relu"})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)
# The keys of a document written before ensembles (and of any plain network's).
OLD_KEYS = {
    "format",
    "format_version",
    "versions",
    "estimator",
    "params",
    "dropped_params",
    "genome",
    "classes",
    "feature_names_in",
    "n_features_in",
    "sample_shape",
    "standardize_layer",
    "attributes",
}
# Written since issue 30 by every file (a file without them loads too).
AFFINE_KEYS = {"input_affine", "temperature"}


def decimated(X: np.ndarray, factor: int) -> np.ndarray:
    """``X`` as the members of a search with this decimation see it."""
    if factor == 1:
        return X
    with torch.no_grad():
        return Decimate(factor)(torch.from_numpy(X)).numpy()


def compose(clf, X, genomes, weights, decimation, seed=0):
    """A copy of a fitted search whose final network is an ensemble of ``genomes``.

    The search was fitted on the members' (decimated) samples; its network
    is replaced by an :class:`EnsembleModule` of freshly built members, each
    with its own input statistics (from its own part of the data), behind a
    ``Decimate(decimation)`` front; ``sample_shape_`` becomes the raw shape.
    """
    clf = copy.deepcopy(clf)
    X_members = decimated(X, decimation)
    n_classes = len(clf.classes_)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        members = [
            build_module(g, X_members.shape[1:], n_classes, channel_stats(X_members[i::3]))
            for i, g in enumerate(genomes)
        ]
    module = EnsembleModule(members, weights, Decimate(decimation) if decimation > 1 else None)
    clf.best_genome_ = genomes[0]
    clf.ensemble_genomes_ = list(genomes)
    clf.ensemble_weights_ = list(weights)
    clf.decimation_ = decimation
    clf.sample_shape_ = tuple(X.shape[1:])
    clf.best_estimator_ = ensemble_net(module, n_classes)
    return clf


def document(path):
    """The JSON document of a model file."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return json.loads(f.metadata()["skevonas"])


def split(path):
    """(tensor table, document, data bytes) of a model file."""
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    return header, json.loads(header["__metadata__"]["skevonas"]), raw[8 + n :]


def join(path, header, doc, data):
    """Write a model file from its parts (the document goes into the metadata)."""
    header = dict(header)
    header["__metadata__"] = {"format": "pt", "skevonas": json.dumps(doc)}
    text = json.dumps(header).encode()
    Path(path).write_bytes(len(text).to_bytes(8, "little") + text + data)
    return path


# --------------------------------------------------------------------------- fitted models
@pytest.fixture(scope="module")
def eeg():
    """40 EEG-like epochs of 3 channels and 64 samples; class 1 carries a slow wave."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3, 64)).astype(np.float32)
    y = np.repeat(np.array(["rest", "task"]), 20)
    X[20:, 0] += np.sin(np.arange(64) / 3).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def models(eeg, blobs):
    """name -> (fitted estimator, X): the three ensembles and a plain search."""
    X, y = eeg
    search4 = EvolutionaryNASClassifier(**TINY).fit(decimated(X, 4), y)
    X2, y2 = blobs
    plain = EvolutionaryNASClassifier(**TINY).fit(X2, y2)
    assert plain.best_genome_ != MLP and search4.best_genome_ not in (EEG_A, EEG_B)
    return {
        "three-members-decimation-4": (
            compose(search4, X, [search4.best_genome_, EEG_A, EEG_B], [0.5, 0.3, 0.2], 4),
            X,
        ),
        "two-members-2d": (compose(plain, X2, [plain.best_genome_, MLP], [0.6, 0.4], 1), X2),
        "one-member-decimation-2": (compose(search4, X, [EEG_A], [1.0], 2), X),
        "plain": (plain, X2),
    }


@pytest.fixture(scope="module")
def saved(models, tmp_path_factory):
    """name -> path of each model's file."""
    folder = tmp_path_factory.mktemp("ensembles")
    return {name: save(clf, folder / f"{name}.skevonas") for name, (clf, _) in models.items()}


ENSEMBLES = ["three-members-decimation-4", "two-members-2d", "one-member-decimation-2"]


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", ENSEMBLES)
def test_ensemble_round_trip_is_exact(name, models, saved):
    clf, X = models[name]
    torch.manual_seed(123)
    rng_state = torch.get_rng_state()
    loaded = load(saved[name])
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert np.array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.ensemble_genomes_ == clf.ensemble_genomes_
    assert loaded.ensemble_weights_ == clf.ensemble_weights_
    assert loaded.decimation_ == clf.decimation_
    assert loaded.best_genome_ == clf.best_genome_
    assert loaded.sample_shape_ == clf.sample_shape_ == X.shape[1:]
    module = loaded.net_.module_
    assert isinstance(module, EnsembleModule)
    assert len(module.members) == len(clf.ensemble_genomes_)
    assert isinstance(module.decimate, Decimate) == (clf.decimation_ > 1)
    state, original = module.state_dict(), clf.net_.module_.state_dict()
    assert list(state) == list(original)
    for key in state:
        assert torch.equal(state[key], original[key]), key


def test_the_document_holds_members_weights_and_decimation(models, saved):
    clf, _ = models["three-members-decimation-4"]
    doc = document(saved["three-members-decimation-4"])
    assert set(doc) == OLD_KEYS | AFFINE_KEYS | {"ensemble"}
    assert doc["format_version"] == 1  # a plain network's file is unchanged
    assert doc["genome"] == clf.best_genome_.to_dict()
    assert doc["ensemble"] == {
        "genomes": [g.to_dict() for g in clf.ensemble_genomes_],
        "weights": [0.5, 0.3, 0.2],
        "decimation": 4,
    }
    assert doc["sample_shape"] == [3, 64]


def test_a_plain_network_writes_and_reads_an_old_style_document(models, saved):
    clf, X = models["plain"]
    assert set(document(saved["plain"])) == OLD_KEYS | AFFINE_KEYS
    loaded = load(saved["plain"])
    assert not isinstance(loaded.net_.module_, EnsembleModule)
    assert loaded.ensemble_genomes_ == [clf.best_genome_]
    assert loaded.ensemble_weights_ == [1.0]
    assert loaded.decimation_ == 1
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_search_that_declares_one_plain_member_saves_an_old_style_document(models, tmp_path):
    clf, X = models["plain"]
    clf = copy.deepcopy(clf)
    clf.ensemble_genomes_, clf.ensemble_weights_, clf.decimation_ = [clf.best_genome_], [1.0], 1
    path = save(clf, tmp_path / "plain.skevonas")
    assert set(document(path)) == OLD_KEYS | AFFINE_KEYS
    assert np.array_equal(load(path).predict_proba(X), clf.predict_proba(X))


def test_save_refuses_ensemble_attributes_that_do_not_describe_the_network(models, tmp_path):
    clf, _ = models["two-members-2d"]
    wrong = copy.deepcopy(clf)
    wrong.ensemble_weights_ = [0.6, 0.3]
    with pytest.raises(ValueError, match="ensemble cannot be saved: the weights must sum to 1"):
        save(wrong, tmp_path / "model.skevonas")
    wrong = copy.deepcopy(clf)
    wrong.ensemble_genomes_ = wrong.ensemble_genomes_[:1]
    with pytest.raises(ValueError, match=r"do not describe its network: 2 members"):
        save(wrong, tmp_path / "model.skevonas")
    wrong = copy.deepcopy(clf)
    wrong.best_genome_ = EEG_A
    with pytest.raises(ValueError, match="best_genome_ is none of its ensemble_genomes_"):
        save(wrong, tmp_path / "model.skevonas")
    plain, _ = models["plain"]
    wrong = copy.deepcopy(plain)
    wrong.decimation_ = 4
    with pytest.raises(ValueError, match="one plain network, but .* decimation_ is 4"):
        save(wrong, tmp_path / "model.skevonas")
    assert not (tmp_path / "model.skevonas").exists()


# --------------------------------------------------------------------------- exports
@pytest.mark.parametrize("name", ENSEMBLES)
def test_loaded_ensemble_exports_to_torchscript(name, models, saved, tmp_path):
    clf, X = models[name]
    loaded = load(saved[name])
    program = torch.jit.load(str(loaded.to_torchscript(tmp_path / "net.pt")))
    with torch.no_grad():
        proba = program(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ENSEMBLES)
def test_loaded_ensemble_exports_to_onnx(name, models, saved, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    clf, X = models[name]
    path = load(saved[name]).to_onnx(tmp_path / "net.onnx")
    session = onnxruntime.InferenceSession(str(path))
    (proba,) = session.run(None, {"input": X.astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-5)


# --------------------------------------------------------------------------- hostile files
def _ensemble(key, value):
    def edit(doc):
        doc["ensemble"][key] = value

    return edit


def _member(i, genome):
    def edit(doc):
        doc["ensemble"]["genomes"][i] = genome

    return edit


def _many_members(doc):
    doc["ensemble"]["genomes"] *= 3334  # 10,002
    doc["ensemble"]["weights"] = [1 / 10_002] * 10_002


def _no_best(doc):
    doc["genome"] = Genome("eeg", [LayerGene("temporal_conv", {"filters": 3})]).to_dict()


def _extra_key(doc):
    doc["ensemble"]["seeds"] = [0, 1, 2]


NO_KERNEL = Genome("eeg", [LayerGene("temporal_conv", {"filters": 4})], {"head": "flatten"})
TOO_LONG_POOL = Genome(
    "eeg",
    [
        LayerGene("temporal_conv", {"filters": 4, "kernel_size": 5}),
        LayerGene("avgpool", {"pool_size": 64, "stride": 64}),
    ],
    {"head": "flatten"},
)


@pytest.mark.parametrize(
    "edit, message",
    [
        (_ensemble("weights", [0.5, 0.5]), r"one weight per member \(3\), got 2 weights"),
        (_ensemble("weights", [0.6, 0.6, -0.2]), "finite numbers > 0: weight 2 is -0.2"),
        (_ensemble("weights", [0.5, float("nan"), 0.2]), "finite numbers > 0: weight 1 is nan"),
        (_ensemble("weights", [0.5, float("inf"), 0.2]), "finite numbers > 0: weight 1 is inf"),
        (_ensemble("weights", [0.5, "0.3", 0.2]), "finite numbers > 0: weight 1 is '0.3'"),
        (_ensemble("weights", [0.5, 0.3, 0.3]), r"must sum to 1 \(within 1e-06\), they sum to 1.1"),
        (_ensemble("weights", None), "one weight per member"),
        (_many_members, "1 to 50 member genomes, got 10002 members"),
        (_ensemble("genomes", []), "1 to 50 member genomes, got 0 members"),
        (_ensemble("decimation", 0), "'decimation' must be an int from 1 to 1000, got 0"),
        (_ensemble("decimation", -1), "'decimation' must be an int from 1 to 1000, got -1"),
        (_ensemble("decimation", "4"), "'decimation' must be an int from 1 to 1000, got '4'"),
        (_ensemble("decimation", 4.0), "'decimation' must be an int from 1 to 1000, got 4.0"),
        (_ensemble("decimation", True), "'decimation' must be an int from 1 to 1000, got True"),
        (_ensemble("decimation", 10**9), "from 1 to 1000, got 1000000000"),
        (_member(1, MLP.to_dict()), r"ensemble member 1: a 'mlp' genome cannot take samples"),
        (_member(2, {"family": "eeg"}), "ensemble member 2 is not valid"),
        (_member(1, NO_KERNEL.to_dict()), "member 1 cannot be built .* no parameter 'kernel_size'"),
        (_member(2, TOO_LONG_POOL.to_dict()), "member 2 cannot be built for samples of shape"),
        (_no_best, r"the stored genome \(best_genome_\) is none of the ensemble's 3 members"),
        (_extra_key, r"'ensemble' must be an object with the keys \['decimation', 'genomes'"),
        (_ensemble("weights", [0.2, 0.3, 0.5]), r"the tensor 'weights' \(\[0\.5, 0\.3"),
        (_ensemble("decimation", 2), "tensor 'decimate.taps' has shape \\[33\\], the network"),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", None),
)
def test_crafted_ensemble_entries_are_refused(edit, message, saved, tmp_path):
    header, doc, data = split(saved["three-members-decimation-4"])
    edit(doc)
    path = join(tmp_path / "crafted.skevonas", header, doc, data)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_decimation_needs_channels_and_times(saved, tmp_path):
    header, doc, data = split(saved["two-members-2d"])
    doc["ensemble"]["decimation"] = 2
    path = join(tmp_path / "crafted.skevonas", header, doc, data)
    with pytest.raises(ModelFileError, match=r"decimation 2 needs samples of shape \(channels"):
        load(path)


def test_only_a_search_has_an_ensemble(saved, models, tmp_path):
    header, doc, data = split(saved["three-members-decimation-4"])
    doc["estimator"] = "GenomeClassifier"
    doc["params"] = {"genome": doc["genome"]}
    doc["attributes"] = {"best_epoch_": 1, "validation_score_": 0.5}
    path = join(tmp_path / "crafted.skevonas", header, doc, data)
    with pytest.raises(ModelFileError, match="a GenomeClassifier file has no 'ensemble' entry"):
        load(path)


@pytest.mark.parametrize("change", ["missing", "renamed"])
def test_a_member_tensor_missing_or_renamed_is_refused(change, saved, tmp_path):
    header, doc, data = split(saved["three-members-decimation-4"])
    name = "members.1.output.weight"
    entry = header.pop(name)
    if change == "renamed":
        header["members.1.outputs.weight"] = entry
    else:  # its bytes stay, unclaimed, in the middle of the data
        assert entry["data_offsets"][1] < len(data)
    path = join(tmp_path / "crafted.skevonas", header, doc, data)
    message = r"missing tensors \['members.1.output.weight'\]"
    if change == "renamed":
        message += r"\n  - tensors the network does not have \['members.1.outputs.weight'\]"
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_an_old_style_document_of_an_ensemble_file_is_refused(saved, tmp_path):
    # Without its "ensemble" entry the file describes one plain network,
    # which its tensors do not fit.
    header, doc, data = split(saved["three-members-decimation-4"])
    del doc["ensemble"]
    path = join(tmp_path / "crafted.skevonas", header, doc, data)
    with pytest.raises(ModelFileError, match="the weights do not fit the stored genome"):
        load(path)


# --------------------------------------------------------------------------- a real search
@pytest.mark.skipif(
    not {"ensemble_size", "decimate"} <= set(EvolutionaryNASClassifier().get_params()),
    reason="EvolutionaryNASClassifier does not build ensembles yet",
)
def test_a_searched_ensemble_round_trips(eeg, tmp_path):
    X, y = eeg
    clf = EvolutionaryNASClassifier(
        population_size=3,
        n_generations=1,
        max_epochs=2,
        ensemble_size=3,
        n_finalists=3,
        cv=2,
        decimate=2,
        random_state=0,
    ).fit(X, y)
    assert clf.decimation_ == 2 and isinstance(clf.net_.module_, EnsembleModule)
    loaded = load(save(clf, tmp_path / "search.skevonas"))
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.ensemble_genomes_ == clf.ensemble_genomes_
    assert loaded.ensemble_weights_ == clf.ensemble_weights_
    assert loaded.decimation_ == clf.decimation_
    program = loaded.to_torchscript()
    with torch.no_grad():
        proba = program(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- the interface
@pytest.mark.parametrize("name", ENSEMBLES)
def test_an_ensemble_fitted_model_round_trips_through_the_store(name, models, saved, tmp_path):
    clf, X = models[name]
    model = clf.fitted_model()
    assert model.ensemble == EnsembleEntry(
        tuple(clf.ensemble_genomes_), tuple(clf.ensemble_weights_), clf.decimation_
    )
    kinds = [EvolutionaryNASClassifier.model_kind()]
    for back in (
        read_model(saved[name], kinds),
        read_model(write_model(model, tmp_path / "m"), kinds),
    ):
        assert back.ensemble == model.ensemble
        assert back.genome == model.genome and back.sample_shape == model.sample_shape
        loaded = EvolutionaryNASClassifier.from_fitted_model(back)
        assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        assert loaded.ensemble_weights_ == clf.ensemble_weights_


def test_write_model_refuses_an_ensemble_that_does_not_describe_the_network(models, tmp_path):
    clf, _ = models["two-members-2d"]
    model = clf.fitted_model()
    with pytest.raises(ValueError, match=r"do not describe its network: 2 members"):
        write_model(dataclasses.replace(model, ensemble=None), tmp_path / "model.skevonas")
    plain, _ = models["plain"]
    with pytest.raises(ValueError, match="one plain network, but .* has 2 members"):
        write_model(
            dataclasses.replace(plain.fitted_model(), ensemble=model.ensemble),
            tmp_path / "model.skevonas",
        )
    assert not (tmp_path / "model.skevonas").exists()


def test_a_kind_without_ensembles_refuses_an_ensemble_entry(saved):
    kind = dataclasses.replace(EvolutionaryNASClassifier.model_kind(), ensembles=False)
    with pytest.raises(ModelFileError, match="a EvolutionaryNASClassifier file has no 'ensemble'"):
        read_model(saved["two-members-2d"], [kind])
    assert read_model(saved["plain"], [kind]).ensemble is None
