"""Random augmentation of EEG training batches.

:class:`EEGAugment` turns one training batch of epochs ``(batch, channels,
n_times)`` into a randomly changed copy: shifted in time, rescaled, with
noise added and channels blanked, each per sample. Pass it to the training
iterator, :class:`~skevonas.training.net.SliceBatches`, as
``net_params={"iterator_train__augment": EEGAugment()}``; validation and
prediction batches are never augmented.

Every random number is drawn from torch's global generator on the CPU and
then moved to the batch's device, so a seeded worker gets the same batches
on every device, and a rerun gets the same batches again.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["EEGAugment"]

# setting -> (highest value, whether the highest value itself is allowed)
_SETTINGS: dict[str, tuple[float, bool]] = {
    "time_shift": (0.5, True),
    "scale": (1.0, False),
    "noise": (1.0, False),
    "channel_dropout": (1.0, False),
}


def _problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``name``, or None if it is."""
    high, closed = _SETTINGS[name]
    interval = f"[0, {high:g}{']' if closed else ')'}"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        below = number < high or (closed and number == high)
        if math.isfinite(number) and number >= 0 and below:
            return None
    return f"{name} must be a number in {interval} (0 turns it off), got {value!r} instead"


class EEGAugment:
    """Random time shift, scaling, noise and channel dropout of EEG training batches.

    Called on one batch ``X`` of shape ``(batch, channels, n_times)``, it
    returns a new tensor of the same shape, dtype and device, changed per
    sample by each transform whose setting is not 0, in this order:

    1. a shift in time by a random whole number of samples, the vacated
       end filled with the edge value (not wrapped around);
    2. multiplication by a random factor;
    3. Gaussian noise, relative to each channel's own spread;
    4. channel dropout: a dropped channel becomes a flat line at its own
       mean over time.

    Axes between the first and the last count as channels. With every
    setting 0, ``X`` itself is returned.

    Parameters
    ----------
    time_shift : float, default=0.1
        Largest shift, as a fraction of ``n_times``, in ``[0, 0.5]``: each
        sample is shifted by a whole number of samples drawn uniformly from
        ``[-time_shift * n_times, time_shift * n_times]`` (rounded down to
        whole samples). A positive shift delays the signal and repeats its
        first value at the start; a negative one repeats its last value at
        the end.
    scale : float, default=0.1
        Each sample is multiplied by a factor drawn uniformly from
        ``[1 - scale, 1 + scale]``; in ``[0, 1)``.
    noise : float, default=0.05
        Standard deviation of the added Gaussian noise, relative to the
        standard deviation over time of each channel of each sample (after
        the shift and the scaling), so it does not depend on the data's
        units; in ``[0, 1)``.
    channel_dropout : float, default=0.0
        Probability that a channel of a sample is dropped, in ``[0, 1)``. A
        dropped channel is replaced by its own mean over time (as it is
        after the other transforms), not by zero: the networks standardise
        their input after this step, with the training set's mean and
        standard deviation per channel, so zero would be an outlier for data
        with an offset, whereas a flat line at the channel's own level
        carries no signal and stays in range.

    Raises
    ------
    ValueError
        At construction, naming every setting outside its range.

    See Also
    --------
    skevonas.training.net.SliceBatches : The training iterator that applies it.

    Notes
    -----
    The random numbers are drawn from torch's global generator, on the CPU,
    in a fixed order (the shifts, the factors, the noise, the dropout mask;
    nothing for a transform whose setting is 0), and then moved to ``X``'s
    device. Seed torch (:func:`skevonas.training.runtime.torch_context` does, in the
    search's workers) to get the same batches on every device and in every
    rerun.

    Examples
    --------
    >>> import torch
    >>> augment = EEGAugment(time_shift=0.1, scale=0.2, noise=0.0)
    >>> augment
    EEGAugment(time_shift=0.1, scale=0.2, noise=0.0, channel_dropout=0.0)
    >>> X = torch.randn(8, 3, 50)
    >>> _ = torch.manual_seed(0)
    >>> out = augment(X)
    >>> out.shape, out.dtype
    (torch.Size([8, 3, 50]), torch.float32)
    >>> _ = torch.manual_seed(0)
    >>> bool(torch.equal(out, augment(X)))
    True
    >>> augment.to_dict()
    {'time_shift': 0.1, 'scale': 0.2, 'noise': 0.0, 'channel_dropout': 0.0}
    >>> EEGAugment.from_dict(augment.to_dict()) == augment
    True
    >>> EEGAugment(scale=1.5)
    Traceback (most recent call last):
    ...
    ValueError: EEGAugment: scale must be a number in [0, 1) (0 turns it off), got 1.5 instead
    """

    def __init__(
        self,
        time_shift: float = 0.1,
        scale: float = 0.1,
        noise: float = 0.05,
        channel_dropout: float = 0.0,
    ) -> None:
        given = {
            "time_shift": time_shift,
            "scale": scale,
            "noise": noise,
            "channel_dropout": channel_dropout,
        }
        problems = [p for name, value in given.items() if (p := _problem(name, value))]
        if problems:
            raise ValueError("EEGAugment: " + "; ".join(problems))
        self.time_shift = float(time_shift)
        self.scale = float(scale)
        self.noise = float(noise)
        self.channel_dropout = float(channel_dropout)

    def to_dict(self) -> dict[str, float]:
        """The settings as plain JSON data, for journals and logs.

        Returns
        -------
        dict
            Setting name -> value, in the order of the constructor's
            parameters.

        Examples
        --------
        >>> EEGAugment(noise=0.0).to_dict()["noise"]
        0.0
        """
        return {name: getattr(self, name) for name in _SETTINGS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EEGAugment:
        """The augmentation that :meth:`to_dict` described.

        Parameters
        ----------
        data : mapping
            Setting name -> value; missing settings take their defaults.

        Returns
        -------
        EEGAugment
            The augmentation with those settings.

        Raises
        ------
        ValueError
            For an unknown setting name, or a value outside its range.

        Examples
        --------
        >>> EEGAugment.from_dict({"scale": 0.3})
        EEGAugment(time_shift=0.1, scale=0.3, noise=0.05, channel_dropout=0.0)
        """
        unknown = sorted(set(data) - set(_SETTINGS))
        if unknown:
            raise ValueError(
                f"EEGAugment: unknown settings {unknown!r}; must be among {sorted(_SETTINGS)!r}"
            )
        return cls(**data)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """Augment one batch ``X`` of shape ``(batch, channels, n_times)``."""
        if X.ndim < 2:
            raise ValueError(
                f"EEGAugment needs a batch of shape (batch, channels, n_times), "
                f"got shape {tuple(X.shape)!r}"
            )
        if not (self.time_shift or self.scale or self.noise or self.channel_dropout):
            return X
        batch, n_times = X.shape[0], X.shape[-1]
        out = X.reshape(batch, -1, n_times)  # a view where it can; never written to
        if self.time_shift:
            out = self._shift(out)
        if self.scale:
            factor = 1.0 + self.scale * (2.0 * torch.rand(batch) - 1.0)
            out = out * factor.to(out.device, out.dtype)[:, None, None]
        if self.noise:
            std = out.std(dim=-1, keepdim=True, correction=0)
            noise = torch.randn(out.shape).to(out.device, out.dtype)
            out = out + noise * (self.noise * std)
        if self.channel_dropout:
            dropped = torch.rand(out.shape[:2]) < self.channel_dropout
            mean = out.mean(dim=-1, keepdim=True)
            out = torch.where(dropped.to(out.device)[:, :, None], mean, out)
        return out.reshape(X.shape)

    def _shift(self, X: torch.Tensor) -> torch.Tensor:
        """Shift each sample of ``X`` ``(batch, channels, n_times)`` in time, edges repeated."""
        batch, channels, n_times = X.shape
        most = int(self.time_shift * n_times)
        if most == 0:
            return X
        shifts = torch.randint(-most, most + 1, (batch,))
        source = (torch.arange(n_times)[None, :] - shifts[:, None]).clamp_(0, n_times - 1)
        source = source.to(X.device)[:, None, :].expand(batch, channels, n_times)
        return torch.gather(X, 2, source)

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.to_dict().items())
        return f"{type(self).__name__}({settings})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self.to_dict().values()))
