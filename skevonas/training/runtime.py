"""What one training runs inside: seeds, threads, Ctrl-C, deadlines, early stopping.

Every training of a search, a candidate's or the refit's, runs in
:func:`torch_context` (seeded, its own thread count, the caller's torch
state restored, a Ctrl-C never swallowed) with skorch callbacks from here:
:class:`BestEpoch` (early stopping that keeps the best epoch, the search's
deadline, the candidate's time limit), :class:`CosineSchedule` (the
learning rate, annealed in time for such a deadline) and :class:`StopAt`
(the refit's deadline). :func:`read_deadline` reads the deadline a search
may move while its candidates train.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

# BestEpoch, StopAt and CandidateFailed are the worker's own machinery.
__all__ = ["CosineSchedule", "earliest", "interrupts_kept", "read_deadline", "torch_context"]


def read_deadline(path: str | None) -> float | None:
    """The deadline (a :func:`time.time` value) in the file ``path``, or None.

    A search with ``max_time`` writes its deadline there, and moves it
    earlier to keep time for the refit; candidates training on this machine
    read it after every epoch. No file (e.g. on a remote Dask worker), or
    none readable, means no moved deadline.

    Examples
    --------
    >>> import os, tempfile
    >>> fd, path = tempfile.mkstemp()
    >>> _ = os.write(fd, b"1234.5"); os.close(fd)
    >>> read_deadline(path), read_deadline(None), read_deadline(path + ".gone")
    (1234.5, None, None)
    >>> os.remove(path)
    """
    if path is None:
        return None
    try:
        with open(path, encoding="ascii") as handle:
            return float(handle.read(64))
    except (OSError, ValueError):
        return None


def earliest(*times: float | None) -> float | None:
    """The earliest of ``times`` that are not None, or None.

    Examples
    --------
    >>> earliest(5.0, None, 3.0), earliest(None, None)
    (3.0, None)
    """
    known = [t for t in times if t is not None]
    return min(known) if known else None


class CandidateFailed(RuntimeError):
    """Training of one candidate cannot go on (e.g. its loss became NaN)."""


@contextlib.contextmanager
def torch_context(seed: int, n_threads: int) -> Iterator[None]:
    """Seed torch and set its thread count, restoring both afterwards.

    The caller's global torch RNG state and thread count are left as they
    were, so running a candidate in the user's own process (``n_jobs=1``)
    does not disturb the user's torch state. A Ctrl-C during the body is
    never lost (see :func:`interrupts_kept`).

    Examples
    --------
    >>> before = torch.get_rng_state()
    >>> with torch_context(seed=0, n_threads=1):
    ...     a = torch.rand(2)
    >>> with torch_context(seed=0, n_threads=1):
    ...     b = torch.rand(2)
    >>> bool(torch.equal(a, b)), bool(torch.equal(torch.get_rng_state(), before))
    (True, True)
    """
    threads = torch.get_num_threads()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices), interrupts_kept():
        torch.manual_seed(int(seed))
        torch.set_num_threads(max(1, int(n_threads)))
        try:
            yield
        finally:
            torch.set_num_threads(threads)


@contextlib.contextmanager
def interrupts_kept() -> Iterator[None]:
    """Re-raise a Ctrl-C that skorch swallowed inside the body.

    skorch ends ``fit`` quietly on a ``KeyboardInterrupt`` (its documented
    way for callbacks to stop training), so a real Ctrl-C in the middle of a
    candidate would end only that candidate, which would then look
    finished. In the main thread, while Python's default SIGINT handler is
    in place, this notes a SIGINT that arrives during the body and raises
    ``KeyboardInterrupt`` when the body returns. Callbacks that raise
    ``KeyboardInterrupt`` themselves still just stop training.

    Examples
    --------
    >>> with interrupts_kept():
    ...     pass  # no Ctrl-C: nothing happens
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    received: list[int] = []

    def note(signum: int, frame: Any) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield
    except Exception as exc:
        if received:  # e.g. torch wrapped it in a RuntimeError during a lazy import
            raise KeyboardInterrupt from exc
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


