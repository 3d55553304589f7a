"""GenomeClassifier: a found architecture reused without a search."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.utils.estimator_checks import parametrize_with_checks

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene
from skevonas.fixed import GenomeClassifier
from skevonas.prepare import prepare_data
from skevonas.spaces.genome import parse_genome
from skevonas.spaces.networks import count_parameters
from skevonas.training.candidate import candidate_seed, evaluate_candidate
from skevonas.training.recipe import Recipe

MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu", "dropout": 0.0})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)
CNN = Genome(
    "cnn1d",
    [
        LayerGene("conv", {"filters": 8, "kernel_size": 9, "stride": 2}),
        LayerGene("elu"),
        LayerGene("maxpool", {"pool_size": 4}),
    ],
    {"optimizer": "adam", "lr": 0.003, "batch_size": 16, "head": "flatten"},
)
FAST = {"max_epochs": 2, "patience": 2, "random_state": 0}
# The search's seed, and the refit's: one whose best genome stops early (checked below)
SEARCH_SEED = 1

# Checks that cannot pass by design, each with its reason: none.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def _structure(module: torch.nn.Module) -> list[tuple[str, str, list[tuple[int, ...]]]]:
    """Name, type and parameter shapes of every layer: the architecture, not the weights."""
    return [
        (name, type(layer).__name__, [tuple(p.shape) for p in layer.parameters(recurse=False)])
        for name, layer in module.named_modules()
    ]


# --------------------------------------------------------------------------- sklearn contract
@parametrize_with_checks(
    [GenomeClassifier(genome=MLP.to_json(), **FAST)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- the search's refit
def _noisy(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A hard 3-class problem, so that early stopping ends before max_epochs."""
    X, y = make_classification(120, 8, n_informative=4, flip_y=0.2, n_classes=3, random_state=seed)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def noisy():
    return _noisy(0)


@pytest.fixture(scope="module")
def search(noisy):
    X, y = noisy
    # one member, the shared holdout, no cross-validation: the final model is
    # the refit of the best genome, which GenomeClassifier reproduces
    return EvolutionaryNASClassifier(
        population_size=4,
        n_generations=2,
        max_epochs=10,
        patience=2,
        lr_schedule="constant",  # early stopping + a schedule: see the GenomeClassifier tests
        holdout="fixed",
        cv=None,
        ensemble_size=1,
        random_state=SEARCH_SEED,
    ).fit(X, y)


def _best_record(search):
    key = search.best_genome_.key()
    return next(r for r in search.evaluations_ if Genome.from_dict(r["genome"]).key() == key)


def test_same_settings_and_seed_reproduce_the_search_refit(search, noisy):
    X, y = noisy
    clf = GenomeClassifier(
        search.best_genome_.to_json(),
        max_epochs=10,
        patience=2,
        lr_schedule="constant",
        random_state=SEARCH_SEED,
    ).fit(X, y)
    assert clf.genome_ == search.best_genome_
    # the early-stopped run is the search's own evaluation of this genome ...
    assert clf.best_epoch_ == _best_record(search)["best_epoch"] < 10  # stopped early
    assert clf.validation_score_ == search.best_score_
    # ... and the final training is the search's refit, weight for weight
    np.testing.assert_array_equal(clf.predict_proba(X), search.predict_proba(X))
    assert _structure(clf.module_) == _structure(search.best_module_)


def test_without_validation_trains_the_search_refit_epochs(search, noisy):
    X, y = noisy
    epochs = _best_record(search)["best_epoch"]
    clf = GenomeClassifier(
        search.best_genome_.to_dict(),
        max_epochs=epochs,
        lr_schedule="constant",
        validation_fraction=None,
        random_state=SEARCH_SEED,
    ).fit(X, y)
    assert clf.best_epoch_ == epochs
    assert np.isnan(clf.validation_score_)
    np.testing.assert_array_equal(clf.predict_proba(X), search.predict_proba(X))


def test_genome_json_reused_on_other_data_builds_the_same_network(search):
    X_other, y = _noisy(1)
    X_other = X_other * 10 + 5
    clf = GenomeClassifier(search.best_genome_.to_json(), **FAST).fit(X_other, y)
    assert clf.n_params_ == count_parameters(search.best_module_)
    assert _structure(clf.module_) == _structure(search.best_module_)
    # standardisation statistics come from the new data
    assert not torch.equal(clf.module_.standardize.mean, search.best_module_.standardize.mean)
    assert clf.predict_proba(X_other).shape == (len(y), 3)


def test_eeg_genome_from_a_search_refitted_on_the_test_epochs(scp1_small):
    X_train, X_test, y_train, y_test = scp1_small
    search = EvolutionaryNASClassifier(
        population_size=4, n_generations=2, ensemble_size=1, decimate=1, **FAST
    )
    search.fit(X_train, y_train)
    clf = GenomeClassifier(search.best_genome_.to_json(), **FAST).fit(X_test, y_test)
    assert clf.genome_.family == "eeg"
    assert clf.n_params_ == count_parameters(search.best_module_)
    assert _structure(clf.module_) == _structure(search.best_module_)
    assert clf.predict(X_train).shape == y_train.shape


