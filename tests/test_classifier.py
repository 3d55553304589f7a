"""EvolutionaryNASClassifier end to end: the uses it is built for, and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skevonas import EvolutionaryNASClassifier, Genome, SearchFailedError
from skevonas.datasets import band_power
from skevonas.prepare import apply_input_affine


# --------------------------------------------------------------------------- the four uses
def test_inside_a_pipeline_with_a_scaler(blobs, fast):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), EvolutionaryNASClassifier(**fast, standardize=False))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.5
    assert pipe.predict_proba(X).shape == (len(y), 3)


def test_cross_val_score_on_eeg_band_power(scp1, fast):
    features = band_power(scp1.X_train, scp1.sfreq)
    clf = EvolutionaryNASClassifier(**{**fast, "max_epochs": 10, "patience": 5})
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), features, scp1.y_train, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.55  # band power of SCP1 is informative; chance is 0.5


def test_grid_search_over_ga_settings(blobs, fast):
    X, y = blobs
    grid = GridSearchCV(
        EvolutionaryNASClassifier(**fast),
        {"population_size": [2, 3], "mutation_rate": [0.2, 1.0]},
        cv=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["population_size"] in (2, 3)
    assert grid.best_estimator_.population_size == grid.best_params_["population_size"]


def test_pickle_round_trip_gives_identical_predictions(scp1_small, fast):
    X_train, X_test, y_train, _ = scp1_small
    clf = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(clone.predict(X_test), clf.predict(X_test))
    assert clone.best_genome_ == clf.best_genome_


# --------------------------------------------------------------------------- families
def test_eeg_epochs_end_to_end(scp1_small, fast):
    X_train, X_test, y_train, y_test = scp1_small
    clf = EvolutionaryNASClassifier(**fast, ensemble_size=1).fit(X_train, y_train)
    assert clf.search_space_.family == "eeg"
    assert clf.sample_shape_ == X_train.shape[1:]
    assert clf.n_features_in_ == X_train.shape[1]
    assert list(clf.classes_) == ["negativity", "positivity"]
    pred = clf.predict(X_test)
    assert set(pred) <= set(clf.classes_)
    assert clf.score(X_test, y_test) == np.mean(pred == y_test)
    assert clf.best_genome_.family == "eeg"
    described = clf.describe()
    assert described.startswith(clf.best_genome_.describe())
    assert f"estimated accuracy: {clf.best_score_:.4f}" in described
    assert Genome.from_json(clf.best_genome_.to_json()) == clf.best_genome_


def test_image_input_uses_2d_cnns(fast):
    X, y = load_digits(return_X_y=True)
    X = X[:300].reshape(-1, 1, 8, 8)
    y = y[:300]
    clf = EvolutionaryNASClassifier(**fast).fit(X, y)
    assert clf.search_space_.family == "cnn2d"
    assert clf.predict_proba(X[:5]).shape == (5, 10)
    np.testing.assert_allclose(clf.predict_proba(X[:5]).sum(axis=1), 1, rtol=1e-5)


def test_string_labels(blobs, fast):
    X, y = blobs
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = EvolutionaryNASClassifier(**fast).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert clf.predict(X).dtype == labels.dtype
    assert set(clf.predict(X)) <= {"cat", "dog", "eel"}


def test_explicit_search_space(blobs, fast):
    from skevonas import mlp_space

    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast, search_space=mlp_space(max_layers=1)).fit(X, y)
    assert all(len(Genome.from_dict(r["genome"]).layers) == 1 for r in clf.evaluations_)


# --------------------------------------------------------------------------- the search
def test_same_random_state_same_search_whatever_n_jobs(scp1_small, fast):
    X_train, X_test, y_train, _ = scp1_small
    runs = [EvolutionaryNASClassifier(**fast, n_jobs=n).fit(X_train, y_train) for n in (1, 2)]
    a, b = ([(r["key"], r["score"], r["epochs"]) for r in clf.evaluations_] for clf in runs)
    assert a == b
    np.testing.assert_array_equal(runs[0].predict_proba(X_test), runs[1].predict_proba(X_test))
    other = EvolutionaryNASClassifier(**{**fast, "random_state": 1}).fit(X_train, y_train)
    assert [r["key"] for r in other.evaluations_] != [key for key, _, _ in a]


def test_no_genome_is_trained_twice_and_best_never_drops(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        **{**fast, "population_size": 5, "n_generations": 4, "max_epochs": 3}
    ).fit(X, y)
    keys = [r["key"] for r in clf.evaluations_]
    assert len(keys) == len(set(keys)) == clf.n_evaluations_
    best = [row["best"] for row in clf.history_]
    assert best == sorted(best)
    assert clf.best_score_ == max(r["score"] for r in clf.evaluations_)
    assert len(clf.history_) == 4
    assert sum(row["n_evaluated"] for row in clf.history_) == len(keys)
    record = clf.evaluations_[0]
    assert {
        "genome",
        "score",
        "epochs",
        "best_epoch",
        "fit_time",
        "n_params",
        "generation",
        "parents",
        "status",
    } <= set(record)


def test_refit_uses_all_the_data(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast).fit(X, y)
    best = next(r for r in clf.evaluations_ if r["key"] == clf.best_genome_.short_key())
    assert len(clf.best_estimator_.history) == best["best_epoch"]
    # the refitted network's standardisation layer holds statistics of all of X (as the
    # network sees it: after the float64 affine step, which uses all of X too)
    layer = clf.best_estimator_.module_.standardize
    Z = apply_input_affine(X, clf.input_offset_, clf.input_scale_)
    np.testing.assert_allclose(layer.mean.numpy().ravel(), Z.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(layer.std.numpy().ravel(), Z.std(axis=0), rtol=1e-5)
    np.testing.assert_allclose(clf.input_offset_, X.mean(axis=0, dtype=np.float64), rtol=1e-12)


class NaNLoss(torch.nn.CrossEntropyLoss):
    """A criterion whose loss is always NaN: every candidate fails."""

    def forward(self, input, target):
        return super().forward(input, target) * float("nan")


def test_every_candidate_failing_is_a_clear_error(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast, net_params={"criterion": NaNLoss})
    with pytest.warns(RuntimeWarning, match="failed and was recorded"):
        with pytest.raises(SearchFailedError, match=r"all \d+ candidates failed.*loss became nan"):
            clf.fit(X, y)


def test_some_failures_do_not_lose_the_search(blobs, fast):
    from skevonas.spaces.catalogue import mlp_space
    from skevonas.spaces.domains import Choice

    X, y = blobs
    base = mlp_space()
    space = type(base)(
        "mlp",
        base.layers,
        {**dict(base.globals), "optimizer": Choice(("adam", "sgd"))},
        max_layers=2,
    )
    clf = EvolutionaryNASClassifier(
        **{**fast, "population_size": 6},
        search_space=space,
        # only SGD takes `nesterov`: every Adam candidate fails to build its optimizer
        net_params={"optimizer__nesterov": True, "optimizer__momentum": 0.9},
    )
    with pytest.warns(RuntimeWarning, match="failed and was recorded as such: TypeError"):
        clf.fit(X, y)
    failed = [r for r in clf.evaluations_ if r["status"] == "failed"]
    ok = [r for r in clf.evaluations_ if r["status"] == "ok"]
    assert failed and ok
    assert all("nesterov" in r["error"] and np.isnan(r["score"]) for r in failed)
    assert all(r["genome"]["globals"]["optimizer"] == "adam" for r in failed)
    assert clf.best_genome_["optimizer"] == "sgd"
    assert sum(row["n_failed"] for row in clf.history_) == len(failed)
    assert clf.predict(X).shape == y.shape


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_X(blobs, fast, bad):
    X, y = blobs
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        EvolutionaryNASClassifier(**fast).fit(X, y)


def test_wrong_number_of_dimensions(fast):
    clf = EvolutionaryNASClassifier(**fast)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        clf.fit(np.zeros(10), np.arange(10) % 2)
    with pytest.raises(ValueError, match="got a 5-D array"):
        clf.fit(np.zeros((10, 1, 2, 3, 4)), np.arange(10) % 2)


def test_single_class(blobs, fast):
    X, _ = blobs
    with pytest.raises(ValueError, match="at least 2 classes in y, got 1 class"):
        EvolutionaryNASClassifier(**fast).fit(X, np.zeros(len(X)))


def test_too_few_samples_per_class_for_the_split(blobs, fast):
    X, y = blobs
    y = y.copy()
    y[0] = 7  # a class with one sample
    with pytest.raises(ValueError, match="class 7 has only 1 sample"):
        EvolutionaryNASClassifier(**fast).fit(X, y)
    with pytest.raises(ValueError, match="each part needs at least one sample of each"):
        EvolutionaryNASClassifier(**fast, validation_fraction=0.02).fit(X, blobs[1])


def test_different_shape_at_predict_time(scp1_small, fast):
    X_train, X_test, y_train, _ = scp1_small
    clf = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6"):
        clf.predict(X_test[:, :5])
    with pytest.raises(
        ValueError,
        match=r"samples of shape \(6, 100\).* fitted on samples of "
        r"shape \(6, 224\)",
    ):
        clf.predict(X_test[:, :, :100])


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EvolutionaryNASClassifier().predict(np.zeros((2, 3)))


def test_invalid_settings_are_collected_into_one_error(blobs):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        population_size=1,
        selection="best",
        mutation_rate=1.5,
        local_rate=-0.5,
        scoring="accurcy",
        validation_fraction=1.0,
        search_space="transformer",
        device="tpu",
        n_jobs=0,
        torch_threads=0,
        net_params=["lr", 0.1],
        callbacks=[print],
        verbose=-1,
        standardize="yes",
        checkpoint_dir=3,
        warm_start="yes",
    )
    with pytest.raises(ValueError) as info:
        clf.fit(X, y)
    message = str(info.value)
    for expected in [
        "population_size must be an int >= 2, got 1",
        "selection must be one of ['roulette', 'tournament'], got 'best'",
        "mutation_rate must be a float in [0, 1], got 1.5",
        "local_rate must be a float in [0, 1], got -0.5",
        "scoring must be a scikit-learn scorer name",
        "validation_fraction must be a float in (0, 1), got 1.0",
        "search_space must be one of ['auto', 'mlp', 'eeg', 'cnn1d', 'cnn2d', 'keras_mlp',",
        "device must be",
        "n_jobs must be None or a non-zero int, got 0",
        "torch_threads must be None or an int >= 1, got 0",
        "net_params must be None or a dict with string keys, got ['lr', 0.1]",
        "callbacks must be None or a list of SearchCallback instances",
        "verbose must be an int >= 0, got -1",
        "standardize must be True or False, got 'yes'",
        "checkpoint_dir must be None or a folder path, got 3",
        "warm_start must be True or False, got 'yes'",
    ]:
        assert expected in message, (expected, message)


def test_cuda_without_gpu_is_a_clear_error(blobs, fast):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        EvolutionaryNASClassifier(**{**fast, "device": "cuda"}).fit(*blobs)


def test_other_scorers(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast, scoring="neg_log_loss").fit(X, y)
    assert clf.best_score_ <= 0
    assert all(r["score"] <= 0 for r in clf.evaluations_ if r["status"] == "ok")
