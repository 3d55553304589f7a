"""Small modules shared by the builders."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Standardize(nn.Module):
    """Subtract a fixed mean and divide by a fixed standard deviation.

    The statistics are buffers (saved with the state dict, moved with the
    module, never trained). ``mean`` and ``std`` have the shape of one sample
    with 1 in every axis the statistics were pooled over, e.g. ``(C, 1)`` for
    per-channel statistics of ``(C, T)`` samples.

    Examples
    --------
    >>> import numpy as np, torch
    >>> layer = Standardize(np.array([[1.0], [2.0]]), np.array([[2.0], [4.0]]))
    >>> layer(torch.tensor([[[3.0, 1.0], [6.0, 2.0]]])).tolist()
    [[[1.0, 0.0], [1.0, 0.0]]]
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32)[None])
        self.register_buffer("std", torch.as_tensor(np.asarray(std), dtype=torch.float32)[None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - mean) / std``, the statistics broadcast over the batch.

        Examples
        --------
        >>> import numpy as np, torch
        >>> layer = Standardize(np.array([2.0]), np.array([0.5]))
        >>> layer(torch.tensor([[3.0], [1.0]])).tolist()
        [[2.0], [-2.0]]
        """
        return (x - self.mean) / self.std


def channel_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std per feature (2-D input) or per channel (3-D and 4-D input).

    Constant channels get a std of 1 so they pass through centred.

    Examples
    --------
    >>> import numpy as np
    >>> mean, std = channel_stats(np.zeros((5, 3, 10)))
    >>> mean.shape, std.ravel().tolist()
    ((3, 1), [1.0, 1.0, 1.0])
    """
    axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
    mean = X.mean(axis=axes, dtype=np.float64, keepdims=True)[0]
    std = X.std(axis=axes, dtype=np.float64, keepdims=True)[0]
    std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


class AddMapAxis(nn.Module):
    """Turn ``(batch, channels, time)`` epochs into one-map images ``(batch, 1, channels, time)``.

    EEG networks convolve over time and across electrodes separately, so the
    electrodes become the height of a single feature map.

    Examples
    --------
    >>> import torch
    >>> AddMapAxis()(torch.zeros(5, 3, 10)).shape
    torch.Size([5, 1, 3, 10])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Insert the feature-map axis at position 1.

        Examples
        --------
        >>> import torch
        >>> AddMapAxis()(torch.ones(2, 4, 6)).shape
        torch.Size([2, 1, 4, 6])
        """
        return x.unsqueeze(1)


class Square(nn.Module):
    """Element-wise square, the first half of ShallowConvNet's band-power nonlinearity.

    Examples
    --------
    >>> import torch
    >>> Square()(torch.tensor([-2.0, 3.0])).tolist()
    [4.0, 9.0]
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * x``.

        Examples
        --------
        >>> import torch
        >>> Square()(torch.tensor([0.5])).tolist()
        [0.25]
        """
        return x * x


class SafeLog(nn.Module):
    """Natural log of ``max(x, eps)``, the second half of ShallowConvNet's nonlinearity.

    Clamping keeps the output finite whatever reaches the layer (a genome may
    place it after a layer whose output can be negative).

    Parameters
    ----------
    eps : float, default=1e-6
        Smallest value taken.

    Examples
    --------
    >>> import torch
    >>> out = SafeLog()(torch.tensor([1.0, 0.0, -3.0]))
    >>> out[0].item(), round(out[1].item(), 3), bool(torch.isfinite(out).all())
    (0.0, -13.816, True)
    """

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``log(clamp(x, min=eps))``.

        Examples
        --------
        >>> import math, torch
        >>> round(SafeLog()(torch.tensor([math.e])).item(), 6)
        1.0
        """
        return torch.log(torch.clamp(x, min=self.eps))


def decimation_factor(n_times: int, max_times: int) -> int:
    """The smallest integer factor that leaves at most ``max_times`` time samples.

    Examples
    --------
    >>> decimation_factor(896, 256), decimation_factor(128, 256)
    (4, 1)
    """
    return max(1, -(-int(n_times) // int(max_times)))


class Decimate(nn.Module):
    """Low-pass filter every channel, then keep every ``factor``-th time sample.

    The filter is a fixed linear-phase FIR (a Hamming-windowed sinc with
    ``8 * factor + 1`` taps, cut off at 80% of the new Nyquist frequency),
    stored as a buffer and never trained; the ends of each epoch are
    reflected, so no sample of one epoch depends on another. Input
    ``(n, channels, n_times)`` becomes ``(n, channels, ceil(n_times / factor))``.
    It sits in front of a network trained on decimated data, so that the
    network (and its exports) take data at the rate the user has.

    Parameters
    ----------
    factor : int
        Decimation factor, at least 2.

    Examples
    --------
    >>> import torch
    >>> layer = Decimate(4)
    >>> layer(torch.ones(2, 3, 896)).shape
    torch.Size([2, 3, 224])
    >>> bool(torch.allclose(layer(torch.ones(1, 1, 40)), torch.ones(1, 1, 10)))
    True
    """

    taps: torch.Tensor

    def __init__(self, factor: int) -> None:
        super().__init__()
        if int(factor) < 2:
            raise ValueError(f"Decimate needs a factor of at least 2, got {factor!r}")
        self.factor = int(factor)
        n = 8 * self.factor + 1
        t = np.arange(n) - n // 2
        cutoff = 0.8 / self.factor  # of the old Nyquist frequency
        taps = cutoff * np.sinc(cutoff * t) * np.hamming(n)
        self.register_buffer("taps", torch.as_tensor(taps / taps.sum(), dtype=torch.float32))

    def extra_repr(self) -> str:
        """The factor, for ``repr``.

        Examples
        --------
        >>> Decimate(3)
        Decimate(factor=3)
        """
        return f"factor={self.factor}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The decimated batch (the filter is applied per channel).

        Examples
        --------
        >>> import torch
        >>> Decimate(2)(torch.zeros(1, 2, 9)).shape
        torch.Size([1, 2, 5])
        """
        n, channels, n_times = x.shape
        half = self.taps.numel() // 2
        flat = x.reshape(n * channels, 1, n_times)
        # reflect needs fewer pad samples than the epoch has: pad with the
        # edge value past that
        reflect = min(half, n_times - 1)
        flat = nn.functional.pad(flat, (reflect, reflect), mode="reflect") if reflect else flat
        if half > reflect:
            flat = nn.functional.pad(flat, (half - reflect, half - reflect), mode="replicate")
        out = nn.functional.conv1d(flat, self.taps.view(1, 1, -1), stride=self.factor)
        return out.reshape(n, channels, out.shape[-1])
