"""Devices: which torch device each candidate trains on, and how many threads.

``resolve_devices`` turns the estimator's ``device`` setting into a list of
concrete torch device strings; candidates are assigned to them round-robin
(:func:`device_for`) so that the assignment depends only on a candidate's
position, never on which worker finished first.
"""

from __future__ import annotations

from collections.abc import Sequence

import joblib
import torch

__all__ = ["device_for", "resolve_devices", "threads_per_worker"]


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


def device_for(index: int, devices: Sequence[str]) -> str:
    """Device of the ``index``-th candidate of a batch (round-robin)."""
    return devices[index % len(devices)]


def threads_per_worker(n_workers: int, torch_threads: int | None) -> int:
    """Torch threads for each candidate.

    ``torch_threads=None`` shares the cores among the workers
    (``cpu_count // n_workers``); an int is used as given.
    """
    if torch_threads is not None:
        return int(torch_threads)
    return max(1, joblib.cpu_count() // max(1, n_workers))
