"""The final model: greedy ensemble selection and the module that averages its members.

:func:`greedy_selection` is Caruana et al.'s (2004) ensemble selection as
auto-sklearn runs it: starting from the best single model, it adds, with
replacement, whichever model most improves the ensemble's score on held-out
predictions, so the weights are multiples of ``1 / size``.
:class:`EnsembleModule` is the network a search returns: an optional
:class:`~skevonas.spaces.builders.layers.Decimate` front, then one member or the
weighted average of several members' class probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .net import SearchNet, SliceBatches

__all__ = ["EnsembleModule", "accuracy", "ensemble_net", "greedy_selection"]


def accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """The accuracy of class probabilities ``proba`` (the most probable class is predicted).

    Examples
    --------
    >>> import numpy as np
    >>> accuracy(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 1]))
    0.5
    """
    return float(np.mean(proba.argmax(axis=1) == y))


def _key(proba: np.ndarray, y: np.ndarray, score: Callable) -> tuple[float, float]:
    """The score, then the mean log-likelihood to break its many ties on small data."""
    picked = np.clip(proba[np.arange(len(y)), y], 1e-12, None)
    return float(score(proba, y)), float(np.mean(np.log(picked)))


def greedy_selection(
    probas: Sequence[np.ndarray],
    y: np.ndarray,
    size: int,
    score: Callable[[np.ndarray, np.ndarray], float] = accuracy,
) -> np.ndarray:
    """Weights of an ensemble chosen greedily, with replacement, on held-out predictions.

    Each step adds the model whose inclusion gives the highest ``score`` of
    the averaged probabilities (ties: the higher mean log-likelihood, then
    the lower index), starting from the best single model; a model may be
    added more than once. The returned weights sum to 1 and are multiples
    of ``1 / size``; models never picked get 0.

    Parameters
    ----------
    probas : sequence of ndarray of shape (n_samples, n_classes)
        Each model's predicted probabilities for the same held-out samples
        (for example out-of-fold predictions).
    y : ndarray of shape (n_samples,)
        The true classes, encoded ``0 .. n_classes - 1``.
    size : int
        Selection steps (at least 1): the most distinct members.
    score : callable, default=accuracy
        ``score(proba, y)``, higher is better.

    Returns
    -------
    weights : ndarray of shape (len(probas),)

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> good = np.array([[0.95, 0.05], [0.6, 0.4], [0.4, 0.6], [0.6, 0.4]])  # 3 of 4 right
    >>> other = np.array([[0.6, 0.4], [0.4, 0.6], [0.4, 0.6], [0.1, 0.9]])  # right where good errs
    >>> greedy_selection([good, other], y, size=2).tolist()
    [0.5, 0.5]
    >>> greedy_selection([good, other], y, size=1).tolist()
    [1.0, 0.0]
    """
    if not probas:
        raise ValueError("greedy_selection needs at least one model's predictions")
    if int(size) < 1:
        raise ValueError(f"size must be at least 1, got {size!r}")
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in probas])
    y = np.asarray(y)
    counts = np.zeros(len(stack), dtype=np.int64)
    total = np.zeros_like(stack[0])
    for step in range(int(size)):
        scores = [_key((total + p) / (step + 1), y, score) for p in stack]
        pick = max(range(len(stack)), key=lambda i: (scores[i], -i))
        counts[pick] += 1
        total += stack[pick]
    return counts / counts.sum()


class EnsembleModule(nn.Module):
    """The weighted average of member networks' class probabilities, as log-probabilities.

    ``forward`` returns ``log(sum_i w_i softmax(member_i(x)))``: a softmax
    of it (what skorch's ``predict_proba`` and skevonas's exports apply)
    gives exactly the weighted mean probabilities. With one member the
    output is that member's logits, unchanged. ``decimate``, if given, runs
    first and feeds every member (which were trained on decimated data).

    Parameters
    ----------
    members : sequence of nn.Module
        Networks mapping a batch to logits of the same classes.
    weights : sequence of float
        One positive weight per member; they are normalised to sum to 1.
    decimate : nn.Module or None, default=None
        A front layer shared by all members
        (:class:`~skevonas.spaces.builders.layers.Decimate`).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    >>> ensemble = EnsembleModule([a, b], [0.75, 0.25]).eval()
    >>> x = torch.randn(4, 3)
    >>> mixed = 0.75 * a(x).softmax(1) + 0.25 * b(x).softmax(1)
    >>> bool(torch.allclose(ensemble(x).softmax(1), mixed))
    True
    """

    weights: torch.Tensor

    def __init__(
        self,
        members: Sequence[nn.Module],
        weights: Sequence[float],
        decimate: nn.Module | None = None,
    ) -> None:
        super().__init__()
        w = np.asarray(weights, dtype=np.float64)
        if len(members) == 0 or w.shape != (len(members),) or not np.all(w > 0):
            raise ValueError(
                f"EnsembleModule needs one positive weight per member: got {len(members)} "
                f"members and weights {w.tolist()}"
            )
        self.members = nn.ModuleList(members)
        self.register_buffer("weights", torch.as_tensor(w / w.sum(), dtype=torch.float32))
        self.decimate = decimate if decimate is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log of the weighted mean probabilities (one member: its logits).

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> single = EnsembleModule([nn.Identity()], [1.0])
        >>> single(torch.tensor([[1.0, 2.0]])).tolist()
        [[1.0, 2.0]]
        """
        x = self.decimate(x)
        if len(self.members) == 1:
            return self.members[0](x)
        # indexed, not zip(self.weights, ...): iterating a tensor upsets torch.jit.trace
        probas = [member(x).softmax(dim=1) for member in self.members]
        mixed = self.weights[0] * probas[0]
        for i in range(1, len(probas)):
            mixed = mixed + self.weights[i] * probas[i]
        return torch.log(torch.clamp(mixed, min=torch.finfo(x.dtype).tiny))


def ensemble_net(module: EnsembleModule, n_classes: int, device: str = "cpu") -> SearchNet:
    """A fitted-looking skorch classifier around an ensemble of trained members.

    ``predict_proba`` applies a softmax to the module's output (skorch's
    rule for a cross-entropy criterion), which gives the ensemble's weighted
    mean probabilities; nothing is trained.

    Parameters
    ----------
    module : EnsembleModule
        The trained members and their weights.
    n_classes : int
        Number of classes.
    device : str, default="cpu"
        Where the module lives.

    Returns
    -------
    net : SearchNet
        Initialized, ready to predict.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = ensemble_net(EnsembleModule([nn.Linear(3, 2), nn.Linear(3, 2)], [1, 1]), 2)
    >>> net.predict_proba(torch.zeros(5, 3)).shape
    (5, 2)
    """
    net = SearchNet(
        module=module,
        criterion=nn.CrossEntropyLoss,
        classes=list(range(int(n_classes))),
        train_split=None,
        iterator_train=SliceBatches,
        iterator_valid=SliceBatches,
        iterator_valid__batch_size=256,
        callbacks__valid_acc=None,
        callbacks__print_log=None,
        device=device,
        verbose=0,
    )
    return net.initialize()
