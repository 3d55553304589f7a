"""Shared fixtures: tiny data sets and a fast search configuration."""

from __future__ import annotations

import numpy as np
import pytest

from skevonas import Genome, LayerGene
from skevonas.datasets import load_eeg
from skevonas.spaces.builders.layers import channel_stats
from skevonas.training.candidate import CandidateData

# Population 4, 2 generations, 2 epochs, CPU: a search in about a second.
FAST = {
    "population_size": 4,
    "n_generations": 2,
    "max_epochs": 2,
    "patience": 2,
    "device": "cpu",
    "random_state": 0,
}


@pytest.fixture
def fast():
    """Keyword arguments for a fast EvolutionaryNASClassifier."""
    return dict(FAST)


@pytest.fixture(scope="session")
def one_generation():
    """The cheapest search that ends in a model: 2 candidates, 1 epoch, no cross-validation."""
    return {
        **FAST,
        "population_size": 2,
        "n_generations": 1,
        "max_epochs": 1,
        "cv": None,
        "n_finalists": 1,
    }


@pytest.fixture(scope="session")
def small_eeg_genome():
    """A three-layer EEG network (temporal, depthwise spatial, pool) that trains in a blink."""
    layers = (
        ("temporal_conv", {"filters": 4, "kernel_size": 5}),
        ("spatial_conv", {"depth_multiplier": 1, "depthwise": True}),
        ("avgpool", {"pool_size": 4, "stride": 4}),
    )
    training = {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "head": "flatten"}
    return Genome("eeg", [LayerGene(kind, genes) for kind, genes in layers], training)


@pytest.fixture(scope="session")
def scp1():
    """SelfRegulationSCP1, the bundled EEG data set the main job uses."""
    return load_eeg("SelfRegulationSCP1")


@pytest.fixture(scope="session")
def scp1_small(scp1):
    """80 training and 60 test epochs of SCP1, every 4th sample in time (64 Hz)."""
    rng = np.random.default_rng(0)
    train = rng.choice(len(scp1.y_train), 80, replace=False)
    test = rng.choice(len(scp1.y_test), 60, replace=False)
    return (
        np.ascontiguousarray(scp1.X_train[train, :, ::4]),
        np.ascontiguousarray(scp1.X_test[test, :, ::4]),
        scp1.y_train[train],
        scp1.y_test[test],
    )


@pytest.fixture(scope="session")
def blobs():
    """A small, easy 3-class 2-D problem with integer labels."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, 3.0, 0.0, 0.0], [0.0, 3.0, 3.0, 0.0]])
    y = np.repeat(np.arange(3), 30)
    X = centers[y] + rng.normal(scale=0.5, size=(90, 4))
    return X.astype(np.float32), y


@pytest.fixture
def data(blobs):
    """``blobs`` as the evaluation worker's parts: every 4th sample validates."""
    X, y = blobs
    idx = np.arange(len(y))
    train, valid = idx % 4 != 0, idx % 4 == 0
    return CandidateData(X[train], y[train], X[valid], y[valid], 3, channel_stats(X[train]))


@pytest.fixture
def killed_search(tmp_path):
    """Run a search script that SIGKILLs itself; return its checkpoint folder.

    ``killed_search(script, settings, X, y)``: ``script`` (dedented, with
    ``{settings}`` replaced by ``repr(settings)``) gets the data file and the
    checkpoint folder as ``sys.argv[1:3]``.
    """
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    import skevonas

    def run(script, settings, X, y):
        np.savez(tmp_path / "data.npz", X=X, y=y)
        folder = tmp_path / "checkpoint"
        code = textwrap.dedent(script).replace("{settings}", repr(settings))
        proc = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "data.npz"), str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(Path(skevonas.__file__).parents[1])},
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        return folder

    return run
