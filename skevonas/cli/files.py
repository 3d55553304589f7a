"""Data files for the ``skevonas`` command: read .npz, .csv or -epo.fif data, write tables.

Three input formats are understood:

``.npz``
    A NumPy archive (:func:`numpy.savez`) with an array ``X`` of shape
    ``(n_samples, ...)`` (2-D, 3-D or 4-D, as the classifier takes it) and,
    for training, an array ``y`` of ``n_samples`` labels. Arrays are loaded
    with ``allow_pickle=False``, so an archive cannot run code.
``.csv``
    Comma-separated text (``;`` or tab also work) with a header row naming
    the columns: one label column (``label`` unless told otherwise) and
    numeric features in every other column, one sample per row.
``-epo.fif``
    MNE-Python Epochs saved with ``epochs.save`` (any name ending in
    ``.fif`` or ``.fif.gz``; needs ``pip install "skevonas[mne]"``): the
    data of every channel, the events' names as labels and the sampling
    rate (:func:`skevonas.epochs.read_epochs_file`).

An ``.npz`` or ``.csv`` file may also name the group (subject, session or recording) of every
sample, for ``skevonas search --groups NAME``: the ``.npz`` array ``NAME``,
or the CSV column ``NAME``, which is then not a feature.

:func:`read_data` also gives the names of a CSV file's feature columns, so
that ``skevonas predict`` can match them with those the model was trained on.

An archive's arrays are checked before they are read: an array whose
header claims more data than the archive holds (a damaged or crafted file)
is refused without allocating it.

Errors say which file, column and line is wrong; they are
:class:`ValueError` (bad content) or :class:`FileNotFoundError` (no file).
"""

from __future__ import annotations

import csv
import math
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = [
    "DEFAULT_LABEL_COLUMN",
    "FORMATS",
    "DataFile",
    "load_table_or_arrays",
    "read_data",
    "write_table",
]

DEFAULT_LABEL_COLUMN = "label"
FORMATS = (".npz", ".csv", "-epo.fif")
# deflate compresses by 1032:1 at most: an archive member that claims more
# than this is damaged or crafted (e.g. to make its reader allocate too much)
_MAX_DEFLATE_RATIO = 1100


@dataclass(frozen=True)
class DataFile:
    """What :func:`read_data` read: samples, labels and the names of the features.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The samples.
    y : ndarray of shape (n_samples,) or None
        The labels, if there are any.
    feature_names : tuple of str or None
        The CSV columns that ``X`` holds, in order; None for other files.
    sfreq : float or None, default=None
        The sampling rate in Hz of a ``-epo.fif`` file's Epochs; None for
        other files.
    groups : ndarray of shape (n_samples,) or None, default=None
        The group of every sample, when :func:`read_data` was asked for them.

    Examples
    --------
    >>> import numpy as np
    >>> data = DataFile(np.zeros((2, 3)), None, ("a", "b", "c"))
    >>> data.X.shape, data.feature_names
    ((2, 3), ('a', 'b', 'c'))
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: tuple[str, ...] | None
    sfreq: float | None = None
    groups: np.ndarray | None = None


def load_table_or_arrays(
    path: str | os.PathLike,
    label_column: str | None = None,
    require_labels: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read samples and labels from a ``.npz`` archive or a ``.csv`` table.

    Parameters
    ----------
    path : str or path
        A ``.npz`` file with arrays ``X`` (and ``y``), or a ``.csv`` file with
        a header row.
    label_column : str, optional
        The CSV column holding the labels; ``"label"`` when None. Ignored for
        ``.npz`` files.
    require_labels : bool, default=True
        Whether labels must be there. When False, missing labels give
        ``y = None`` (an explicitly named ``label_column`` must still exist).

    Returns
    -------
    X : ndarray of shape (n_samples, ...)
        The samples: ``float32`` of shape ``(n_samples, n_features)`` from a
        CSV file, the stored array from an ``.npz`` file.
    y : ndarray of shape (n_samples,) or None
        The labels: integers when every label is an integer, else floats
        when every label is a number, else strings (CSV); the stored array
        (``.npz``).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not ``.npz`` or ``.csv``, or its content is not as
        described above (the message names the file, array, column or line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "tiny.csv").write_text("width,height,label\\n1,2.5,cat\\n3,4,dog\\n")
    >>> X, y = load_table_or_arrays(folder / "tiny.csv")
    >>> X
    array([[1. , 2.5],
           [3. , 4. ]], dtype=float32)
    >>> y.tolist()
    ['cat', 'dog']
    >>> np.savez(folder / "tiny.npz", X=np.zeros((2, 3, 5)))
    >>> X, y = load_table_or_arrays(folder / "tiny.npz", require_labels=False)
    >>> X.shape, y
    ((2, 3, 5), None)
    >>> import shutil; shutil.rmtree(folder)
    """
    data = read_data(path, label_column, require_labels)
    return data.X, data.y


