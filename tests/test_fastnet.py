"""SearchNet: skorch with a lean training epoch, and tensor-sliced batches."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from skorch.dataset import Dataset

from skevonas.training.net import SearchNet, SliceBatches


def _net(cls, **kwargs):
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    settings = {
        "criterion": torch.nn.CrossEntropyLoss,
        "optimizer": torch.optim.SGD,
        "lr": 0.1,
        "batch_size": 16,
        "max_epochs": 3,
        "train_split": None,
        "iterator_train": SliceBatches,
        "iterator_valid": SliceBatches,
        "verbose": 0,
    }
    return cls(module, **{**settings, **kwargs})


class CountBatches(Callback):
    def initialize(self):
        self.train_batches = 0
        return self

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        self.train_batches += bool(training)


def test_lean_loop_matches_skorch(blobs):
    X, y = blobs
    torch.manual_seed(0)
    lean = _net(SearchNet).fit(X, y)
    torch.manual_seed(0)
    plain = _net(NeuralNetClassifier).fit(X, y)
    # one history entry per epoch instead of one per batch, same mean loss
    assert [len(row["batches"]) for row in lean.history] == [1, 1, 1]
    assert lean.history[-1, "train_batch_count"] == 6  # 90 samples / 16
    np.testing.assert_allclose(
        lean.history[:, "train_loss"], plain.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(lean.predict_proba(X), plain.predict_proba(X), rtol=1e-5)


def test_batch_callbacks_get_their_events(blobs):
    X, y = blobs
    counter = CountBatches()
    net = _net(SearchNet, callbacks=[counter]).fit(X, y)
    assert counter.train_batches == 3 * 6
    assert [len(row["batches"]) for row in net.history] == [6, 6, 6]


def test_slice_batches():
    data = Dataset(np.arange(10, dtype=np.float32)[:, None], np.arange(10))
    batches = list(SliceBatches(data, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    torch.manual_seed(0)
    shuffled = torch.cat([b[1] for b in SliceBatches(data, batch_size=4, shuffle=True)])
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))
    assert len(SliceBatches(data, batch_size=4)) == 3
    data = Dataset(data.X, None)  # prediction: placeholder targets
    assert list(SliceBatches(data, batch_size=20))[0][1].tolist() == [0] * 10


def test_slice_batches_falls_back_to_a_dataloader():
    dataset = torch.utils.data.TensorDataset(torch.zeros(5, 2), torch.zeros(5))
    batches = list(SliceBatches(dataset, batch_size=2))
    assert [len(b[0]) for b in batches] == [2, 2, 1]


@pytest.mark.parametrize("optimizer", [torch.optim.Adam, torch.optim.LBFGS])
def test_optimizers(blobs, optimizer):
    X, y = blobs
    torch.manual_seed(0)
    lean = _net(SearchNet, optimizer=optimizer).fit(X, y)
    torch.manual_seed(0)
    plain = _net(NeuralNetClassifier, optimizer=optimizer).fit(X, y)
    # Adam steps in the lean loop (one history entry per epoch); LBFGS needs a closure,
    # which only skorch's own loop gives it (one entry per batch, 90 samples / 16)
    batches = 6 if optimizer is torch.optim.LBFGS else 1
    assert [len(row["batches"]) for row in lean.history] == [batches] * 3
    # either way it trains as skorch does: the same losses, the same network
    np.testing.assert_allclose(
        lean.history[:, "train_loss"], plain.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(lean.predict_proba(X), plain.predict_proba(X), rtol=1e-5)
