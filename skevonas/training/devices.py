"""Devices: which torch device each candidate trains on, and how many threads.

``resolve_devices`` turns the estimator's ``device`` setting into a list of
concrete torch device strings. On the CPU every candidate gets ``"cpu"``.
With GPUs, a :class:`DevicePool` pins each worker process to one GPU slot
for the whole search: a GPU has ``per_device`` slots, so that many small
candidates share it, and no GPU runs more than that at once.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import joblib
import torch

__all__ = ["DevicePlan", "DevicePool", "resolve_devices", "threads_per_worker"]

# This process's pinned slot: (pool key, device, open lock file). The lock is
# held while the process lives, and the OS releases it if the process dies.
_PINNED: tuple[str, str, IO[Any]] | None = None


@dataclass(frozen=True)
class DevicePool:
    """GPU slots of one search: ``per_device`` workers per device, one device per worker.

    :meth:`acquire`, called in a worker, claims a free slot the first time
    (an exclusive ``flock`` on a per-search lock file in the temporary
    directory) and returns that slot's device on every later call. A worker
    that finds no free slot (more workers than slots) falls back to
    ``fallback``.

    Examples
    --------
    >>> pool = DevicePool(("cuda:0", "cuda:1"), per_device=2, key="doc")
    >>> pool.n_slots
    4
    >>> pool.acquire("cuda:0") in ("cuda:0", "cuda:1")
    True
    """

    devices: tuple[str, ...]
    per_device: int
    key: str

    @property
    def n_slots(self) -> int:
        return len(self.devices) * self.per_device

    def acquire(self, fallback: str) -> str:
        """This worker's device: its slot's, claimed at the first call; else ``fallback``.

        Examples
        --------
        >>> pool = DevicePool(("cuda:0",), per_device=1, key="acquire-doc")
        >>> first = pool.acquire("cpu")
        >>> pool.acquire("cpu") == first  # the same slot for the worker's whole life
        True
        """
        global _PINNED
        if _PINNED is not None and _PINNED[0] == self.key:
            return _PINNED[1]
        try:
            import fcntl
        except ImportError:  # no flock (Windows): round-robin only
            return fallback
        if _PINNED is not None:  # a slot of an earlier search: let it go
            _PINNED[2].close()
            _PINNED = None
        for slot in range(self.n_slots):
            path = os.path.join(tempfile.gettempdir(), f"skevonas-{self.key}-{slot}.lock")
            handle = open(path, "a")  # noqa: SIM115 - held open while the worker lives
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            _PINNED = (self.key, self.devices[slot // self.per_device], handle)
            return _PINNED[1]
        return fallback


@dataclass(frozen=True)
class DevicePlan:
    """Where the candidates of one search train: the one place that decides it.

    On the CPU (or with a list of devices and no pinning), the candidate in
    slot ``k`` of a batch trains on ``devices[k % len(devices)]``. With GPUs,
    :meth:`device` is called in the worker process, which is pinned to one
    GPU slot of ``pool`` for the whole search (round-robin is then only the
    fallback for a worker that finds no free slot).

    Parameters
    ----------
    devices : tuple of str
        Concrete torch devices (:func:`resolve_devices`).
    pool : DevicePool or None, default=None
        GPU slots to pin workers to, or None.

    Examples
    --------
    >>> plan = DevicePlan.for_search(["cpu"], per_device=1)
    >>> plan.pool is None, plan.device(3), plan.main
    (True, 'cpu', 'cpu')
    >>> plan.n_workers(None), plan.n_workers(2)
    (None, 2)
    """

    devices: tuple[str, ...]
    pool: DevicePool | None = None

    @classmethod
    def for_search(cls, devices: Sequence[str], per_device: int) -> DevicePlan:
        """The plan for resolved ``devices``: GPU slots are pinned, the CPU is not.

        Examples
        --------
        >>> DevicePlan.for_search(["cpu"], per_device=2).pool is None
        True
        >>> DevicePlan.for_search(["cuda:0", "cuda:1"], per_device=2).pool.n_slots
        4
        """
        devices = tuple(devices)
        if any(d.startswith("cuda") for d in devices):
            return cls(devices, DevicePool(devices, per_device, uuid.uuid4().hex))
        return cls(devices)

    @property
    def main(self) -> str:
        """The device of the refit: the first one."""
        return self.devices[0]

    def n_workers(self, n_jobs: int | None) -> int | None:
        """Workers to run: ``n_jobs``, or with GPUs and ``n_jobs=None`` one per GPU slot.

        Examples
        --------
        >>> DevicePlan(("cpu",)).n_workers(None), DevicePlan(("cpu",)).n_workers(2)
        (None, 2)
        >>> DevicePlan.for_search(["cuda:0"], per_device=3).n_workers(None)
        3
        """
        if n_jobs is None and self.pool is not None:
            return self.pool.n_slots
        return n_jobs

    def device(self, slot: int) -> str:
        """The device of the task in ``slot`` (its number); called in the worker.

        Examples
        --------
        >>> plan = DevicePlan(("cpu", "cpu"))
        >>> [plan.device(slot) for slot in range(3)]
        ['cpu', 'cpu', 'cpu']
        """
        fallback = self.devices[slot % len(self.devices)]
        return fallback if self.pool is None else self.pool.acquire(fallback)


def _check_one(name: str) -> str:
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a list of these, got {name!r}"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was requested but CUDA is not available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r} does not exist: "
                f"{torch.cuda.device_count()} CUDA device(s) visible"
            )
    elif device.type != "cpu":
        raise ValueError(f"device must be a CPU or CUDA device, got {name!r}")
    return str(device)


def resolve_devices(device: str | Sequence[str]) -> list[str]:
    """Concrete devices for a ``device`` setting.

    ``"auto"`` means every visible GPU, or the CPU when there is none.

    Examples
    --------
    >>> resolve_devices("cpu")
    ['cpu']
    >>> resolve_devices("auto") == (
    ...     [f"cuda:{i}" for i in range(torch.cuda.device_count())] or ["cpu"])
    True
    """
    if isinstance(device, str):
        if device == "auto":
            return [f"cuda:{i}" for i in range(torch.cuda.device_count())] or ["cpu"]
        return [_check_one(device)]
    if (
        not isinstance(device, Sequence)
        or not device
        or not all(isinstance(d, str) for d in device)
    ):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a list of these, got {device!r}"
        )
    return [_check_one(d) for d in device]


def threads_per_worker(n_workers: int, torch_threads: int | None) -> int:
    """Torch threads for each candidate.

    ``torch_threads=None`` shares the cores among the workers
    (``cpu_count // n_workers``); an int is used as given.

    Examples
    --------
    >>> threads_per_worker(4, 2)
    2
    >>> threads_per_worker(10_000, None)  # never fewer than one
    1
    """
    if torch_threads is not None:
        return int(torch_threads)
    return max(1, joblib.cpu_count() // max(1, n_workers))
