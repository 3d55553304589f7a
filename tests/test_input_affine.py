"""Raw amplitudes as recorded (issue 30, part 7): X centred and scaled in float64 first.

With ``standardize=True`` both classifiers keep ``input_offset_`` and
``input_scale_`` (the statistics of all of ``X``, in float64) and apply
``(X - input_offset_) / input_scale_`` in float64 before the cast to float32,
at fit and at prediction; the exports fold the step in, so they still take
raw ``X``; model files and pickles keep it.
"""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

import skevonas
import skevonas.prepare as prepare
from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene
from skevonas.prepare import apply_input_affine, input_affine
from skevonas.store.modelfile import read_model, write_model

pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.load` is deprecated:DeprecationWarning"
)

MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu", "dropout": 0.0})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)
CNN = Genome(
    "cnn1d",
    [LayerGene("conv", {"filters": 4, "kernel_size": 5, "stride": 2}), LayerGene("elu")],
    {"optimizer": "adam", "lr": 0.003, "batch_size": 16, "head": "flatten"},
)
TINY_SEARCH = {
    "population_size": 2,
    "n_generations": 1,
    "max_epochs": 3,
    "n_finalists": 2,
    "cv": 2,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


# --------------------------------------------------------------------------- the statistics
def test_the_affine_statistics_are_float64_and_broadcast_to_one_sample():
    rng = np.random.default_rng(0)
    for shape, stat in (((30, 5), (5,)), ((30, 3, 16), (3, 1)), ((30, 2, 4, 4), (2, 1, 1))):
        X = rng.normal(size=shape) * 1e-5 + 3e-3  # volts, with an offset
        X[:, 0] = 7.0  # a constant feature / channel: scale 1
        offset, scale = input_affine(X)
        assert offset.shape == scale.shape == stat
        assert offset.dtype == scale.dtype == np.float64
        assert scale.flat[0] == 1.0 and offset.flat[0] == 7.0
        axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
        np.testing.assert_allclose(offset, X.mean(axis=axes, keepdims=True)[0], rtol=1e-12)
        np.testing.assert_allclose(scale.ravel()[1:], X.std(axis=axes).ravel()[1:], rtol=1e-9)
        Z = apply_input_affine(X, offset, scale)
        assert Z.dtype == np.float32 and Z.flags.c_contiguous
        np.testing.assert_allclose(Z.mean(axis=axes)[1:], 0.0, atol=1e-5)


def test_a_fit_keeps_the_affine_step_and_none_without_standardize(iris):
    X, y = iris
    clf = GenomeClassifier(MLP, max_epochs=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.input_offset_, X.mean(axis=0))
    np.testing.assert_allclose(clf.input_scale_, X.std(axis=0), rtol=1e-12)
    off = GenomeClassifier(MLP, max_epochs=1, standardize=False, random_state=0).fit(X, y)
    assert off.input_offset_ is None and off.input_scale_ is None


def test_three_d_input_gets_one_offset_and_scale_per_channel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3, 32)) * 1e-5 + np.array([1e-3, -2e-3, 0.0])[:, None]
    y = np.arange(40) % 2
    clf = GenomeClassifier(CNN, max_epochs=1, random_state=0).fit(X, y)
    assert clf.input_offset_.shape == clf.input_scale_.shape == (3, 1)
    np.testing.assert_allclose(clf.input_offset_[:, 0], X.mean(axis=(0, 2)), rtol=1e-9)
    assert clf.predict_proba(X).shape == (40, 2)


# --------------------------------------------------------------------------- precision
def test_a_large_offset_no_longer_drowns_the_signal(iris):
    # Issue 30: a feature of spread ~1 on an offset of 1e8 trained to about 0.34
    # when X was cast to float32 first; centred in float64 first, it trains.
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no offset warning with standardize=True
        clf = GenomeClassifier(MLP, max_epochs=30, validation_fraction=None, random_state=0)
        clf.fit(X + 1e8, y)
    assert clf.score(X + 1e8, y) > 0.9
    before = GenomeClassifier(
        MLP, max_epochs=30, validation_fraction=None, standardize=False, random_state=0
    )
    with pytest.warns(UserWarning, match="offset over"):
        before.fit(X + 1e8, y)
    assert before.score(X + 1e8, y) < 0.5


def test_ordinary_data_gives_the_results_of_before(iris, monkeypatch):
    # Before the float64 step, X was cast to float32 as it was: the same as
    # an affine step with offset 0 and scale 1. The networks' own Standardize
    # layer follows, so the search must choose the same genomes with scores
    # equal within float rounding.
    X, y = iris
    now = EvolutionaryNASClassifier(**TINY_SEARCH).fit(X, y)
    monkeypatch.setattr(
        prepare, "input_affine", lambda X: (np.zeros(X.shape[1]), np.ones(X.shape[1]))
    )
    then = EvolutionaryNASClassifier(**TINY_SEARCH).fit(X, y)
    np.testing.assert_array_equal(then.input_offset_, 0.0)  # the old path, indeed
    assert [r["genome"] for r in now.evaluations_] == [r["genome"] for r in then.evaluations_]
    assert now.ensemble_genomes_ == then.ensemble_genomes_
    np.testing.assert_allclose(
        [r["score"] for r in now.evaluations_], [r["score"] for r in then.evaluations_], atol=1e-4
    )
    assert abs(now.best_score_ - then.best_score_) <= 1e-4
    np.testing.assert_allclose(now.predict_proba(X), then.predict_proba(X), atol=1e-4)


# --------------------------------------------------------------------------- exports, files
@pytest.fixture(scope="module")
def volts(iris):
    """A GenomeClassifier fitted on iris in "volts" with an offset, and that data."""
    X, y = iris
    X = X * 1e-5 + 2e-3
    return GenomeClassifier(MLP, max_epochs=5, random_state=0).fit(X, y), X


def test_the_exports_take_raw_x_and_give_predict_proba(volts, tmp_path):
    clf, X = volts
    program = clf.to_torchscript()
    with torch.no_grad():
        proba = program(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    onnxruntime = pytest.importorskip("onnxruntime")
    path = clf.to_onnx(tmp_path / "model.onnx")
    (proba,) = onnxruntime.InferenceSession(str(path)).run(None, {"input": X.astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_module_takes_x_after_the_affine_step(volts):
    clf, X = volts
    Z = apply_input_affine(X, clf.input_offset_, clf.input_scale_)
    with torch.no_grad():
        proba = torch.softmax(clf.module_(torch.from_numpy(Z)), dim=1).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-6)


def test_model_files_and_pickles_keep_the_affine_step(volts, tmp_path):
    clf, X = volts
    path = skevonas.save(clf, tmp_path / "model.skevonas")
    back = skevonas.load(path)
    np.testing.assert_array_equal(back.input_offset_, clf.input_offset_)
    np.testing.assert_array_equal(back.input_scale_, clf.input_scale_)
    assert back.input_offset_.dtype == np.float64
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.input_scale_, clf.input_scale_)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_a_file_without_the_affine_step_still_loads(iris, tmp_path):
    # A file of an earlier skevonas: no "input_affine" entry; X goes to the network as it is.
    X, y = iris
    clf = GenomeClassifier(MLP, max_epochs=2, random_state=0).fit(X, y)
    old = dataclasses.replace(clf.fitted_model(), input_offset=None, input_scale=None)
    path = write_model(old, tmp_path / "old.skevonas")
    back = skevonas.load(path)
    assert back.input_offset_ is None and back.input_scale_ is None
    with torch.no_grad():
        raw = torch.softmax(clf.module_(torch.as_tensor(X, dtype=torch.float32)), dim=1)
    np.testing.assert_allclose(back.predict_proba(X), raw.numpy(), atol=1e-6)
    assert read_model(path, [GenomeClassifier.model_kind()]).input_offset is None


def test_a_crafted_affine_entry_is_refused(volts, tmp_path):
    clf, _ = volts
    bad = dataclasses.replace(clf.fitted_model(), input_scale=-clf.input_scale_)
    path = write_model(bad, tmp_path / "bad.skevonas")
    with pytest.raises(skevonas.ModelFileError, match="input_affine"):
        skevonas.load(path)