def read_data(
    path: str | os.PathLike,
    label_column: str | None = None,
    require_labels: bool = True,
    groups: str | None = None,
) -> DataFile:
    """Read samples, labels and feature names from a ``.npz``, ``.csv`` or ``-epo.fif`` file.

    As :func:`load_table_or_arrays`, and also gives the names of a CSV
    file's feature columns (every column but the label column and the
    groups column, in order) and, if asked, the groups. A ``.fif`` (or
    ``.fif.gz``) file is read as MNE Epochs: their data, their events' names
    as labels and their sampling rate.

    Parameters
    ----------
    path : str or path
        A ``.npz`` file with arrays ``X`` (and ``y``), or a ``.csv`` file with
        a header row.
    label_column : str, optional
        The CSV column holding the labels; ``"label"`` when None.
    require_labels : bool, default=True
        Whether labels must be there.
    groups : str, optional
        The ``.npz`` array or CSV column holding the group of every sample
        (ints, else floats, else strings, as labels are read); it must exist.

    Returns
    -------
    data : DataFile
        ``X``, ``y`` (or None), ``feature_names`` (None but for ``.csv``),
        ``sfreq`` (None but for ``-epo.fif``) and ``groups`` (None unless
        asked for).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not ``.npz``, ``.csv`` or ``.fif``, or its content is
        not as :func:`load_table_or_arrays` describes.
    ImportError
        For a ``.fif`` file, if MNE-Python is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "tiny.csv").write_text("width,label,height\\n1,cat,2.5\\n3,dog,4\\n")
    >>> data = read_data(folder / "tiny.csv")
    >>> data.feature_names, data.X.shape, data.y.tolist()
    (('width', 'height'), (2, 2), ['cat', 'dog'])
    >>> _ = (folder / "subjects.csv").write_text("subject,x,label\\nS1,1,a\\nS2,3,b\\n")
    >>> data = read_data(folder / "subjects.csv", groups="subject")
    >>> data.feature_names, data.groups.tolist()
    (('x',), ['S1', 'S2'])
    >>> import shutil; shutil.rmtree(folder)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        X, y = _load_npz(path, require_labels)
        found = None if groups is None else _npz_groups(path, groups, len(X))
        return DataFile(X, y, None, groups=found)
    if suffix == ".csv":
        return _load_csv(path, label_column, require_labels, groups)
    if path.name.lower().endswith((".fif", ".fif.gz")):
        if groups is not None:
            raise ValueError(
                f"--groups {groups!r} names a CSV column or an .npz array; a .fif file of "
                "Epochs holds no groups to read (save X, y and the groups with numpy.savez)"
            )
        from ..epochs import read_epochs_file

        epochs = read_epochs_file(path)
        return DataFile(np.asarray(epochs.X), np.asarray(epochs.y), None, epochs.sfreq)
    raise ValueError(
        f"cannot read {str(path)!r}: the data file must end in one of {list(FORMATS)} "
        "(a NumPy .npz archive with arrays X and y, a CSV table, or MNE Epochs), got "
        f"{suffix or 'no extension'!r}"
    )


# --------------------------------------------------------------------------- npz
def _load_npz(path: Path, require_labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    name = repr(str(path))
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{name} is not a valid .npz archive (not a zip file); save the data with "
            "numpy.savez(path, X=samples, y=labels)"
        )
    try:
        _check_sizes(path)
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{name} is not a valid .npz archive ({exc})") from exc
    except MemoryError as exc:
        raise ValueError(f"{name} holds arrays too large to load into memory ({exc})") from exc
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise ValueError(f"cannot read {name}: {exc}") from exc
    if "X" not in arrays:
        raise ValueError(
            f"{name} has no array named 'X' (it holds {sorted(arrays)}); save the data "
            "with numpy.savez(path, X=samples, y=labels)"
        )
    X = arrays["X"]
    if X.ndim < 2:
        raise ValueError(
            f"X in {name} must have one row per sample (2-D, 3-D or 4-D), got shape {X.shape}"
        )
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise ValueError(f"X in {name} must hold numbers, got dtype {X.dtype}")
    y = arrays.get("y")
    if y is None:
        if require_labels:
            raise ValueError(
                f"{name} has no array named 'y' with the labels (it holds {sorted(arrays)})"
            )
        return X, None
    if y.ndim != 1:
        raise ValueError(f"y in {name} must be 1-D (one label per sample), got shape {y.shape}")
    if len(y) != len(X):
        raise ValueError(
            f"X and y in {name} have different lengths: {len(X)} samples but {len(y)} labels"
        )
    return X, y


def _npz_groups(path: Path, key: str, n_samples: int) -> np.ndarray:
    """The archive's array ``key``: one group per sample (the archive is checked already)."""
    name = repr(str(path))
    with np.load(path, allow_pickle=False) as archive:
        if key not in archive.files:
            raise ValueError(
                f"{name} has no array named {key!r} with the groups (it holds "
                f"{sorted(archive.files)}); save them with numpy.savez(path, X=..., y=..., "
                f"{key}=...)"
            )
        groups = archive[key]
    if groups.ndim != 1 or len(groups) != n_samples:
        raise ValueError(
            f"{key} in {name} must be 1-D with one group per sample ({n_samples} samples), "
            f"got shape {groups.shape}"
        )
    return groups


