"""MNE-Python Epochs as input (issue 30): fit, predict, score and the command line.

Every Epochs object is built here with ``mne.EpochsArray`` (no downloads).
"""

from __future__ import annotations

import builtins
import json

import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier, GenomeClassifier, load
from skevonas.cli.commands import main
from skevonas.cli.files import read_data
from skevonas.epochs import epochs_labels, is_epochs, read_epochs, read_epochs_file

mne = pytest.importorskip("mne")

SFREQ = 256.0


def make_epochs(sfreq=SFREQ, n=40, n_times=256, seed=0):
    """Epochs of 3 EEG channels in volts, events "left" (code 1) and "right" (code 2)."""
    rng = np.random.default_rng(seed)
    codes = np.tile([1, 2], n // 2)
    data = rng.normal(scale=1e-5, size=(n, 3, n_times))
    data[codes == 2, 0] += 5e-6
    events = np.column_stack([np.arange(n) * n_times, np.zeros(n, int), codes])
    info = mne.create_info(["C3", "Cz", "C4"], sfreq=sfreq, ch_types="eeg")
    return mne.EpochsArray(data, info, events, event_id={"left": 1, "right": 2}, verbose="error")


@pytest.fixture(scope="module")
def epochs():
    return make_epochs()


@pytest.fixture(scope="module")
def search(epochs, one_generation):
    return EvolutionaryNASClassifier(**one_generation).fit(epochs)


# --------------------------------------------------------------------------- reading
def test_epochs_are_read_with_their_names_rate_and_volts(epochs):
    assert is_epochs(epochs) and not is_epochs(epochs.get_data())
    data = read_epochs(epochs)
    np.testing.assert_array_equal(data.X, epochs.get_data())
    assert np.abs(data.X).max() < 1e-3  # volts, as MNE stores them
    assert data.y.tolist() == ["left", "right"] * 20 == epochs_labels(epochs).tolist()
    assert data.sfreq == SFREQ
    # a y given with the Epochs wins
    assert read_epochs(epochs, np.arange(40) % 4).y.tolist() == (np.arange(40) % 4).tolist()


def test_bad_epochs_are_dropped_with_their_labels():
    epochs = make_epochs()
    epochs.drop([0, 1, 2])  # "left", "right", "left"
    data = read_epochs(epochs)
    assert len(data.X) == len(data.y) == 37 and data.y[0] == "right"


# --------------------------------------------------------------------------- the search
def test_fit_takes_epochs_with_their_labels_and_rate(search, epochs):
    assert search.classes_.tolist() == ["left", "right"]
    assert search.sfreq_ == SFREQ and search.decimation_ == 2  # 256 Hz -> 128 Hz
    assert search.sample_shape_ == (3, 256)
    predicted = search.predict(epochs)
    assert set(predicted) <= {"left", "right"} and len(predicted) == 40
    np.testing.assert_array_equal(
        search.predict_proba(epochs), search.predict_proba(epochs.get_data())
    )
    # score takes the labels from the events; arrays still need y
    score = search.score(epochs)
    assert score == search.score(epochs.get_data(), epochs_labels(epochs))
    with pytest.raises(TypeError, match="needs y, the true labels, unless X is MNE Epochs"):
        search.score(epochs.get_data())


def test_fitting_epochs_equals_fitting_their_arrays_at_their_rate(search, epochs, one_generation):
    arrays = EvolutionaryNASClassifier(sfreq=SFREQ, **one_generation)
    arrays.fit(epochs.get_data(), epochs_labels(epochs))
    assert [r["score"] for r in arrays.evaluations_] == [r["score"] for r in search.evaluations_]
    assert [r["key"] for r in arrays.evaluations_] == [r["key"] for r in search.evaluations_]
    np.testing.assert_array_equal(arrays.predict_proba(epochs), search.predict_proba(epochs))


def test_a_y_given_with_epochs_wins(epochs, small_eeg_genome):
    y = np.where(np.arange(40) < 20, "first", "second")
    clf = GenomeClassifier(small_eeg_genome, max_epochs=1, validation_fraction=None, random_state=0)
    clf.fit(epochs, y)
    assert clf.classes_.tolist() == ["first", "second"] and clf.sfreq_ == SFREQ
    assert clf.score(epochs, y) == clf.score(epochs.get_data(), y)


def test_a_rate_setting_must_agree_with_the_epochs(epochs, small_eeg_genome):
    clf = GenomeClassifier(small_eeg_genome, max_epochs=1, validation_fraction=None, random_state=0)
    clf.fit(epochs)
    assert clf.sfreq_ == SFREQ
    before = clf.predict_proba(epochs)
    clf.set_params(sfreq=250.0)
    with pytest.raises(ValueError, match=r"sfreq=250.0 disagrees with the Epochs' sampling rate"):
        clf.fit(epochs)
    np.testing.assert_array_equal(clf.predict_proba(epochs), before)  # nothing changed
    clf.set_params(sfreq=256).fit(epochs)  # the same rate: fine
    assert clf.sfreq_ == SFREQ


def test_predict_refuses_epochs_at_another_rate(search):
    other = make_epochs(sfreq=512.0)  # same shape, another rate
    with pytest.raises(ValueError, match=r"fitted on data sampled at 256 Hz, but these Epochs"):
        search.predict(other)
    with pytest.raises(ValueError, match="epochs.resample"):
        search.score(other)


# --------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def fif(tmp_path_factory, epochs):
    path = tmp_path_factory.mktemp("epo") / "tiny-epo.fif"
    epochs.save(path, verbose="error")
    return path


def test_epochs_files_are_read_as_data_files(fif, epochs):
    data = read_data(fif)
    np.testing.assert_allclose(data.X, epochs.get_data(), rtol=1e-6)
    assert data.y.tolist() == epochs_labels(epochs).tolist()
    assert data.sfreq == SFREQ and data.feature_names is None
    assert read_epochs_file(fif).sfreq == SFREQ


def test_an_epochs_file_without_mne_names_the_extra(fif, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_mne(name, *args, **kwargs):
        if name == "mne" or name.startswith("mne."):
            raise ModuleNotFoundError("No module named 'mne'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mne)
    with pytest.raises(ImportError, match=r'pip install "skevonas\[mne\]"'):
        read_data(fif)
    assert main(["search", str(fif), "--output", str(fif.parent / "out")]) == 2
    assert 'pip install "skevonas[mne]"' in capsys.readouterr().err
    assert not (fif.parent / "out").exists()


def test_the_command_line_searches_and_predicts_an_epochs_file(fif, epochs, tmp_path, capsys):
    folder = tmp_path / "out"
    argv = ["search", str(fif), "--quiet", "--population-size", "2", "--n-generations", "1"]
    argv += ["--max-epochs", "1", "--cv", "none", "--n-finalists", "1", "--n-jobs", "1"]
    assert main([*argv, "--output", str(folder)]) == 0
    capsys.readouterr()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["settings"]["sfreq"] == SFREQ
    assert summary["data"]["classes"] == ["left", "right"]
    model = load(folder / "model.skevonas")
    assert model.sfreq_ == SFREQ and model.decimation_ == 2
    assert main(["predict", str(folder), str(fif)]) == 0
    assert "accuracy" in capsys.readouterr().err
    # a --sfreq that disagrees with the file is refused before any folder is made
    assert main([*argv, "--sfreq", "250", "--output", str(tmp_path / "no")]) == 2
    assert "disagrees with the Epochs' sampling rate of 256 Hz" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    # predicting Epochs at another rate is refused
    other = tmp_path / "other-epo.fif"
    make_epochs(sfreq=512.0).save(other, verbose="error")
    assert main(["predict", str(folder), str(other)]) == 2
    assert "sampled at 256 Hz, but these Epochs are sampled at 512 Hz" in capsys.readouterr().err
