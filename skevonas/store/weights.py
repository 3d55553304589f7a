"""The trained weights a search keeps so that children can inherit them.

With weight inheritance on, every candidate's worker sends back its trained
network's ``state_dict()`` packed by :func:`pack_weights`: a safetensors
document (tensors, and in its string metadata the genome they belong to),
which :func:`unpack_weights` reads back without running any code. The
search's :class:`WeightStore` keeps them by the genome's short key, in
memory and, in a checkpoint folder, as ``weights/<key>.safetensors`` files,
written before the journal line of the result they belong to, so a resumed
search finds every parent it could have found had it not stopped.

The store is bounded: after each generation (or each history row of the
asynchronous search) it keeps only the weights of the genomes in the
population, the only ones the next children can be bred from
(:meth:`WeightStore.keep`); a rule on the population, not on time or
arrival order, so what a child finds does not depend on ``n_jobs``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ..spaces.genome import Genome

__all__ = ["WEIGHTS_DIR", "WeightStore", "WeightsError", "pack_weights", "unpack_weights"]

logger = logging.getLogger(__name__)

#: The folder of a checkpoint folder that holds the kept weights.
WEIGHTS_DIR = "weights"
_FORMAT = "skevonas-weights"
_VERSION = 1
_MAX_HEADER = 16 * 2**20  # bytes of safetensors header read at most
_KEY = re.compile(r"^[0-9a-f]{6,64}$")


class WeightsError(ValueError):
    """Packed weights that cannot be read back: damaged, or not skevonas's.

    Examples
    --------
    >>> issubclass(WeightsError, ValueError)
    True
    """


Split = tuple[int, int | None, int]  # a holdout split: seed, folds (None: one holdout), fold


def pack_weights(
    genome: Genome, state: Mapping[str, torch.Tensor], split: Split | None = None
) -> bytes:
    """``state`` (a network's ``state_dict()``), its ``genome`` and holdout ``split`` as bytes.

    ``split`` is the holdout the weights were trained beside (``(seed,
    n_folds, fold)``, None: the search's shared one): a child that inherits
    them is scored on the same holdout, never on samples they were trained on.

    Examples
    --------
    >>> import torch
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 2})])
    >>> blob = pack_weights(g, {"dense_0.weight": torch.ones(2, 3)}, (7, None, 0))
    >>> genome, state, split = unpack_weights(blob)
    >>> genome == g, state["dense_0.weight"].shape, split
    (True, torch.Size([2, 3]), (7, None, 0))
    """
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in state.items()}
    metadata = {
        "format": _FORMAT,
        "version": str(_VERSION),
        "genome": genome.to_json(),
        "split": json.dumps(None if split is None else list(split)),
    }
    return bytes(save_tensors(tensors, metadata=metadata))


def unpack_weights(blob: bytes) -> tuple[Genome, dict[str, torch.Tensor], Split | None]:
    """The genome, tensors and split :func:`pack_weights` packed; never runs code.

    Raises
    ------
    WeightsError
        If ``blob`` is not packed weights of this format (damaged, truncated,
        another format, an invalid genome).

    Examples
    --------
    >>> unpack_weights(b"not weights")
    Traceback (most recent call last):
        ...
    skevonas.store.weights.WeightsError: not packed weights: too short or a bad header length
    """
    if len(blob) < 8:
        raise WeightsError("not packed weights: too short or a bad header length")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > min(_MAX_HEADER, len(blob) - 8):
        raise WeightsError("not packed weights: too short or a bad header length")
    try:
        header = json.loads(blob[8 : 8 + size])
        metadata = header.get("__metadata__") or {}
    except (ValueError, AttributeError) as exc:
        raise WeightsError(f"not packed weights: unreadable header ({exc})") from None
    if metadata.get("format") != _FORMAT or metadata.get("version") != str(_VERSION):
        raise WeightsError(
            f"not packed weights of format {_FORMAT!r} version {_VERSION}: "
            f"got {metadata.get('format')!r} version {metadata.get('version')!r}"
        )
    try:
        genome = Genome.from_json(metadata["genome"])
        split = _split(json.loads(metadata.get("split", "null")))
        state = load_tensors(blob)
    except Exception as exc:  # noqa: BLE001 - any damage is one clear error
        raise WeightsError(f"damaged packed weights: {exc}") from None
    return genome, dict(state), split


def _split(value: object) -> Split | None:
    """A split read back: None or ``[seed, n_folds or None, fold]`` of ints."""
    if value is None:
        return None
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value)
        and isinstance(value[0], int)
        and isinstance(value[2], int)
    ):
        return (value[0], value[1], value[2])
    raise ValueError(f"split must be null or [seed, n_folds, fold], got {value!r}")


class WeightStore:
    """Packed weights by genome short key; in memory, and in ``folder`` if given.

    Parameters
    ----------
    folder : path or None, default=None
        Where the weights are also kept as files (a checkpoint folder's
        :data:`WEIGHTS_DIR`); files already there are read (a resumed
        search), those that are not packed weights are ignored with a
        warning in the log.

    Examples
    --------
    >>> import torch
    >>> from skevonas import Genome, LayerGene
    >>> store = WeightStore()
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 2})])
    >>> store.put(g.short_key(), pack_weights(g, {"w": torch.zeros(1)}))
    >>> len(store), store.get(g.short_key()) is not None, store.get("0123456789") is None
    (1, True, True)
    >>> store.keep([])
    >>> len(store)
    0
    """

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = None if folder is None else Path(folder)
        self._blobs: dict[str, bytes] = {}
        if self.folder is not None and self.folder.is_dir():
            for path in sorted(self.folder.glob("*.safetensors")):
                key = path.name.removesuffix(".safetensors")
                blob = path.read_bytes()
                try:
                    unpack_weights(blob)
                except WeightsError as exc:
                    logger.warning("ignoring %s: %s", path, exc)
                    continue
                if _KEY.match(key):
                    self._blobs[key] = blob

    def __len__(self) -> int:
        return len(self._blobs)

    def __contains__(self, key: object) -> bool:
        return key in self._blobs

    def put(self, key: str, blob: bytes) -> None:
        """Keep ``blob`` for ``key`` (a genome's short key), on disk first if there is a folder.

        Examples
        --------
        >>> import tempfile, torch
        >>> from skevonas import Genome
        >>> g, folder = Genome("mlp", []), tempfile.TemporaryDirectory()
        >>> WeightStore(folder.name).put(g.short_key(), pack_weights(g, {"w": torch.ones(1)}))
        >>> len(WeightStore(folder.name))  # read back from the folder
        1
        >>> folder.cleanup()
        """
        if not _KEY.match(key):
            raise ValueError(f"a weight key must be a genome's hex short key, got {key!r}")
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(blob)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.folder / f"{key}.safetensors")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        self._blobs[key] = blob

    def get(self, key: str) -> bytes | None:
        """The packed weights kept for ``key``, or None.

        Examples
        --------
        >>> WeightStore().get("0123456789") is None
        True
        """
        return self._blobs.get(key)

    def keep(self, keys: Iterable[str]) -> None:
        """Drop every entry (and file) but those of ``keys``.

        Examples
        --------
        >>> import torch
        >>> from skevonas import Genome
        >>> store, g = WeightStore(), Genome("mlp", [])
        >>> store.put(g.short_key(), pack_weights(g, {"w": torch.ones(1)}))
        >>> store.keep([g.short_key()]), len(store)
        (None, 1)
        """
        wanted = set(keys)
        for key in [k for k in self._blobs if k not in wanted]:
            del self._blobs[key]
            if self.folder is not None:
                (self.folder / f"{key}.safetensors").unlink(missing_ok=True)
