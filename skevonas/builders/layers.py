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