# --------------------------------------------------------------------------- skorch callbacks
class BestEpoch(Callback):
    """Early stopping on the validation part that keeps the best weights.

    An epoch is better when its validation score is higher, or equal with a
    lower validation loss. Training stops after ``patience`` epochs without
    improvement, and the weights of the best epoch are restored at the end.
    A non-finite training loss stops the candidate with :class:`CandidateFailed`.
    Past ``stop_at`` (a :func:`time.time` value, checked after every epoch)
    training stops and the candidate keeps what it reached; ``deadline_file``
    names a file holding a deadline that the search may move earlier while
    the candidate trains (:func:`read_deadline`).
    """

    # What a snapshot keeps of this callback, so that training can go on.
    _STATE = ("best_key_", "best_epoch_", "best_score_", "best_state_", "wait_")

    def __init__(
        self,
        patience: int | None,
        stop_at: float | None = None,
        keep_last: bool = False,
        deadline_file: str | None = None,
    ) -> None:
        self.patience = patience
        self.stop_at = stop_at
        self.keep_last = keep_last
        self.deadline_file = deadline_file

    def initialize(self) -> BestEpoch:
        self.best_key_: tuple[float, float] | None = None
        self.best_epoch_ = 0
        self.best_score_ = math.nan
        self.best_state_: dict[str, torch.Tensor] | None = None
        self.wait_ = 0
        self.stopped_by_ = "max_epochs"
        self.last_: dict[str, Any] | None = None
        return self

    def state(self) -> dict[str, Any]:
        """What :meth:`restore` needs to go on where this training stopped."""
        return {name: getattr(self, name) for name in self._STATE}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state` of an earlier training of the same candidate."""
        for name in self._STATE:
            setattr(self, name, state[name])

    def on_epoch_end(self, net: NeuralNetClassifier, **kwargs: Any) -> None:
        row = net.history[-1]
        if not math.isfinite(row["train_loss"]):
            raise CandidateFailed(
                f"training loss became {row['train_loss']} at epoch {row['epoch']}"
            )
        score, loss = float(row["valid_score"]), float(row["valid_loss"])
        key = (
            score if math.isfinite(score) else -math.inf,
            -loss if math.isfinite(loss) else -math.inf,
        )
        if self.best_key_ is None or key > self.best_key_:
            self.best_key_, self.best_epoch_, self.best_score_ = key, row["epoch"], score
            if self.patience is not None:  # only early stopping goes back to the best weights
                self.best_state_ = {
                    k: v.detach().clone() for k, v in net.module_.state_dict().items()
                }
            self.wait_ = 0
        else:
            self.wait_ += 1
            if self.patience is not None and self.wait_ >= self.patience:
                self.stopped_by_ = "patience"
                raise KeyboardInterrupt  # skorch's documented way to end fit early
        stop_at = earliest(self.stop_at, read_deadline(self.deadline_file))
        if stop_at is not None and time.time() >= stop_at:
            self.stopped_by_ = "time limit"
            raise KeyboardInterrupt

    def on_train_end(self, net: NeuralNetClassifier, **kwargs: Any) -> None:
        # Only a training that ended at its epoch cap can go on: keep its last
        # epoch's weights, before the best ones replace them.
        if self.keep_last and self.stopped_by_ == "max_epochs":
            self.last_ = {
                "module": {k: v.detach().clone() for k, v in net.module_.state_dict().items()},
                "optimizer": net.optimizer_.state_dict(),
                "rng": torch.get_rng_state(),  # inside the candidate's seeded context
            }
        if self.best_state_ is not None and self.patience is not None:
            net.module_.load_state_dict(self.best_state_)

    def final_score(self, curve: list[float]) -> float:
        """The candidate's score: what the weights it keeps are worth.

        With early stopping (``patience`` set) the best weights are kept and
        :meth:`smoothed_score` scores them. Without it (a fixed epoch budget,
        usually with a learning-rate schedule) the last weights are kept,
        and the score is the mean over the last three epochs, which is what
        a refit for the same budget reproduces.
        """
        if self.patience is not None:
            return self.smoothed_score(curve)
        window = [v for v in curve[-3:] if math.isfinite(v)]
        return float(np.mean(window)) if window else math.nan

    def smoothed_score(self, curve: list[float]) -> float:
        """Mean validation score over the best epoch and its two neighbours.

        A candidate whose curve merely spikes at one epoch (noisy training,
        a small validation part) scores lower than one that is good around
        that epoch, which is what a refit for a fixed epoch count can
        reproduce.
        """
        i = self.best_epoch_ - 1
        window = [v for v in curve[max(0, i - 1) : i + 2] if math.isfinite(v)]
        return float(np.mean(window)) if window else self.best_score_


class CosineSchedule(Callback):
    """Cosine annealing of the learning rate over a fixed number of epochs.

    Epoch ``e`` (counted from 0) trains with ``lr * (1 + cos(pi * e /
    epochs)) / 2``, computed from the epoch count alone: the callback keeps
    no state, so a training continued from a snapshot (a successive-halving
    rung) follows the same schedule as one uninterrupted training. A
    shorter training (a lower rung) trains the first epochs of the same
    schedule.

    A deadline (``stop_at``, or the one in ``deadline_file``, the earlier
    counts: the same as :class:`BestEpoch`'s) that would cut the schedule
    shortens it: at the start of each epoch the time left, over the mean
    duration of the last three epochs, says how many more epochs will
    train (the one during which the deadline passes included), and when
    that ends the schedule early, epoch ``e`` trains with ``(1 + cos(pi *
    e / length)) / 2`` of ``lr``, ``length`` the epochs trained so far plus
    those. A training that the deadline ends is then annealed, not cut
    halfway down its schedule. Without a deadline, or with one that leaves
    time for the whole schedule, nothing changes.

    Parameters
    ----------
    epochs : int
        The schedule's length (the full budget ``max_epochs``).
    stop_at : float or None, default=None
        A :func:`time.time` value at which the training will stop.
    deadline_file : str or None, default=None
        A file holding a deadline that may move earlier while the training
        runs (:func:`read_deadline`).

    Examples
    --------
    >>> schedule = CosineSchedule(epochs=4)
    >>> [round(schedule.factor(e), 3) for e in range(4)]
    [1.0, 0.854, 0.5, 0.146]
    """

    def __init__(
        self, epochs: int, stop_at: float | None = None, deadline_file: str | None = None
    ) -> None:
        self.epochs = epochs
        self.stop_at = stop_at
        self.deadline_file = deadline_file

    def factor(self, epoch: int, length: int | None = None) -> float:
        """The share of the base learning rate at ``epoch`` (0-based) of ``length`` epochs.

        ``length`` None is the whole schedule, ``epochs``.

        Examples
        --------
        >>> schedule = CosineSchedule(epochs=10)
        >>> schedule.factor(5), round(schedule.factor(5, length=6), 3)
        (0.5, 0.067)
        """
        length = self.epochs if length is None else length
        return 0.5 * (1.0 + math.cos(math.pi * min(epoch, length) / max(1, length)))

    def length(self, net: NeuralNetClassifier) -> int:
        """The schedule's length for the epoch starting now: ``epochs``, or fewer before a deadline.

        Examples
        --------
        >>> from skorch.history import History
        >>> net = type("Net", (), {"history": History()})()
        >>> for seconds in (10.0, 10.0, None):  # two epochs of 10 s, the third starting now
        ...     net.history.new_epoch()
        ...     if seconds:
        ...         net.history.record("dur", seconds)
        >>> soon = CosineSchedule(100, stop_at=time.time() + 55)  # 5 more fit, a 6th ends past
        >>> CosineSchedule(100).length(net), soon.length(net)
        (100, 8)
        """
        stop_at = earliest(self.stop_at, read_deadline(self.deadline_file))
        done = len(net.history) - 1
        if stop_at is None or done < 1:
            return self.epochs
        seconds = [row.get("dur") for row in net.history[max(0, done - 3) : done]]
        seconds = [float(s) for s in seconds if s is not None and s > 0]
        if not seconds:
            return self.epochs
        more = math.floor(max(0.0, stop_at - time.time()) / float(np.mean(seconds))) + 1
        return min(self.epochs, done + more)

    def on_epoch_begin(self, net: NeuralNetClassifier, **kwargs: Any) -> None:
        """Set every parameter group's learning rate for the epoch starting now.

        Examples
        --------
        >>> import numpy as np
        >>> from skorch import NeuralNetClassifier
        >>> from torch import nn
        >>> net = NeuralNetClassifier(nn.Linear(2, 2), lr=0.1, max_epochs=2, train_split=None,
        ...                           callbacks=[("cosine", CosineSchedule(2))], verbose=0)
        >>> X, y = np.zeros((4, 2), dtype=np.float32), np.array([0, 1, 0, 1])
        >>> round(net.fit(X, y).optimizer_.param_groups[0]["lr"], 3)  # the second epoch's
        0.05
        """
        lr = net.lr * self.factor(len(net.history) - 1, self.length(net))
        for group in net.optimizer_.param_groups:
            group["lr"] = lr


class StopAt(Callback):
    """End training after the epoch during which :func:`time.time` passed ``stop_at``."""

    def __init__(self, stop_at: float) -> None:
        self.stop_at = stop_at

    def on_epoch_end(self, net: NeuralNetClassifier, **kwargs: Any) -> None:
        if time.time() >= self.stop_at:
            raise KeyboardInterrupt  # skorch's documented way to end fit early