# --------------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("form", [lambda g: g, Genome.to_dict, Genome.to_json])
def test_genome_forms_are_equivalent(form, blobs):
    X, y = blobs
    clf = GenomeClassifier(form(MLP), **FAST).fit(X, y)
    assert clf.genome_ == MLP
    assert clf.n_params_ == 4 * 16 + 16 + 16 * 3 + 3


def test_same_random_state_same_model_and_user_torch_state_untouched(scp1_small):
    X_train, X_test, y_train, _ = scp1_small
    torch_state = torch.get_rng_state()
    first = GenomeClassifier(CNN, **FAST).fit(X_train, y_train)
    second = GenomeClassifier(CNN, **FAST).fit(X_train, y_train)
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))
    assert torch.equal(torch.get_rng_state(), torch_state)
    # the early-stopped run is the search's evaluation of this genome
    prepared = prepare_data(X_train, y_train, random_state=FAST["random_state"])
    seed = candidate_seed(prepared.seeds.entropy, CNN)
    result = evaluate_candidate(CNN, prepared.parts, Recipe(2, 2), seed)
    assert (first.best_epoch_, first.validation_score_) == (result["best_epoch"], result["score"])


def test_pickle_round_trip_predicts_the_same(scp1_small):
    X_train, X_test, y_train, _ = scp1_small
    clf = GenomeClassifier(CNN.to_json(), **FAST).fit(X_train, y_train)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(clone.predict(X_test), clf.predict(X_test))
    assert clone.genome_ == clf.genome_
    assert "cnn1d genome" in clone.describe()


def test_string_labels_are_kept(blobs):
    X, y = blobs
    labels = np.array(["a", "b", "c"])[y]
    clf = GenomeClassifier(MLP, **FAST).fit(X, labels)
    assert set(clf.predict(X)) <= {"a", "b", "c"}
    assert clf.classes_.tolist() == ["a", "b", "c"]


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "genome, message",
    [
        ("not json", r"could not read 'not json'.*JSONDecodeError"),
        ('{"layers": []}', r"could not read .*family"),
        ({"family": "mlp", "layers": [{"params": {}}]}, "could not read"),
        ("[1, 2]", "could not read"),
        (42, "could not read 42: int is none of these"),
        (None, "genome must be a Genome, a dict .* got None instead"),
    ],
)
def test_unreadable_genome(genome, message, blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=message):
        GenomeClassifier(genome, **FAST).fit(X, y)


def test_parse_genome_reads_the_three_forms():
    assert parse_genome(MLP) is MLP
    assert parse_genome(MLP.to_dict()) == parse_genome(MLP.to_json()) == MLP


def test_family_must_match_the_dimensions_of_X(blobs, scp1_small):
    X, y = blobs
    with pytest.raises(ValueError, match=r"family 'cnn1d' does not match X.*shape \(4,\).*'mlp'"):
        GenomeClassifier(CNN, **FAST).fit(X, y)
    X_eeg, _, y_eeg, _ = scp1_small
    with pytest.raises(ValueError, match=r"family 'mlp' does not match X.*\(6, 224\).*'cnn1d'"):
        GenomeClassifier(MLP, **FAST).fit(X_eeg, y_eeg)
    images = np.zeros((20, 1, 4, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"genome of family 'cnn2d'"):
        GenomeClassifier(MLP, **FAST).fit(images, np.arange(20) % 2)


def test_genome_that_cannot_be_built_for_the_shape(scp1_small):
    X, _, y, _ = scp1_small
    too_long = CNN.replace(
        layers=[LayerGene("conv", {"filters": 4, "kernel_size": 500, "stride": 1})]
    )
    with pytest.raises(ValueError, match=r"cannot be built for samples of shape \(6, 224\).*500"):
        GenomeClassifier(too_long, **FAST).fit(X, y)
    unknown = CNN.replace(layers=[LayerGene("lstm", {"units": 4})])
    with pytest.raises(ValueError, match="cannot be built.*Unknown CNN layer kind 'lstm'"):
        GenomeClassifier(unknown, **FAST).fit(X, y)


def test_invalid_settings_are_reported_together(blobs):
    X, y = blobs
    bad = GenomeClassifier(
        MLP.replace(optimizer="lbfgs"),
        max_epochs=0,
        validation_fraction=1.5,
        scoring="no such scorer",
        standardize="yes",
        device="tpu",
        torch_threads=0,
    )
    with pytest.raises(ValueError) as info:
        bad.fit(X, y)
    message = str(info.value)
    for fragment in (
        "Invalid settings for GenomeClassifier",
        "genome gene 'optimizer' must be one of ['adadelta',",
        "got 'lbfgs'",
        "max_epochs must be an int >= 1, got 0 instead",
        "validation_fraction must be None or a float in (0, 1), got 1.5 instead",
        "scoring must be a scikit-learn scorer name",
        "standardize must be True or False, got 'yes' instead",
        "'tpu'",
        "torch_threads must be None or an int >= 1, got 0 instead",
    ):
        assert fragment in message


def test_training_failure_raises_runtime_error_with_the_reason(blobs):
    X, y = blobs
    clf = GenomeClassifier(MLP, net_params={"optimizer__lr": -1.0}, **FAST)
    with pytest.raises(RuntimeError, match=r"failed: ValueError: Invalid learning rate: -1\.0"):
        clf.fit(X, y)
