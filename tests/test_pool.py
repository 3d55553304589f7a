"""The worker pool of a search: every task's result once, most expensive first, dead workers."""

from __future__ import annotations

import math
import os
import signal

import joblib
import pytest

from skevonas.search.pool import WorkerPool


def _square(i: int) -> dict:
    return {"score": float(i * i)}


def _die_on(i: int) -> dict:
    if i in (2, 5):  # these always take their worker down with them
        os.kill(os.getpid(), signal.SIGKILL)
    return {"score": float(i)}


@pytest.mark.parametrize("backend", ["sequential", "threading", "loky"])
def test_a_pool_returns_every_result_once(backend):
    with joblib.parallel_backend(backend), WorkerPool(2) as pool:
        for i in range(6):
            pool.submit(i, _square, i)
        results = dict(pool.next() for _ in range(6))
        with pytest.raises(RuntimeError, match="no task"):
            pool.next()
    assert results == {i: {"score": float(i * i)} for i in range(6)}


def test_a_pool_survives_dead_workers():
    with WorkerPool(2) as pool:
        for i in range(7):
            pool.submit(i, _die_on, i)
        results = dict(pool.next() for _ in range(7))
    assert {i: r["score"] for i, r in results.items() if i not in (2, 5)} == {
        i: float(i) for i in (0, 1, 3, 4, 6)
    }
    for i in (2, 5):
        assert results[i]["status"] == "failed" and math.isnan(results[i]["score"])
        assert "died 2 times" in results[i]["error"]


def test_a_pool_refuses_an_unknown_backend():
    class Custom(joblib.parallel.ParallelBackendBase):
        def effective_n_jobs(self, n_jobs):
            return 2

        def apply_async(self, func, callback=None):  # pragma: no cover - never called
            raise NotImplementedError

    joblib.register_parallel_backend("custom-test", Custom)
    with joblib.parallel_backend("custom-test"), pytest.raises(ValueError, match="Custom"):
        WorkerPool(2)


@pytest.mark.parametrize("backend", ["sequential", "loky"])
def test_tasks_queued_together_start_most_expensive_first(backend):
    # one worker: the start order is the order of the results
    with joblib.parallel_backend(backend), WorkerPool(1) as pool:
        for i, cost in enumerate([1.0, 5.0, 3.0, 5.0, 0.0]):
            pool.submit(i, _square, i, cost=cost)
        order = [pool.next()[0] for _ in range(5)]
    assert order == [1, 3, 2, 0, 4]  # the costliest first, ties in order of submission
