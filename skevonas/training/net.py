"""A skorch classifier with a lean training loop, and tensor-sliced batches.

skorch calls every callback before and after every batch, records each batch
in its history, and reads each batch's loss back to the host. For the small
networks of a search that bookkeeping can cost as much as the training
itself. :class:`SearchNet` is a :class:`skorch.NeuralNetClassifier` whose
training epochs skip it when no callback needs per-batch events: the losses
stay on the device and are summed, and the epoch records one batch entry (the
mean loss over all samples), so skorch's ``train_loss`` and everything built
on the history still work. Validation epochs, prediction, pickling and every
other skorch feature are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EpochScoring
from skorch.dataset import Dataset

__all__ = ["MEMORY_FORMATS", "SearchNet", "SliceBatches", "ValidScore"]

#: The layouts :class:`SearchNet` can train its module in (its ``memory_format``).
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


class SliceBatches:
    """Batches sliced from whole tensors, without per-sample collation.

    A drop-in replacement for skorch's ``DataLoader`` iterators when the
    dataset holds arrays or tensors (``dataset.X``, ``dataset.y``): each
    epoch wraps them as tensors once (no copy for NumPy arrays on CPU, none
    for tensors already on the device) and yields ``(X[idx], y[idx])``
    slices. Shuffling draws from torch's global
    generator, which the worker seeds. Other datasets fall back to a
    :class:`torch.utils.data.DataLoader`.

    ``augment``, a callable such as :class:`~skevonas.training.augment.EEGAugment`,
    changes each X batch of a shuffling (training) iterator, on the
    DataLoader path too (whose batches must then be ``(X, y)`` with a tensor
    X). Iterators that do not shuffle, those for validation and prediction,
    never augment. Without ``augment`` nothing else is drawn from torch's
    generator, so the batches are exactly those of an iterator without it.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        shuffle: bool = False,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        **kwargs: Any,
    ):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.augment = augment
        self.kwargs = kwargs

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        X, y = getattr(self.dataset, "X", None), getattr(self.dataset, "y", None)
        augment = self.augment if self.shuffle else None
        if not isinstance(X, (np.ndarray, torch.Tensor)):
            loader = torch.utils.data.DataLoader(
                self.dataset, batch_size=self.batch_size, shuffle=self.shuffle, **self.kwargs
            )
            yield from loader if augment is None else self._augmented(loader, augment)
            return
        X = torch.as_tensor(X)
        n = len(X)
        # targets and the shuffle order live where X lives (a GPU, if the
        # worker put the data there once); the order is drawn on the CPU so
        # that a seed gives the same batches on every device
        y = torch.zeros(n, dtype=torch.int64) if y is None else torch.as_tensor(y)
        y = y.to(X.device)
        order = torch.randperm(n).to(X.device) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                yield X[start : start + self.batch_size], y[start : start + self.batch_size]
            else:
                idx = order[start : start + self.batch_size]
                yield (X[idx] if augment is None else augment(X[idx])), y[idx]

    @staticmethod
    def _augmented(
        loader: Iterable[Any], augment: Callable[[torch.Tensor], torch.Tensor]
    ) -> Iterator[tuple[torch.Tensor, Any]]:
        for batch in loader:
            Xi, yi = batch
            if not isinstance(Xi, torch.Tensor):
                raise TypeError(
                    f"augment needs batches whose X is a tensor, got {type(Xi).__name__!r}"
                )
            yield augment(Xi), yi


class ValidScore(EpochScoring):
    """Validation scoring with a fast path for accuracy.

    Any scikit-learn scorer works as in :class:`~skorch.callbacks.EpochScoring`
    (on cached validation predictions). For ``"accuracy"``, the score is
    computed directly from those predictions, without the scorer's input
    validation, which costs milliseconds per epoch on small networks.
    """

    def __init__(self, scoring: Any, name: str = "valid_score") -> None:
        super().__init__(scoring, lower_is_better=False, on_train=False, name=name)

    def _scoring(self, net, X_test, y_test):  # noqa: D102
        if self.scoring == "accuracy" and y_test is not None:
            return float(np.mean(net.predict(X_test) == np.asarray(y_test)))
        return super()._scoring(net, X_test, y_test)


def _needs_batch_events(callback: Callback) -> bool:
    # Validation-only scoring caches predictions on validation batches, which
    # the lean loop does not touch; anything else with a batch hook needs them.
    if isinstance(callback, EpochScoring) and not callback.on_train:
        return False
    return any(
        getattr(type(callback), hook) is not getattr(Callback, hook) for hook in _BATCH_HOOKS
    )


