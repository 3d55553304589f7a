import numpy as np
import pytest

from skevonas.datasets import EEG_DATASETS, band_power, list_eeg_datasets, load_eeg

SHAPES = {
    "SelfRegulationSCP1": ((268, 6, 896), (293, 6, 896)),
    "SelfRegulationSCP2": ((200, 7, 1152), (180, 7, 1152)),
    "FingerMovements": ((316, 28, 50), (100, 28, 50)),
    "EyesOpenShut": ((56, 14, 128), (42, 14, 128)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_bundled_eeg_data_sets(name):
    data = load_eeg(name)
    assert (data.X_train.shape, data.X_test.shape) == SHAPES[name]
    assert data.X_train.dtype == np.float32
    assert len(data.y_train) == len(data.X_train) and len(data.y_test) == len(data.X_test)
    assert len(set(data.y_train.tolist())) == 2
    assert np.isfinite(data.X_train).all() and np.isfinite(data.X_test).all()
    if data.ch_names is not None:
        assert len(data.ch_names) == data.X_train.shape[1]
    X_train, X_test, y_train, y_test = load_eeg(name, return_X_y=True)
    np.testing.assert_array_equal(X_test, data.X_test)
    np.testing.assert_array_equal(y_train, data.y_train)


def test_list_and_unknown_names():
    assert list_eeg_datasets() == sorted(EEG_DATASETS) == sorted(SHAPES)
    with pytest.raises(ValueError, match="Unknown EEG data set 'SCP1'; must be one of"):
        load_eeg("SCP1")


def test_band_power_finds_a_known_rhythm():
    sfreq, n = 128.0, 256
    t = np.arange(n) / sfreq
    X = np.zeros((2, 2, n))
    X[0, 0] = np.sin(2 * np.pi * 10 * t)  # alpha on channel 0 of epoch 0
    X[1, 1] = np.sin(2 * np.pi * 20 * t)  # beta on channel 1 of epoch 1
    features = band_power(X, sfreq, {"alpha": (8, 13), "beta": (13, 30)})
    assert features.shape == (2, 4)
    assert features[0, 0] > features[0, 1] + 5  # epoch 0, channel 0: alpha >> beta
    assert features[1, 3] > features[1, 2] + 5  # epoch 1, channel 1: beta >> alpha
    with pytest.raises(ValueError, match="must be 3-D"):
        band_power(X[0], sfreq)
    with pytest.raises(ValueError, match="holds no FFT frequency"):
        band_power(X, sfreq, {"gamma": (100, 200)})
