"""skevonas.save / skevonas.load: the model file round trip, for both estimators.

The crafted and damaged files are in ``test_hostile_files.py``; here a saved
model comes back equal: the same probabilities (exactly), classes, feature
names, genome, search results and plain parameters, and it exports.
"""

from __future__ import annotations

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
    load,
    save,
)
from skevonas.store.modelfile import FORMAT, VERSION

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
