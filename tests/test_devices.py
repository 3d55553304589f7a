"""Device settings, GPU slot pinning (checked with device names, no GPU needed)."""

from __future__ import annotations

import os
import pickle
import time
import warnings

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed

from skevonas import EvolutionaryNASClassifier
from skevonas.training.devices import DevicePool, resolve_devices, threads_per_worker

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_resolve_devices():
    assert resolve_devices("cpu") == ["cpu"]
    assert resolve_devices(["cpu", "cpu"]) == ["cpu", "cpu"]
    expected = [f"cuda:{i}" for i in range(torch.cuda.device_count())] or ["cpu"]
    assert resolve_devices("auto") == expected
    for bad in ("tpu", [], ["cpu", 3], "mps"):
        with pytest.raises(ValueError, match="device must be"):
            resolve_devices(bad)
    assert threads_per_worker(2, 3) == 3
    assert threads_per_worker(10**6, None) == 1


def _pinned(pool: DevicePool) -> tuple[int, str]:
    time.sleep(0.2)  # keep both workers busy so each takes tasks
    return os.getpid(), pool.acquire("fallback")


@pytest.mark.parametrize("per_device", [1, 2])
def test_each_worker_is_pinned_to_one_slot(per_device):
    pool = DevicePool(("cuda:0", "cuda:1"), per_device, key=f"test-{os.getpid()}-{per_device}")
    with Parallel(n_jobs=2) as parallel:
        pairs = parallel(delayed(_pinned)(pool) for _ in range(8))
    by_worker: dict[int, set[str]] = {}
    for pid, device in pairs:
        by_worker.setdefault(pid, set()).add(device)
    assert all(len(devices) == 1 for devices in by_worker.values())  # pinned
    assert all(device in pool.devices for _, device in pairs)
    if per_device == 1 and len(by_worker) == 2:  # one slot per GPU: two GPUs used
        assert {d for devices in by_worker.values() for d in devices} == {"cuda:0", "cuda:1"}


def test_more_workers_than_slots_fall_back():
    pool = DevicePool(("cuda:0",), 1, key=f"test-full-{os.getpid()}")
    with Parallel(n_jobs=2) as parallel:
        devices = [d for _, d in parallel(delayed(_pinned)(pool) for _ in range(6))]
    assert set(devices) <= {"cuda:0", "fallback"}
    assert devices.count("cuda:0") >= 1


def test_net_saved_for_cuda_unpickles_and_predicts_on_cpu(blobs, fast):
    # A net fitted on a GPU is stored with device="cuda"; on a machine
    # without one, skorch maps its weights to the CPU when it unpickles.
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast).fit(X, y)
    expected = clf.predict_proba(X)
    clf.best_estimator_.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone = pickle.loads(pickle.dumps(clf))
    assert str(clone.best_estimator_.device) == "cpu"
    np.testing.assert_allclose(clone.predict_proba(X), expected, rtol=1e-6)


def test_candidates_per_device_is_checked(blobs):
    with pytest.raises(ValueError, match="candidates_per_device must be an int >= 1, got 0"):
        EvolutionaryNASClassifier(candidates_per_device=0).fit(*blobs)


@needs_gpu
@pytest.mark.gpu
@pytest.mark.parametrize("strategy", ["generational", "asynchronous"])
def test_search_on_gpu_predicts_on_cpu_after_pickle(scp1_small, fast, strategy):
    X_train, X_test, y_train, _ = scp1_small
    clf = EvolutionaryNASClassifier(
        **fast, device="cuda", candidates_per_device=2, strategy=strategy
    )
    clf.fit(X_train, y_train)
    assert all(r["device"].startswith("cuda") for r in clf.evaluations_)
    state = pickle.dumps(clf)
    clone = pickle.loads(state)
    np.testing.assert_allclose(clone.predict_proba(X_test), clf.predict_proba(X_test), rtol=1e-5)
