"""Training overhead: bare PyTorch loop vs skorch defaults vs skevonas's worker.

The same architecture, data, epochs and batch size, trained three ways:

- ``bare``: a minimal hand-written PyTorch loop: shuffled mini-batches sliced
  from tensors, then a validation pass (loss and accuracy) per epoch, which
  early stopping needs;
- ``skorch``: a skorch ``NeuralNetClassifier`` with its defaults (DataLoader,
  default callbacks) and the same validation part;
- ``skevonas``: :func:`skevonas.training.candidate.evaluate_candidate`, the worker
  every candidate goes through (with patience = epochs, so it runs them all).

Each way runs ``--repeats`` times, interleaved, one torch thread; the table
shows the median CPU time of the process (``time.process_time``: with one
thread it is the work done, and it does not count time the VM gave to
others, which made wall-clock medians on our 2-core VM swing by +-0.08 in
the ratio) and the ratio to the bare loop. Cases: (a) a small MLP
on scikit-learn's digits, (b) a 1-D CNN on SelfRegulationSCP1.

    python bench/overhead.py
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time
from functools import partial

import numpy as np
import torch
from sklearn.datasets import load_digits
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from skevonas import Genome, LayerGene, __version__
from skevonas.datasets import load_eeg
from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.networks import build_module
from skevonas.training.candidate import CandidateData, evaluate_candidate
from skevonas.training.recipe import Recipe


def bare_loop(module, data, epochs, batch_size, lr, seed):
    torch.manual_seed(seed)
    model = copy.deepcopy(module)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    Xv, yv = torch.from_numpy(data.X_valid), torch.from_numpy(data.y_valid)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(Xv)
            float(loss_fn(logits, yv))
            float((logits.argmax(1) == yv).float().mean())


def skorch_defaults(module, data, epochs, batch_size, lr, seed):
    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        copy.deepcopy(module),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=predefined_split(Dataset(data.X_valid, data.y_valid)),
        iterator_train__shuffle=True,
        verbose=0,
    )
    net.fit(data.X_train, data.y_train)


def skevonas_worker(genome, data, epochs, seed):
    result = evaluate_candidate(
        genome,
        data,
        Recipe(epochs, epochs, lr_schedule="constant", reshuffle=False),
        seed,
        "cpu",
        1,
    )
    assert result["status"] == "ok", result.get("error")


def cases():
    X, y = load_digits(return_X_y=True)
    X, y = X.astype(np.float32), y.astype(np.int64)
    cut = int(0.8 * len(y))
    digits = CandidateData(X[:cut], y[:cut], X[cut:], y[cut:], 10, channel_stats(X[:cut]))
    mlp = Genome(
        "mlp",
        [LayerGene("dense", {"units": 128, "activation": "relu", "dropout": 0.0})],
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32},
    )
    yield "(a) MLP 64-128-10, digits", mlp, digits, 30

    eeg = load_eeg("SelfRegulationSCP1")
    Xe, ye = eeg.X_train, (eeg.y_train == "positivity").astype(np.int64)
    cut = 214
    scp1 = CandidateData(Xe[:cut], ye[:cut], Xe[cut:], ye[cut:], 2, channel_stats(Xe[:cut]))
    cnn = Genome(
        "cnn1d",
        [
            LayerGene("conv", {"filters": 16, "kernel_size": 7, "stride": 1}),
            LayerGene("batchnorm"),
            LayerGene("elu"),
            LayerGene("maxpool", {"pool_size": 4}),
            LayerGene("conv", {"filters": 32, "kernel_size": 5, "stride": 1}),
            LayerGene("batchnorm"),
            LayerGene("elu"),
            LayerGene("maxpool", {"pool_size": 4}),
        ],
        {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "head": "flatten"},
    )
    yield "(b) 1-D CNN, SelfRegulationSCP1", cnn, scp1, 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"skevonas {__version__}, torch {torch.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, 1 torch thread, "
        f"median CPU time of {args.repeats}"
    )
    print(
        f"{'case':34s} {'epochs':>6s} {'bare s':>8s} {'skorch s':>9s} {'skevonas s':>11s}"
        f" {'skorch/bare':>12s} {'skevonas/bare':>14s}"
    )
    for name, genome, data, epochs in cases():
        module = build_module(genome, data.X_train.shape[1:], data.n_classes, data.input_stats)
        bs, lr = int(genome["batch_size"]), float(genome["lr"])
        runs = {
            "bare": partial(bare_loop, module, data, epochs, bs, lr, 0),
            "skorch": partial(skorch_defaults, module, data, epochs, bs, lr, 0),
            "skevonas": partial(skevonas_worker, genome, data, epochs, 0),
        }
        for run in runs.values():  # warm-up
            run()
        times = {key: [] for key in runs}
        for _ in range(args.repeats):
            for key, run in runs.items():
                start = time.process_time()
                run()
                times[key].append(time.process_time() - start)
        med = {key: statistics.median(values) for key, values in times.items()}
        print(
            f"{name:34s} {epochs:6d} {med['bare']:8.3f} {med['skorch']:9.3f} "
            f"{med['skevonas']:11.3f} {med['skorch'] / med['bare']:12.2f} "
            f"{med['skevonas'] / med['bare']:14.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
