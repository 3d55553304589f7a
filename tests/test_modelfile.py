"""skevonas.save / skevonas.load: the model file round trip, for both estimators.

The crafted and damaged files are in ``test_hostile_files.py``; here a saved
model comes back equal: the same probabilities (exactly), classes, feature
names, genome, search results and plain parameters, and it exports.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import LRScheduler

from skevonas import (
    EvolutionaryNASClassifier,
    Genome,
    GenomeClassifier,
    LayerGene,
    ModelFileError,
    load,
    save,
)
from skevonas.store.modelfile import FORMAT, VERSION, read_model, write_model

pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.load` is deprecated:DeprecationWarning"
)

TINY = {"population_size": 2, "n_generations": 1, "max_epochs": 1, "random_state": 0}
MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 8, "activation": "relu"})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)
EEG = Genome(
    "eeg",
    [
        LayerGene("temporal_conv", {"filters": 4, "kernel_size": 5}),
        LayerGene("batchnorm"),
        LayerGene("spatial_conv", {"depth_multiplier": 1, "depthwise": True}),
        LayerGene("avgpool", {"pool_size": 4, "stride": 4}),
    ],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "head": "flatten"},
)


def document(path):
    """The JSON document of a model file."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return json.loads(f.metadata()["skevonas"])


def check_round_trip(clf, X, path):
    """Save, load, and check that everything predict needs came back unchanged."""
    loaded = load(save(clf, path))
    assert type(loaded) is type(clf)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert loaded.classes_.tolist() == clf.classes_.tolist()
    assert loaded.n_features_in_ == clf.n_features_in_
    assert loaded.sample_shape_ == clf.sample_shape_
    state, original = loaded.net_.module_.state_dict(), clf.net_.module_.state_dict()
    assert list(state) == list(original)
    for name in state:
        assert torch.equal(state[name], original[name]), name
    return loaded


# --------------------------------------------------------------------------- searches
@pytest.fixture(scope="module")
def mlp_search(blobs):
    X, y = blobs
    return EvolutionaryNASClassifier(**TINY).fit(X, y), X


@pytest.fixture(scope="module")
def eeg_search(scp1_small):
    X_train, X_test, y_train, _ = scp1_small  # string labels
    return EvolutionaryNASClassifier(**TINY).fit(X_train, y_train), X_test


def test_search_round_trip_mlp_int_labels(mlp_search, tmp_path):
    clf, X = mlp_search
    loaded = check_round_trip(clf, X, tmp_path / "mlp.skevonas")
    assert loaded.classes_.dtype.kind == "i"
    assert loaded.best_genome_ == clf.best_genome_
    assert loaded.best_score_ == clf.best_score_
    assert loaded.stop_reason_ == clf.stop_reason_
    assert loaded.n_evaluations_ == clf.n_evaluations_
    assert loaded.search_time_ == clf.search_time_ and loaded.refit_time_ == clf.refit_time_
    # NaN != NaN: compare the JSON texts of the records
    assert json.dumps(loaded.history_) == json.dumps(clf.history_)
    assert json.dumps(loaded.evaluations_) == json.dumps(clf.evaluations_)
    params = clf.get_params()
    del params["checkpoint_dir"]  # never stored
    assert {k: v for k, v in loaded.get_params().items() if k in params} == params
    assert loaded.describe() == clf.describe()


def test_search_round_trip_eeg_string_labels(eeg_search, tmp_path):
    clf, X = eeg_search
    loaded = check_round_trip(clf, X, tmp_path / "eeg.skevonas")
    assert loaded.classes_.tolist() == ["negativity", "positivity"]
    assert loaded.best_genome_.family == "eeg"
    assert loaded.sample_shape_ == X.shape[1:]