def _check_sizes(path: Path) -> None:
    """Refuse an array whose header claims more (or less) data than the archive holds.

    Reading an array allocates what its header claims before reading the
    data, so a crafted header could claim terabytes; this reads only the
    headers.
    """
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ValueError(
                    f"{info.filename!r} uses an unusual compression; save the data "
                    "with numpy.savez or numpy.savez_compressed"
                )
            if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
                raise ValueError(
                    f"{info.filename!r} claims {info.file_size} bytes from "
                    f"{info.compress_size} compressed ones, more than compression allows; "
                    "the file is damaged or crafted"
                )
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as f:
                try:
                    version = np.lib.format.read_magic(f)
                except ValueError:
                    continue  # not an array: np.load reads it as bytes (file_size checked)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(
                        f"array {info.filename[:-4]!r} has .npy format version "
                        f"{version}, which this reader does not take; save the data with "
                        "numpy.savez"
                    )
                stored = info.file_size - f.tell()
            claimed = math.prod(shape) * dtype.itemsize
            if not dtype.hasobject and claimed != stored:
                raise ValueError(
                    f"array {info.filename[:-4]!r} claims shape {shape} of {dtype} "
                    f"({claimed} bytes), but the archive holds {stored} bytes of it; the "
                    "file is damaged or crafted"
                )


