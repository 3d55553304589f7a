"""Calibrated predict_proba (issue 30, part 4): temperature scaling on out-of-fold predictions.

``calibrate=True`` fits one temperature on the final model's out-of-fold
probabilities from the finalists' cross-validation (no extra training);
``predict_proba`` divides the logits by it, ``predict`` is unchanged, and
the exports and model files carry it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import pickle

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss

import skevonas
from skevonas import EvolutionaryNASClassifier
from skevonas.search.final import calibration_temperature
from skevonas.store.modelfile import write_model
from skevonas.training.calibration import apply_temperature, fit_temperature, log_loss_at

pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.load` is deprecated:DeprecationWarning"
)

TINY_SEARCH = {
    "population_size": 2,
    "n_generations": 1,
    "max_epochs": 15,
    "n_finalists": 2,
    "cv": 2,
    "initial_genomes": None,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def noisy():
    """Two overlapping classes: a network that trains long gets over-confident."""
    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    X = rng.normal(size=(120, 6)) + y[:, None] * 0.6
    return X, y


@pytest.fixture(scope="module")
def pair(noisy):
    """The same search with and without calibration."""
    X, y = noisy
    plain = EvolutionaryNASClassifier(**TINY_SEARCH).fit(X, y)
    calibrated = EvolutionaryNASClassifier(**TINY_SEARCH, calibrate=True).fit(X, y)
    return plain, calibrated


# --------------------------------------------------------------------------- the temperature
def test_fit_temperature_finds_the_temperature_of_the_data():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(20_000, 3))
    truth = np.exp(logits / 2.0)
    truth /= truth.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in truth])
    reported = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # over-confident
    temperature = fit_temperature(reported, y)
    assert temperature == pytest.approx(2.0, rel=0.05)
    assert log_loss_at(reported, y, temperature) < log_loss(y, reported)
    np.testing.assert_allclose(
        log_loss_at(reported, y, temperature), log_loss(y, apply_temperature(reported, temperature))
    )


def test_the_temperature_is_one_without_out_of_fold_probabilities():
    assert calibration_temperature([None], [1.0], np.array([0, 1])) == 1.0
    assert calibration_temperature([np.eye(2), None], [0.5, 0.5], np.array([0, 1])) == 1.0
    assert fit_temperature(np.zeros((0, 2)), np.zeros(0, dtype=int)) == 1.0


def test_the_ensemble_is_calibrated_on_its_weighted_mean_probabilities():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    a = np.where(y[:, None] == np.arange(2), 0.95, 0.05)
    flip = rng.random(500) < 0.3
    a[flip] = a[flip][:, ::-1]  # wrong, and sure of it
    b = np.full((500, 2), 0.5)
    mixed = 0.75 * a + 0.25 * b
    assert calibration_temperature([a, b], [0.75, 0.25], y) == pytest.approx(
        fit_temperature(mixed, y)
    )


# --------------------------------------------------------------------------- a calibrated search
def test_calibration_is_off_by_default(pair):
    plain, _ = pair
    assert EvolutionaryNASClassifier().calibrate is False
    assert plain.temperature_ == 1.0


def test_a_calibrated_search_divides_the_logits_and_predicts_the_same(pair, noisy):
    plain, calibrated = pair
    X, y = noisy
    # the search and the final model are the same: calibration trains nothing
    assert calibrated.ensemble_genomes_ == plain.ensemble_genomes_
    assert calibrated.best_score_ == plain.best_score_
    assert calibrated.temperature_ != 1.0 and calibrated.temperature_ > 0
    np.testing.assert_allclose(
        calibrated.predict_proba(X),
        apply_temperature(plain.predict_proba(X), calibrated.temperature_),
        atol=1e-6,
    )
    # predict's argmax is unchanged by construction
    np.testing.assert_array_equal(calibrated.predict(X), plain.predict(X))
    np.testing.assert_array_equal(
        calibrated.predict(X), calibrated.classes_[calibrated.predict_proba(X).argmax(axis=1)]
    )


def test_without_cross_validation_the_temperature_is_one(noisy):
    X, y = noisy
    clf = EvolutionaryNASClassifier(**{**TINY_SEARCH, "cv": None, "max_epochs": 2}, calibrate=True)
    assert clf.fit(X, y).temperature_ == 1.0


def test_calibrate_must_be_a_bool():
    with pytest.raises(ValueError, match="calibrate must be True or False, got 'yes' instead"):
        EvolutionaryNASClassifier(calibrate="yes").check_settings()


# --------------------------------------------------------------------------- exports and files
def test_the_exports_give_the_calibrated_probabilities(pair, noisy, tmp_path):
    _, clf = pair
    X, _ = noisy
    program = clf.to_torchscript()
    with torch.no_grad():
        proba = program(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    onnxruntime = pytest.importorskip("onnxruntime")
    path = clf.to_onnx(tmp_path / "model.onnx")
    (proba,) = onnxruntime.InferenceSession(str(path)).run(None, {"input": X.astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_model_files_and_pickles_keep_the_temperature(pair, noisy, tmp_path):
    _, clf = pair
    X, _ = noisy
    back = skevonas.load(skevonas.save(clf, tmp_path / "model.skevonas"))
    assert back.temperature_ == clf.temperature_
    assert back.calibrate is True
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_a_file_without_a_temperature_loads_uncalibrated(pair, noisy, tmp_path):
    plain, calibrated = pair
    X, _ = noisy
    old = dataclasses.replace(calibrated.fitted_model(), temperature=None)
    back = skevonas.load(write_model(old, tmp_path / "old.skevonas"))
    assert back.temperature_ == 1.0
    np.testing.assert_allclose(back.predict_proba(X), plain.predict_proba(X), atol=1e-7)


def test_the_standalone_pytorch_export_gives_the_calibrated_probabilities(pair, noisy, tmp_path):
    _, clf = pair
    X, _ = noisy
    folder = clf.to_pytorch(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    assert config["network"]["temperature"] == clf.temperature_
    spec = importlib.util.spec_from_file_location("calibrated_model", folder / "model.py")
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    np.testing.assert_allclose(code.load(folder).predict_proba(X), clf.predict_proba(X), atol=1e-6)
