"""prepare_data: the public way to get what the search trains candidates on."""

from __future__ import annotations

import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier, Genome
from skevonas.prepare import Seeds, draw_entropy, encode_labels, prepare_data
from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.eeg_space import eegnet_genome
from skevonas.spaces.networks import build_module
from skevonas.training.candidate import candidate_seed, evaluate_candidate
from skevonas.training.recipe import Recipe


def test_prepare_data_gives_exactly_what_the_search_trained_on(blobs, fast):
    X, y = blobs
    labels = np.array(["x", "y", "z"])[y]
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}, holdout="fixed").fit(X, labels)
    prepared = prepare_data(X, labels, random_state=fast["random_state"])
    assert prepared.classes.tolist() == clf.classes_.tolist()
    settings = Recipe(
        max_epochs=fast["max_epochs"], patience=fast["patience"], lr_schedule="cosine"
    )
    for row in clf.evaluations_:
        genome = Genome.from_dict(row["genome"])
        seed = candidate_seed(prepared.seeds.entropy, genome)
        again = evaluate_candidate(genome, prepared.parts, settings, seed)
        assert (again["score"], again["curves"]) == (row["score"], row["curves"])


def test_standardisation_statistics_come_from_the_training_part_only(scp1_small):
    X, _, y, _ = scp1_small
    prepared = prepare_data(X, y, random_state=0)
    parts = prepared.parts
    assert len(parts.y_train) + len(parts.y_valid) == len(y)
    mean, std = parts.input_stats
    assert mean.shape == std.shape == (X.shape[1], 1)  # one mean and std per channel
    np.testing.assert_allclose(mean, channel_stats(parts.X_train)[0], rtol=1e-6)
    np.testing.assert_allclose(std, channel_stats(parts.X_train)[1], rtol=1e-6)
    assert not np.allclose(mean, channel_stats(X)[0], rtol=1e-6)  # validation part left out
    # every candidate network starts with exactly those statistics
    net = build_module(eegnet_genome(64), X.shape[1:], 2, input_stats=parts.input_stats)
    np.testing.assert_array_equal(net.standardize.mean[0].numpy(), mean)
    assert prepare_data(X, y, random_state=0, standardize=False).parts.input_stats is None


def test_seeds_follow_random_state_or_a_given_entropy(blobs):
    X, y = blobs
    a, b = prepare_data(X, y, random_state=3), prepare_data(X, y, random_state=3)
    assert a.seeds == b.seeds == Seeds.from_entropy(draw_entropy(3))
    np.testing.assert_array_equal(a.parts.y_valid, b.parts.y_valid)
    other = prepare_data(X, y, random_state=4)
    assert other.seeds != a.seeds
    assert not np.array_equal(other.parts.X_valid, a.parts.X_valid)
    # an explicit entropy (a resumed search's) wins over random_state
    resumed = prepare_data(X, y, random_state=4, entropy=a.seeds.entropy)
    assert resumed.seeds == a.seeds
    # a RandomState instance is drawn from once, as the estimator draws from it
    rng = np.random.RandomState(0)
    first = prepare_data(X, y, random_state=rng).seeds.entropy
    assert first == draw_entropy(np.random.RandomState(0))
    assert prepare_data(X, y, random_state=rng).seeds.entropy != first


def test_validation_fraction_sets_the_size_of_the_stratified_validation_part(blobs):
    X, y = blobs
    parts = prepare_data(X, y, validation_fraction=0.5, random_state=0).parts
    assert len(parts.y_valid) == 45
    assert np.bincount(parts.y_valid).tolist() == [15, 15, 15]


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.zeros(90, dtype=int), "needs samples of at least 2 classes in y, got 1 class: 0"),
        (np.r_[np.zeros(89, dtype=int), 1], "class 1 has only 1 sample"),
        (np.zeros(80), "Found input variables with inconsistent numbers of samples"),
    ],
)
def test_bad_labels_are_clear_errors(blobs, y, message):
    with pytest.raises(ValueError, match=message):
        prepare_data(blobs[0], y)


def test_encode_labels_sorts_the_classes_and_names_the_owner():
    classes, encoded = encode_labels(np.array(["b", "a", "c", "a"]))
    assert classes.tolist() == ["a", "b", "c"] and encoded.tolist() == [1, 0, 2, 0]
    assert encoded.dtype == np.int64
    with pytest.raises(ValueError, match="^MyModel needs samples of at least 2 classes"):
        encode_labels(["a", "a"], owner="MyModel")
