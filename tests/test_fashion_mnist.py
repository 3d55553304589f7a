import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from skevonas.datasets.fashion_mnist import (
    DEFAULT_PATH,
    ENV_VAR,
    FASHION_MNIST_CLASSES,
    FILES,
    load_fashion_mnist,
)

# The folder load_fashion_mnist() reads by default.
REAL = Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)
HAS_REAL = all(
    (REAL / name).is_file() or (REAL / f"{name}.gz").is_file()
    for pair in FILES.values()
    for name in pair
)
needs_real = pytest.mark.skipif(
    not HAS_REAL,
    reason=f"Fashion-MNIST is not installed in {DEFAULT_PATH} (apt install dataset-fashion-mnist)",
)


# --------------------------------------------------------------------------- a fake folder
def idx_bytes(array, magic=None):
    """An IDX file of unsigned bytes holding ``array``."""
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x0800 + array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write(folder, name, data, gz):
    path = folder / (f"{name}.gz" if gz else name)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def fake_folder(folder, n_train=30, n_test=20, gz=True, seed=0):
    """Random images; labels 0..9 in turn. Returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        images_name, labels_name = FILES[part]
        write(folder, images_name, idx_bytes(images), gz)
        write(folder, labels_name, idx_bytes(labels), gz)
        arrays[part] = images, labels
    return arrays


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_reads_idx_files(tmp_path, gz):
    written = fake_folder(tmp_path, gz=gz)
    data = load_fashion_mnist(path=tmp_path)
    for part in ("train", "test"):
        images, labels = written[part]
        X, y = data[f"X_{part}"], data[f"y_{part}"]
        assert X.shape == (len(images), 784) and X.dtype == np.float32
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, labels)
        np.testing.assert_allclose(X, images.reshape(len(images), -1) / 255.0, rtol=1e-6)
        assert 0.0 <= X.min() and X.max() <= 1.0
    assert data.target_names == list(FASHION_MNIST_CLASSES)
    assert len(data.target_names) == 10 and data.target_names[9] == "Ankle boot"
    assert data.path == str(tmp_path)


def test_return_X_y_in_the_order_of_load_eeg(tmp_path):
    fake_folder(tmp_path)
    X_train, X_test, y_train, y_test = load_fashion_mnist(path=tmp_path, return_X_y=True)
    assert X_train.shape == (30, 784) and X_test.shape == (20, 784)
    assert y_train.shape == (30,) and y_test.shape == (20,)


def test_gzipped_and_plain_files_mix(tmp_path):
    fake_folder(tmp_path, gz=True)
    # Replace one gzipped file by a plain one.
    labels = (np.arange(20) % 10).astype(np.uint8)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    write(tmp_path, "t10k-labels-idx1-ubyte", idx_bytes(labels), gz=False)
    assert load_fashion_mnist(path=tmp_path).y_test.tolist() == labels.tolist()


def test_environment_variable_names_the_folder(tmp_path, monkeypatch):
    fake_folder(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_fashion_mnist().X_train.shape == (30, 784)
    # path= wins over the variable.
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    assert load_fashion_mnist(path=tmp_path).X_train.shape == (30, 784)


def test_subsets_are_stratified_and_deterministic(tmp_path):
    fake_folder(tmp_path, n_train=200, n_test=100)
    a = load_fashion_mnist(path=tmp_path, n_train=50, n_test=20, random_state=0)
    b = load_fashion_mnist(path=tmp_path, n_train=50, n_test=20, random_state=0)
    c = load_fashion_mnist(path=tmp_path, n_train=50, n_test=20, random_state=1)
    assert a.X_train.shape == (50, 784) and a.X_test.shape == (20, 784)
    assert np.bincount(a.y_train).tolist() == [5] * 10
    assert np.bincount(a.y_test).tolist() == [2] * 10
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_train, c.X_train)
    # The full size is the whole part, in file order.
    full = load_fashion_mnist(path=tmp_path, n_train=200)
    np.testing.assert_array_equal(full.y_train, np.arange(200) % 10)


@pytest.mark.parametrize("n", [0, 5, 201, 2.5, True])
def test_subset_size_out_of_range(tmp_path, n):
    fake_folder(tmp_path, n_train=200)
    with pytest.raises(ValueError, match=r"n_train must be None or an int in \[10, 200\]"):
        load_fashion_mnist(path=tmp_path, n_train=n)


# --------------------------------------------------------------------------- errors
def test_missing_folder_says_where_and_how(tmp_path):
    folder = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(path=folder)
    message = str(info.value)
    assert repr(str(folder)) in message
    for pair in FILES.values():
        for name in pair:
            assert name in message
    assert "apt install dataset-fashion-mnist" in message
    assert ENV_VAR in message and "path=" in message


def test_one_missing_file_is_named(tmp_path):
    fake_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing: train-labels-idx1-ubyte\)"):
        load_fashion_mnist(path=tmp_path)


def test_wrong_magic_number(tmp_path):
    fake_folder(tmp_path)
    labels = (np.arange(30) % 10).astype(np.uint8)
    write(tmp_path, "train-labels-idx1-ubyte", idx_bytes(labels, magic=0x0803), gz=True)
    with pytest.raises(ValueError, match="magic number 0x00000803, expected 0x00000801"):
        load_fashion_mnist(path=tmp_path)


def test_not_an_idx_file_at_all(tmp_path):
    fake_folder(tmp_path)
    write(tmp_path, "t10k-images-idx3-ubyte", b"<html>not found</html>", gz=True)
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes with 3 dimension"):
        load_fashion_mnist(path=tmp_path)


def test_truncated_data(tmp_path):
    fake_folder(tmp_path)
    data = idx_bytes(np.zeros((30, 28, 28)))[:-100]
    write(tmp_path, "train-images-idx3-ubyte", data, gz=False)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(ValueError, match=r"holds 23420 bytes of data.*\(30, 28, 28\)"):
        load_fashion_mnist(path=tmp_path)


def test_corrupt_gzip(tmp_path):
    fake_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="not a valid gzip file"):
        load_fashion_mnist(path=tmp_path)


def test_images_and_labels_must_match(tmp_path):
    fake_folder(tmp_path)
    write(tmp_path, "train-labels-idx1-ubyte", idx_bytes(np.zeros(29)), gz=True)
    with pytest.raises(ValueError, match="holds 30 images but .* holds 29 labels"):
        load_fashion_mnist(path=tmp_path)


def test_images_must_be_28_by_28(tmp_path):
    fake_folder(tmp_path)
    write(tmp_path, "t10k-images-idx3-ubyte", idx_bytes(np.zeros((20, 32, 32))), gz=True)
    with pytest.raises(ValueError, match="images of 32 x 32 pixels, expected 28 x 28"):
        load_fashion_mnist(path=tmp_path)


def test_labels_must_be_classes(tmp_path):
    fake_folder(tmp_path)
    write(tmp_path, "t10k-labels-idx1-ubyte", idx_bytes(np.full(20, 10)), gz=True)
    with pytest.raises(ValueError, match="holds label 10, expected labels 0 to 9"):
        load_fashion_mnist(path=tmp_path)


# --------------------------------------------------------------------------- the real files
@pytest.fixture(scope="module")
def real():
    return load_fashion_mnist(path=REAL)


@needs_real
def test_real_files_shapes_and_ranges(real):
    assert real.X_train.shape == (60000, 784) and real.X_test.shape == (10000, 784)
    assert real.X_train.dtype == np.float32 and real.y_train.dtype == np.int64
    assert real.X_train.min() == 0.0 and real.X_train.max() == 1.0
    # Fashion-MNIST is balanced: 6,000 and 1,000 images per class.
    assert np.bincount(real.y_train).tolist() == [6000] * 10
    assert np.bincount(real.y_test).tolist() == [1000] * 10


@needs_real
def test_real_subsets_are_stratified_and_deterministic(real):
    a = load_fashion_mnist(path=REAL, n_train=1000, n_test=500, random_state=0)
    b = load_fashion_mnist(path=REAL, n_train=1000, n_test=500, random_state=0)
    assert np.bincount(a.y_train).tolist() == [100] * 10
    assert np.bincount(a.y_test).tolist() == [50] * 10
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    # Every subset image is one of the full set's (same pixels, same label).
    rows = {row.tobytes(): label for row, label in zip(real.X_test, real.y_test, strict=True)}
    assert all(rows[x.tobytes()] == y for x, y in zip(a.X_test, a.y_test, strict=True))