def _take(values: Any, rows: np.ndarray) -> Any:
    """``values[rows]`` for an array or a tensor (on its own device)."""
    if isinstance(values, torch.Tensor):
        return values[torch.as_tensor(rows, device=values.device)]
    return np.asarray(values)[rows]


class SearchNet(NeuralNetClassifier):
    """:class:`skorch.NeuralNetClassifier` whose training epochs skip per-batch bookkeeping.

    The lean loop is used when no callback has per-batch hooks (other than
    validation-only :class:`~skorch.callbacks.EpochScoring`) and every
    optimizer steps without a closure; otherwise skorch's own loop runs.
    Per-batch entries of the history are then replaced by one entry per
    epoch holding the mean training loss and the number of samples.

    ``low_data_`` (set after construction; None by default), a pair
    ``(epochs, rows)``: the first ``epochs`` epochs of the history train on
    those rows of the training data only (fidelity in data), in either loop.

    ``memory_format`` (one of :data:`MEMORY_FORMATS`, default ``"auto"``) is
    the layout of the module's 4-D tensors while it trains: ``"auto"`` trains
    a network with 2-D convolutions on the CPU in
    :data:`torch.channels_last`, whose oneDNN kernels suit the EEG family's
    temporal and spatial convolutions (``docs/benchmarks.md``: 19 to 38 % of
    a candidate's time on the development machine), and anything else as
    torch lays it out; ``"channels_last"`` always, ``"contiguous"`` never. It
    changes the order of floating-point operations and of dropout's draws,
    not what is computed. After training the module is laid out as
    torch lays it out again, so whatever reads, saves or exports it sees the
    usual layout.
    """

    low_data_: tuple[int, np.ndarray] | None = None
    _low_dataset: tuple[Any, Any] | None = None  # (the whole training dataset, its rows)

    def __init__(self, module: Any, *args: Any, memory_format: str = "auto", **kwargs: Any):
        super().__init__(module, *args, **kwargs)
        self.memory_format = memory_format

    def _training_format(self) -> torch.memory_format | None:
        """The layout to train in, None for torch's own (see the class docstring)."""
        if self.memory_format not in MEMORY_FORMATS:
            raise ValueError(
                f"memory_format must be one of {list(MEMORY_FORMATS)}, got "
                f"{self.memory_format!r} instead"
            )
        if self.memory_format == "contiguous":
            return None
        if self.memory_format == "auto" and not (
            torch.device(self.device).type == "cpu"
            and any(isinstance(m, torch.nn.Conv2d) for m in self.module_.modules())
        ):
            return None
        return torch.channels_last

    def fit_loop(self, X, y=None, epochs=None, **fit_params):  # noqa: D102
        layout = self._training_format()
        if layout is None:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        self.module_.to(memory_format=layout)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            self.module_.to(memory_format=torch.contiguous_format)

    def _lean_training(self) -> bool:
        if any(_needs_batch_events(cb) for _, cb in self.callbacks_):
            return False
        return not any(
            isinstance(getattr(self, name + "_"), torch.optim.LBFGS) for name in self._optimizers
        )

    def _low_fidelity(self, iterator: Any) -> Any:
        """``iterator``, or one over ``low_data_``'s rows while the history is within its epochs."""
        if self.low_data_ is None or len(self.history) > self.low_data_[0]:
            return iterator
        whole = iterator.dataset
        if self._low_dataset is None or self._low_dataset[0] is not whole:
            rows = self.low_data_[1]
            X, y = getattr(whole, "X", None), getattr(whole, "y", None)
            if isinstance(X, (np.ndarray, torch.Tensor)):
                part: Any = Dataset(_take(X, rows), None if y is None else _take(y, rows))
            else:
                part = torch.utils.data.Subset(whole, rows.tolist())
            self._low_dataset = (whole, part)
        return self.get_iterator(self._low_dataset[1], training=True)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):  # noqa: D102
        if training and iterator is not None:
            iterator = self._low_fidelity(iterator)
        if iterator is None or not training or not self._lean_training():
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        self._set_training(True)
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        losses, sizes = [], []
        for Xi, yi in iterator:
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            losses.append(loss.detach())  # no host sync inside the epoch
            sizes.append(len(Xi))
        n_samples = sum(sizes)
        weights = (
            torch.tensor(sizes, dtype=torch.float32, device=losses[0].device) if losses else None
        )
        mean_loss = float((torch.stack(losses) * weights).sum() / n_samples) if losses else math.nan
        self.history.new_batch()
        self.history.record_batch(prefix + "_loss", mean_loss)
        self.history.record_batch(prefix + "_batch_size", n_samples)
        self.history.record(prefix + "_batch_count", len(sizes))
        return None
