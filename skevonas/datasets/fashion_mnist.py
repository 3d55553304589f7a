"""Fashion-MNIST from local IDX files (Debian's ``dataset-fashion-mnist``).

Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, Zalando Research) holds
28 x 28 grey-scale images of clothing in 10 classes: 60,000 for training and
10,000 for testing. skevonas does not ship it and never downloads it:
:func:`load_fashion_mnist` reads the four IDX files that Debian's package
``dataset-fashion-mnist`` installs under ``/usr/share/datasets/fashion-mnist``
(``apt install dataset-fashion-mnist``), or the same files, gzipped or not,
from any folder named by ``path=`` or the environment variable
``SKEVONAS_FASHION_MNIST``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist"]

#: The 10 class names, by label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

ENV_VAR = "SKEVONAS_FASHION_MNIST"
DEFAULT_PATH = "/usr/share/datasets/fashion-mnist"
# part -> (images file, labels file), as named by the data set's authors.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_SIDE = 28
_GZIP_MAGIC = b"\x1f\x8b"


def _folder(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        path = os.environ.get(ENV_VAR) or DEFAULT_PATH
    return Path(path)


def _find(folder: Path, name: str) -> Path | None:
    """``name`` or ``name.gz`` inside ``folder``, whichever exists."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing_error(folder: Path, missing: list[str]) -> FileNotFoundError:
    expected = ", ".join(f"{name}[.gz]" for pair in FILES.values() for name in pair)
    return FileNotFoundError(
        f"Fashion-MNIST files not found in {str(folder)!r} (missing: {', '.join(missing)}); "
        f"expected {expected}. Install them with `apt install dataset-fashion-mnist` "
        f"(Debian, into {DEFAULT_PATH}), or point the environment variable {ENV_VAR} or "
        "path= at a folder that holds them. skevonas never downloads data."
    )


def _read_idx(file: Path, ndim: int) -> np.ndarray:
    """The uint8 array in an IDX file (gzipped or not) with ``ndim`` dimensions.

    IDX: two zero bytes, a type byte (0x08: unsigned byte), a byte with the
    number of dimensions, one big-endian uint32 per dimension, then the data.
    """
    raw = file.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{file} is not a valid gzip file: {exc}") from exc
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    expected_magic = 0x0800 + ndim
    if magic != expected_magic:
        found = "no magic number" if magic is None else f"magic number 0x{magic:08x}"
        raise ValueError(
            f"{file} is not an IDX file of unsigned bytes with {ndim} dimension(s): "
            f"{found}, expected 0x{expected_magic:08x}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{file} is truncated: its IDX header needs {header} bytes")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise ValueError(
            f"{file} holds {len(raw) - header} bytes of data, but its header announces "
            f"shape {shape} ({size} bytes)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_part(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    images_name, labels_name = FILES[part]
    images_file, labels_file = _find(folder, images_name), _find(folder, labels_name)
    if images_file is None or labels_file is None:
        missing = [name for name in FILES[part] if _find(folder, name) is None]
        raise _missing_error(folder, missing)
    images = _read_idx(images_file, ndim=3)
    labels = _read_idx(labels_file, ndim=1)
    if images.shape[1:] != (_SIDE, _SIDE):
        raise ValueError(
            f"{images_file} holds images of {images.shape[1]} x {images.shape[2]} pixels, "
            f"expected {_SIDE} x {_SIDE}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} labels"
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(
            f"{labels_file} holds label {int(labels.max())}, expected labels 0 to "
            f"{len(FASHION_MNIST_CLASSES) - 1}"
        )
    return images, labels


def _subset(
    n: int | None, labels: np.ndarray, name: str, random_state: object
) -> np.ndarray | None:
    """Sorted indices of a stratified subset of ``n`` samples (None: all of them)."""
    if n is None or n == len(labels):
        return None
    n_classes = len(np.unique(labels))
    if (
        isinstance(n, bool)
        or not isinstance(n, (int, np.integer))
        or not (n_classes <= n <= len(labels))
    ):
        raise ValueError(
            f"{name} must be None or an int in [{n_classes}, {len(labels)}], got {n!r} instead"
        )
    chosen, _ = train_test_split(
        np.arange(len(labels)), train_size=int(n), stratify=labels, random_state=random_state
    )
    return np.sort(chosen)


def _features(images: np.ndarray, index: np.ndarray | None) -> np.ndarray:
    if index is not None:
        images = images[index]
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return X


def load_fashion_mnist(
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    path: str | os.PathLike[str] | None = None,
    random_state: int | np.random.RandomState | None = 0,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load Fashion-MNIST with its train/test split from local IDX files.

    Nothing is downloaded. The four files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``, each gzipped or not) are read from ``path``,
    else from the folder in the environment variable
    ``SKEVONAS_FASHION_MNIST``, else from ``/usr/share/datasets/fashion-mnist``
    where Debian's package ``dataset-fashion-mnist`` installs them.

    Parameters
    ----------
    n_train, n_test : int or None, default=None
        Size of a stratified random subset of the training or test part
        (None: all 60,000 or 10,000 images). The subset keeps the files'
        order.
    path : str or path-like or None, default=None
        Folder that holds the files.
    random_state : int, RandomState or None, default=0
        Seeds the subsets: the same value gives the same subsets.
    return_X_y : bool, default=False
        If True, return ``(X_train, X_test, y_train, y_test)`` (the order of
        :func:`sklearn.model_selection.train_test_split` and of
        :func:`skevonas.datasets.load_eeg`).

    Returns
    -------
    data : Bunch
        ``X_train`` and ``X_test`` (float32, ``(n_images, 784)``, pixels
        scaled to [0, 1], rows of the 28 x 28 image one after the other),
        ``y_train`` and ``y_test`` (int64 labels 0 to 9), ``target_names``
        (the 10 class names, by label) and ``path`` (the folder read).

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message names the folder, the files and
        how to get them.
    ValueError
        If a file is not a valid IDX file of Fashion-MNIST's shape (wrong
        magic number, truncated data, images and labels that do not match),
        or ``n_train`` or ``n_test`` is out of range.

    Examples
    --------
    >>> from skevonas.datasets.fashion_mnist import load_fashion_mnist
    >>> data = load_fashion_mnist(n_train=1000, n_test=500)  # doctest: +SKIP
    >>> data.X_train.shape, data.X_train.dtype, data.y_test.shape  # doctest: +SKIP
    ((1000, 784), dtype('float32'), (500,))
    >>> data.target_names[:3]  # doctest: +SKIP
    ['T-shirt/top', 'Trouser', 'Pullover']

    Without the files, the error says where it looked and what to do:

    >>> load_fashion_mnist(path="/no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    FileNotFoundError: Fashion-MNIST files not found in '/no/such/folder' ...
    """
    folder = _folder(path)
    missing = [name for pair in FILES.values() for name in pair if _find(folder, name) is None]
    if missing:
        raise _missing_error(folder, missing)
    arrays: dict[str, np.ndarray] = {}
    for part, n in (("train", n_train), ("test", n_test)):
        images, labels = _read_part(folder, part)
        index = _subset(n, labels, f"n_{part}", random_state)
        arrays[f"X_{part}"] = _features(images, index)
        arrays[f"y_{part}"] = (labels if index is None else labels[index]).astype(np.int64)
    if return_X_y:
        return arrays["X_train"], arrays["X_test"], arrays["y_train"], arrays["y_test"]
    return Bunch(**arrays, target_names=list(FASHION_MNIST_CLASSES), path=str(folder))