@pytest.mark.parametrize("fitted", ["mlp_search", "eeg_search"])
def test_loaded_search_exports(fitted, request, tmp_path):
    clf, X = request.getfixturevalue(fitted)
    loaded = load(save(clf, tmp_path / "model.skevonas"))
    program = torch.jit.load(str(loaded.to_torchscript(tmp_path / "net.pt")))
    with torch.no_grad():
        proba = program(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-6)
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    path = loaded.to_onnx(tmp_path / "net.onnx")
    session = onnxruntime.InferenceSession(str(path))
    (proba,) = session.run(None, {"input": X.astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


# --------------------------------------------------------------------------- GenomeClassifier
@pytest.mark.parametrize(
    "genome, labels", [(MLP, "strings"), (EEG, "ints")], ids=["mlp-strings", "eeg-ints"]
)
def test_genome_classifier_round_trip(genome, labels, blobs, scp1_small, tmp_path):
    if genome.family == "mlp":
        X, y = blobs
        y = np.array(["a", "bb", "ccc"])[y]
    else:
        X, _, y, _ = scp1_small
        y = (y == "positivity").astype(np.int32)
    clf = GenomeClassifier(genome, max_epochs=2, validation_fraction=None, random_state=0)
    clf.fit(X, y)
    loaded = check_round_trip(clf, X, tmp_path / "genome.skevonas")
    assert loaded.genome_ == clf.genome_
    assert loaded.best_epoch_ == clf.best_epoch_ == 2
    assert np.isnan(loaded.validation_score_)
    assert loaded.n_params_ == clf.n_params_
    assert loaded.get_params()["genome"] == genome.to_dict()
    program = torch.jit.load(str(loaded.to_torchscript(tmp_path / "net.pt")))
    with torch.no_grad():
        proba = program(torch.as_tensor(X[:5], dtype=torch.float32)).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X[:5]), atol=1e-6)


def test_object_labels_and_no_standardisation(blobs, tmp_path):
    X, y = blobs
    labels = np.array(["x", "y", "z"], dtype=object)[y]
    clf = GenomeClassifier(MLP, max_epochs=1, validation_fraction=None, standardize=False)
    clf.fit(X, labels)
    loaded = check_round_trip(clf, X, tmp_path / "object.skevonas")
    assert "standardize" not in dict(loaded.net_.module_.named_children())
    assert loaded.predict(X[:3]).tolist() == clf.predict(X[:3]).tolist()


