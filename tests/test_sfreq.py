"""The sampling-rate setting ``sfreq`` (issue 30): decimation, seeds, sfreq_, files, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import skevonas
from skevonas import CheckpointError, EvolutionaryNASClassifier, GenomeClassifier, ModelFileError
from skevonas.settings import (
    AUTO_DECIMATION_SFREQ,
    MIN_DECIMATED_SFREQ,
    decimation,
    initial_genomes,
    seed_sfreq,
)
from skevonas.spaces import get_space
from skevonas.spaces.eeg_space import standard_eeg_genomes
from skevonas.spaces.genome import parse_genome
from skevonas.store.resume import check_compatible, search_meta


@pytest.fixture(scope="module")
def tiny(one_generation):
    """Three candidates: the three seeds of an EEG search, and nothing else."""
    return {**one_generation, "population_size": 3}


@pytest.fixture(scope="module")
def epochs_data():
    """40 epochs of 3 channels and 1 s at 256 Hz, two classes apart in channel 0."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3, 256)).astype(np.float32)
    y = np.repeat(["left", "right"], 20)
    X[y == "right", 0] += 0.5
    return X, y


# --------------------------------------------------------------------------- the rules
@pytest.mark.parametrize(
    ("sfreq", "factor"),
    [(100, 1), (128, 1), (160, 1), (191, 1), (200, 2), (250, 2), (256, 2), (500, 4),
     (512, 4), (1000, 8), (2048, 16)],
)  # fmt: skip
def test_auto_decimation_aims_at_128_hz_with_a_known_rate(sfreq, factor):
    assert decimation("auto", (3, 4096), sfreq) == factor
    if factor > 1:  # the rate the seeds see is near their papers' 128 Hz
        assert 0.66 * AUTO_DECIMATION_SFREQ < sfreq / factor < 1.34 * AUTO_DECIMATION_SFREQ


def test_auto_decimation_by_rate_not_length():
    # 4 s at 128 Hz: the length rule decimates by 2, the rate rule keeps 128 Hz
    assert decimation("auto", (3, 512)) == 2
    assert decimation("auto", (3, 512), 128.0) == 1
    # 100 ms at 1000 Hz: by the rate 8, capped so that 8 samples remain
    assert decimation("auto", (3, 100), 1000.0) == 8
    assert decimation("auto", (3, 50), 1000.0) == 6
    assert decimation("auto", (3, 5), 1000.0) == 1
    # other input is never decimated
    assert decimation("auto", (4,), 1000.0) == 1


def test_an_int_decimate_wins_but_may_not_go_below_32_hz():
    assert decimation(1, (3, 1000), 1000.0) == 1
    assert decimation(3, (3, 1000), 1000.0) == 3
    assert decimation(8, (3, 1000), 256.0) == 8  # exactly 32 Hz
    with pytest.raises(ValueError, match=r"decimate=9 brings sfreq=256 Hz down to 28.4444 Hz"):
        decimation(9, (3, 1000), 256.0)
    assert MIN_DECIMATED_SFREQ == 32.0
    assert decimation(1, (3, 1000), 10.0) == 1  # slow data is not refused, only decimation


def test_the_auto_seeds_are_scaled_to_the_decimated_rate(small_eeg_genome):
    space = get_space("eeg", (3, 512))
    assert seed_sfreq(256.0, 2) == 128.0 and seed_sfreq(None, 2) is None
    published = initial_genomes("auto", space)
    assert published == initial_genomes("auto", space, None) == standard_eeg_genomes()
    at_128 = initial_genomes("auto", space, 128.0)
    assert at_128 == standard_eeg_genomes(128.0)
    # ShallowConvNet's 25-sample kernel and 75/15 pool are at 250 Hz
    assert at_128[0].layers[0]["kernel_size"] == 13
    assert (at_128[0].layers[4]["pool_size"], at_128[0].layers[4]["stride"]) == (38, 8)
    at_64 = initial_genomes("auto", space, 64.0)
    # EEGNet's and EEGNeX's half-second kernels (64 samples at 128 Hz)
    assert [g.layers[0]["kernel_size"] for g in at_64] == [6, 32, 32]
    # a list is used as it is
    assert initial_genomes([small_eeg_genome], space, 64.0) == [small_eeg_genome]


@pytest.mark.parametrize(
    "bad", [0, -1, 0.0, float("nan"), float("inf"), "250", True, [250]], ids=repr
)
def test_bad_sfreq_values_are_named(bad, small_eeg_genome):
    genome = small_eeg_genome
    for clf in (EvolutionaryNASClassifier(sfreq=bad), GenomeClassifier(genome, sfreq=bad)):
        with pytest.raises(ValueError, match=r"sfreq must be None or a finite number > 0 \(Hz\)"):
            clf.check_settings()


def test_sfreq_with_input_without_a_time_axis_is_refused_and_changes_nothing(
    epochs_data, small_eeg_genome, tiny
):
    X, y = epochs_data
    clf = GenomeClassifier(small_eeg_genome, max_epochs=1, validation_fraction=None, random_state=0)
    clf.fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(sfreq=250.0)
    with pytest.raises(ValueError, match=r"sfreq=250.0 is the sampling rate of the time axis"):
        clf.fit(X[:, 0, :], y)
    assert clf.sfreq_ is None and clf.sample_shape_ == (3, 256)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    with pytest.raises(ValueError, match="time axis of 3-D input"):
        EvolutionaryNASClassifier(sfreq=100.0, **tiny).fit(X[:, 0, :], y)