# --------------------------------------------------------------------------- csv
def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(line number, cells)`` of each non-blank row; checks the row widths."""
    name = repr(str(path))
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            f.seek(0)
            delimiter = ","
            if "," not in first:
                delimiter = next((d for d in (";", "\t") if d in first), ",")
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            rows = []
            for cells in reader:
                if cells and any(c.strip() for c in cells):
                    rows.append((reader.line_num, cells))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} is not UTF-8 text, so it cannot be a CSV table ({exc})") from exc
    except csv.Error as exc:
        raise ValueError(f"{name} is not a valid CSV table: {exc}") from exc
    if not header:
        raise ValueError(f"{name} is empty: a CSV table needs a header row naming its columns")
    header = [c.strip() for c in header]
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise ValueError(f"{name} has duplicate column names in its header: {duplicates}")
    if not rows:
        raise ValueError(f"{name} has a header but no data rows")
    for line, cells in rows:
        if len(cells) != len(header):
            raise ValueError(
                f"{name}, line {line}: {len(cells)} fields, but the header names "
                f"{len(header)} columns"
            )
    return header, rows


def _load_csv(
    path: Path, label_column: str | None, require_labels: bool, groups: str | None = None
) -> DataFile:
    name = repr(str(path))
    header, rows = _read_rows(path)
    label = DEFAULT_LABEL_COLUMN if label_column is None else label_column
    if label not in header and (require_labels or label_column is not None):
        raise ValueError(
            f"{name} has no label column {label!r}; its columns are {header}. "
            "Name the label column with --label-column."
        )
    if groups is not None and (groups not in header or groups == label):
        raise ValueError(
            f"{name} has no groups column {groups!r} besides the label column; its columns "
            f"are {header}"
        )
    features = [i for i, column in enumerate(header) if column not in (label, groups)]
    if not features:
        raise ValueError(f"{name} has no feature columns besides the label column {label!r}")
    X = _features(name, header, rows, features)
    names = tuple(header[i] for i in features)

    def column(title: str, what: str) -> np.ndarray:
        j = header.index(title)
        return _labels(name, title, [(line, cells[j].strip()) for line, cells in rows], what)

    found = None if groups is None else column(groups, "group")
    return DataFile(X, column(label, "label") if label in header else None, names, groups=found)


def _features(
    name: str, header: Sequence[str], rows: Sequence[tuple[int, list[str]]], columns: list[int]
) -> np.ndarray:
    """The feature cells as float32; errors name the first bad cell's column and line."""
    cells = [[cells[i] for i in columns] for _, cells in rows]
    try:
        X = np.array(cells, dtype=str).astype(np.float64)
    except ValueError:
        X = None
    if X is not None and np.isfinite(X).all():
        return X.astype(np.float32)
    for (line, _), values in zip(rows, cells, strict=True):
        for i, text in zip(columns, values, strict=True):
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is None or not math.isfinite(number):
                raise ValueError(
                    f"{name}, line {line}, column {header[i]!r}: {text!r} is not a finite "
                    "number; every column but the label column must hold numbers (if this "
                    "is the label column, name it with --label-column; a groups column, with "
                    "--groups)"
                )
    raise AssertionError("unreachable: a bad cell was expected")  # pragma: no cover


def _labels(
    name: str, column: str, values: Sequence[tuple[int, str]], what: str = "label"
) -> np.ndarray:
    """Labels (or groups) as ints, else floats, else strings."""
    for line, text in values:
        if not text:
            raise ValueError(f"{name}, line {line}: the {what} (column {column!r}) is empty")
    texts = np.array([text for _, text in values])
    for dtype in (np.int64, np.float64):
        try:
            return texts.astype(dtype)
        except (ValueError, OverflowError):
            pass
    return texts


# --------------------------------------------------------------------------- write
def _cell(value: Any) -> str:
    """One CSV cell: empty for None and NaN, full precision for floats."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def write_table(
    target: str | os.PathLike | TextIO,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
) -> int:
    """Write rows of dicts as CSV with the given columns; return the number of rows.

    Keys not in ``columns`` are left out, missing keys and NaN give empty
    cells, floats keep full precision.

    Parameters
    ----------
    target : str, path or text stream
        A file to (over)write, or an open text stream such as ``sys.stdout``.
    columns : sequence of str
        The header, in order.
    rows : iterable of mapping
        One mapping per row.

    Returns
    -------
    n_rows : int
        Rows written (the header not counted).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_table(out, ["name", "score"], [{"name": "a", "score": 0.5}, {"name": "b"}])
    2
    >>> print(out.getvalue(), end="")
    name,score
    a,0.5
    b,
    """
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", newline="", encoding="utf-8") as f:
            return write_table(f, columns, rows)
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(columns)
    n_rows = 0
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
        n_rows += 1
    return n_rows