# --------------------------------------------------------------------------- what is stored
def test_document_holds_versions_and_what_was_dropped(blobs, tmp_path):
    X, y = blobs
    net_params = {
        "callbacks": [LRScheduler(policy="StepLR", step_size=1)],
        "iterator_valid__batch_size": 5,  # prediction's batches: exactness needs the same
    }
    clf = GenomeClassifier(
        MLP.to_json(),
        max_epochs=1,
        validation_fraction=None,
        net_params=net_params,
        random_state=np.random.RandomState(0),
    ).fit(X, y)
    path = save(clf, tmp_path / "model.skevonas")
    doc = document(path)
    assert doc["format"] == FORMAT and doc["format_version"] == VERSION
    assert {"skevonas", "torch", "skorch", "scikit-learn"} <= set(doc["versions"])
    assert doc["estimator"] == "GenomeClassifier"
    assert doc["dropped_params"] == ["net_params['callbacks']", "random_state"]
    loaded = load(path)
    assert loaded.net_params == {"iterator_valid__batch_size": 5}  # the plain entries
    assert loaded.random_state is None  # the default
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_save_overwrites_and_leaves_no_temporary_file(mlp_search, tmp_path):
    clf, X = mlp_search
    path = tmp_path / "model.skevonas"
    path.write_text("an older file")
    save(clf, path)
    save(clf, str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skevonas"]
    np.testing.assert_array_equal(load(str(path)).predict_proba(X), clf.predict_proba(X))


def test_load_leaves_the_torch_rng_alone(mlp_search, tmp_path):
    clf, _ = mlp_search
    path = save(clf, tmp_path / "model.skevonas")
    torch.manual_seed(123)
    state = torch.get_rng_state()
    load(path)
    assert torch.equal(torch.get_rng_state(), state)


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(NotFittedError):
        save(GenomeClassifier(MLP), tmp_path / "model.skevonas")
    with pytest.raises(TypeError, match="got a sklearn.linear_model"):
        from sklearn.linear_model import LogisticRegression

        save(LogisticRegression(), tmp_path / "model.skevonas")
    assert not (tmp_path / "model.skevonas").exists()


# --------------------------------------------------------------------------- feature names
def test_dataframe_feature_names_are_checked_and_kept(tmp_path):
    # Issue 16, item 7, in the API: a fit on a DataFrame keeps the column
    # names (sklearn's feature_names_in_), predict refuses reordered
    # columns, and the model file keeps the names and the check.
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    X, y = data.data, data.target
    clf = EvolutionaryNASClassifier(**TINY).fit(X, y)
    assert clf.feature_names_in_.tolist() == list(X.columns)
    shuffled = X[X.columns[::-1]]
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        clf.predict(shuffled)
    loaded = load(save(clf, tmp_path / "iris.skevonas"))
    assert loaded.feature_names_in_.tolist() == list(X.columns)
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        loaded.predict(shuffled)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    renamed = pd.DataFrame(X.to_numpy(), columns=list("abcd"))
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        loaded.predict(renamed)


# --------------------------------------------------------------------------- the interface
# The estimators describe their fitted state to the store as a FittedModel
# (fitted_model / from_fitted_model) and what their files hold as a ModelKind;
# skevonas.save and skevonas.load (skevonas.saving) join them to
# write_model / read_model.
KINDS = [EvolutionaryNASClassifier.model_kind(), GenomeClassifier.model_kind()]


def assert_same_model(back, model):
    """Two FittedModels hold the same state (the nets: the same tensors)."""
    assert back.estimator == model.estimator
    assert back.genome == model.genome
    assert back.classes.dtype == model.classes.dtype
    assert back.classes.tolist() == model.classes.tolist()
    assert back.sample_shape == model.sample_shape
    assert back.n_features_in == model.n_features_in
    assert back.params == model.params
    assert back.dropped_params == model.dropped_params
    assert back.feature_names_in == model.feature_names_in
    assert json.dumps(back.attributes) == json.dumps(model.attributes)  # NaN != NaN
    assert back.ensemble == model.ensemble
    state, original = back.net.module_.state_dict(), model.net.module_.state_dict()
    assert list(state) == list(original)
    for name in state:
        assert torch.equal(state[name], original[name]), name


def test_the_kinds_say_what_each_file_holds():
    search, fixed = KINDS
    assert search.name == "EvolutionaryNASClassifier" and search.ensembles
    assert set(search.params) == set(EvolutionaryNASClassifier().get_params())
    assert search.attributes == {
        "best_score_": "number",
        "history_": "rows",
        "evaluations_": "rows",
        "stop_reason_": "str",
        "n_evaluations_": "int",
        "search_time_": "number",
        "refit_time_": "number",
    }
    assert fixed.name == "GenomeClassifier" and not fixed.ensembles
    assert set(fixed.params) == set(GenomeClassifier().get_params())
    assert fixed.attributes == {"best_epoch_": "int", "validation_score_": "number"}


def test_fitted_model_round_trips_a_search(mlp_search):
    clf, X = mlp_search
    model = clf.fitted_model()
    assert model.estimator == "EvolutionaryNASClassifier"
    assert model.genome == clf.best_genome_ and model.net is clf.best_estimator_
    assert model.ensemble is None  # a plain network
    assert "checkpoint_dir" in model.dropped_params and "checkpoint_dir" not in model.params
    back = EvolutionaryNASClassifier.from_fitted_model(model)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.ensemble_genomes_ == [clf.best_genome_] and back.ensemble_weights_ == [1.0]
    assert back.decimation_ == 1
    assert back.describe() == clf.describe()
    assert_same_model(back.fitted_model(), model)


def test_fitted_model_round_trips_a_genome_classifier(blobs):
    X, y = blobs
    labels = np.array(["a", "bb", "ccc"])[y]
    clf = GenomeClassifier(MLP, max_epochs=2, random_state=0).fit(X, labels)
    model = clf.fitted_model()
    assert model.params["genome"] == MLP.to_dict()
    assert model.attributes == {
        "best_epoch_": clf.best_epoch_,
        "validation_score_": clf.validation_score_,
    }
    back = GenomeClassifier.from_fitted_model(model)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.n_params_ == clf.n_params_  # derived, not kept
    assert back.describe() == clf.describe()


def test_fitted_model_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        GenomeClassifier(MLP).fitted_model()


def test_from_fitted_model_refuses_a_model_of_another_class(mlp_search):
    clf, _ = mlp_search
    model = clf.fitted_model()
    with pytest.raises(ValueError, match="takes the model of a GenomeClassifier, got one of a"):
        GenomeClassifier.from_fitted_model(model)
    partial = dataclasses.replace(model, attributes={"best_score_": 0.5})
    with pytest.raises(ValueError, match=r"lacks the fitted results \['evaluations_'"):
        EvolutionaryNASClassifier.from_fitted_model(partial)


@pytest.mark.parametrize("fitted", ["mlp_search", "eeg_search"])
def test_write_model_then_read_model_gives_the_same_state(fitted, request, tmp_path):
    clf, X = request.getfixturevalue(fitted)
    model = clf.fitted_model()
    back = read_model(write_model(model, tmp_path / "model.skevonas"), KINDS)
    assert_same_model(back, model)
    assert back.feature_names_in is None
    assert back.params == document(tmp_path / "model.skevonas")["params"]


def test_a_fitted_model_keeps_feature_names_and_dropped_params(blobs, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = GenomeClassifier(
        MLP, max_epochs=1, validation_fraction=None, random_state=np.random.RandomState(0)
    ).fit(frame, y)
    model = clf.fitted_model()
    assert model.feature_names_in == tuple(frame.columns)
    assert model.dropped_params == ("random_state",)
    back = read_model(write_model(model, tmp_path / "model.skevonas"), KINDS)
    assert_same_model(back, model)  # validation_score_ is NaN
    loaded = GenomeClassifier.from_fitted_model(back)
    assert loaded.feature_names_in_.tolist() == list(frame.columns)


def test_read_model_reads_only_the_kinds_it_is_given(mlp_search, tmp_path):
    clf, _ = mlp_search
    path = write_model(clf.fitted_model(), tmp_path / "model.skevonas")
    with pytest.raises(ModelFileError, match=r"'estimator' must be one of \['GenomeClassifier'\]"):
        read_model(path, [GenomeClassifier.model_kind()])
    assert read_model(path, KINDS).estimator == "EvolutionaryNASClassifier"


def test_a_document_whose_estimator_is_not_a_name_is_refused(mlp_search, tmp_path):
    clf, _ = mlp_search
    path = save(clf, tmp_path / "model.skevonas")
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    doc = json.loads(header["__metadata__"]["skevonas"])
    doc["estimator"] = ["EvolutionaryNASClassifier"]  # unhashable: no TypeError
    header["__metadata__"]["skevonas"] = json.dumps(doc)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n :])
    with pytest.raises(ModelFileError, match="'estimator' must be one of"):
        load(path)


def test_save_and_load_live_in_front_of_the_store():
    import skevonas
    import skevonas.saving
    import skevonas.store.model_document

    assert skevonas.save is skevonas.saving.save and skevonas.load is skevonas.saving.load
    assert skevonas.ModelFileError is skevonas.store.model_document.ModelFileError