def test_a_decimation_below_32_hz_is_refused_by_fit(epochs_data, tiny):
    X, y = epochs_data
    clf = EvolutionaryNASClassifier(sfreq=256.0, decimate=16, **tiny)
    with pytest.raises(ValueError, match="decimate=16 brings sfreq=256 Hz down to 16 Hz"):
        clf.fit(X, y)
    assert not hasattr(clf, "sfreq_")


# --------------------------------------------------------------------------- the search
def _seeds_trained(clf):
    return [parse_genome(row["genome"]) for row in clf.evaluations_ if row["generation"] == 0]


@pytest.fixture(scope="module")
def search_256(epochs_data, tiny):
    X, y = epochs_data
    return EvolutionaryNASClassifier(sfreq=256.0, **tiny).fit(X, y)


def test_the_search_decimates_to_128_hz_and_scales_the_seeds(search_256, epochs_data, tiny):
    X, y = epochs_data
    clf = search_256
    assert clf.sfreq_ == 256.0 and isinstance(clf.sfreq_, float)
    assert clf.decimation_ == 2  # by the length alone, 256 samples are not decimated
    space = clf.search_space_
    wanted = {space.repair(g).key() for g in standard_eeg_genomes(128.0)}
    assert {g.key() for g in _seeds_trained(clf)} == wanted
    assert clf.predict(X[:5]).shape == (5,)  # at the input's rate: 256 samples
    # without sfreq: today's rule (no decimation of 256 samples, published kernels)
    plain = EvolutionaryNASClassifier(**tiny).fit(X, y)
    assert plain.sfreq_ is None and plain.decimation_ == 1
    wanted = {plain.search_space_.repair(g).key() for g in standard_eeg_genomes()}
    assert {g.key() for g in _seeds_trained(plain)} == wanted


def test_an_int_decimate_wins_and_the_seeds_follow_it(epochs_data, tiny):
    X, y = epochs_data
    clf = EvolutionaryNASClassifier(sfreq=256.0, decimate=1, **tiny).fit(X, y)
    assert clf.decimation_ == 1
    wanted = {clf.search_space_.repair(g).key() for g in standard_eeg_genomes(256.0)}
    assert {g.key() for g in _seeds_trained(clf)} == wanted


def test_a_resume_at_another_rate_is_refused(epochs_data, tiny):
    X, y = epochs_data
    clf = EvolutionaryNASClassifier(sfreq=256.0, **tiny).fit(X, y)
    assert clf.search_state_.meta["settings"]["sfreq"] == 256.0
    clf.set_params(sfreq=200.0, warm_start=True, n_generations=2)
    with pytest.raises(CheckpointError, match=r"sfreq=256.0 there, 200.0 here"):
        clf.fit(X, y)
    assert clf.sfreq_ == 256.0  # the refused fit changed nothing


def test_checkpoints_from_before_sfreq_resume_at_an_unknown_rate():
    X, y = np.zeros((4, 3, 16), dtype=np.float32), np.array([0, 1, 0, 1])
    params = EvolutionaryNASClassifier(random_state=0).get_params()
    now = search_meta(params, "eeg", [], X, y, [0, 1])
    old = json.loads(json.dumps(now))
    del old["settings"]["sfreq"]  # what a checkpoint of an older skevonas holds
    check_compatible(old, now, "an old checkpoint")
    with pytest.raises(CheckpointError, match=r"sfreq=None there, 250.0 here"):
        check_compatible(old, search_meta(params, "eeg", [], X, y, [0, 1], 250.0), "it")


# --------------------------------------------------------------------------- model files
def _document(path):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return json.loads(f.metadata()["skevonas"])


def _rewrite(path, document):
    tensors = load_file(str(path))
    save_file(tensors, str(path), metadata={"format": "pt", "skevonas": json.dumps(document)})


def test_model_files_keep_the_rate(search_256, epochs_data, tmp_path):
    X, _ = epochs_data
    path = skevonas.save(search_256, tmp_path / "m.skevonas")
    assert _document(path)["sfreq"] == 256.0
    loaded = skevonas.load(path)
    assert loaded.sfreq_ == 256.0
    np.testing.assert_array_equal(loaded.predict_proba(X), search_256.predict_proba(X))


def test_files_without_a_rate_load_with_none_and_bad_rates_are_refused(
    epochs_data, small_eeg_genome, tmp_path
):
    X, y = epochs_data
    clf = GenomeClassifier(small_eeg_genome, max_epochs=1, validation_fraction=None, random_state=0)
    path = skevonas.save(clf.fit(X, y), tmp_path / "old.skevonas")
    document = _document(path)
    assert "sfreq" not in document  # as every file of an earlier skevonas
    assert skevonas.load(path).sfreq_ is None
    for bad in (-1.0, 0, "250", None, float("inf")):
        _rewrite(path, {**document, "sfreq": bad})
        with pytest.raises(ModelFileError, match="'sfreq' must be a finite number > 0"):
            skevonas.load(path)
    _rewrite(path, {**document, "sfreq": 100})
    assert skevonas.load(path).sfreq_ == 100


def test_the_genome_classifier_records_the_rate_and_trains_the_genome_as_it_is(
    epochs_data, small_eeg_genome
):
    X, y = epochs_data
    kwargs = {"max_epochs": 1, "validation_fraction": None, "random_state": 0}
    with_rate = GenomeClassifier(small_eeg_genome, sfreq=256, **kwargs).fit(X, y)
    without = GenomeClassifier(small_eeg_genome, **kwargs).fit(X, y)
    assert with_rate.sfreq_ == 256.0 and without.sfreq_ is None
    for a, b in zip(
        with_rate.estimator_.module_.parameters(),
        without.estimator_.module_.parameters(),
        strict=True,
    ):
        assert torch.equal(a, b)
