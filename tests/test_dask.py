"""A search on a dask.distributed cluster, through joblib's Dask backend."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier

distributed = pytest.importorskip("distributed")


def two_workers():
    """A local cluster of two one-thread worker processes."""
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )


@pytest.mark.slow
def test_search_runs_unchanged_on_a_local_cluster(scp1_small, fast, monkeypatch):
    from skevonas.training.candidate import CandidateData

    scattered = []
    scatter = distributed.Client.scatter

    def counting_scatter(self, data, *args, **kwargs):
        items = data if isinstance(data, (list, tuple)) else [data]
        scattered.extend(type(item).__name__ for item in items)
        return scatter(self, data, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", counting_scatter)
    X_train, X_test, y_train, _ = scp1_small
    with (
        two_workers() as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask"),
    ):
        remote = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
        workers = set(cluster.scheduler_info["workers"])
    # the training data went to the workers once for the whole search (2 generations)
    assert scattered.count(CandidateData.__name__) == 1
    # every candidate ran on one of the cluster's workers
    ran = [task for task in stream.data if "run_task" in str(task["key"])]
    assert len(ran) >= remote.n_evaluations_
    assert {task["worker"] for task in ran} <= workers
    # same seed, same search: the cluster changes where candidates run, not what they give
    local = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
    assert [(r["key"], r["score"]) for r in remote.evaluations_] == [
        (r["key"], r["score"]) for r in local.evaluations_
    ]
    np.testing.assert_array_equal(remote.predict_proba(X_test), local.predict_proba(X_test))


@pytest.mark.slow
def test_an_asynchronous_search_runs_on_a_local_cluster(scp1_small, fast):
    X_train, X_test, y_train, y_test = scp1_small
    with (
        two_workers() as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask"),
    ):
        clf = EvolutionaryNASClassifier(**fast, strategy="asynchronous").fit(X_train, y_train)
        workers = set(cluster.scheduler_info["workers"])
    ran = [task for task in stream.data if "run_task" in str(task["key"])]
    assert len(ran) >= clf.n_evaluations_ and {task["worker"] for task in ran} <= workers
    assert clf.score(X_test, y_test) > 0.5


def _hold(seconds: float) -> dict:
    import time

    start = time.time()
    time.sleep(seconds)
    return {"start": start, "end": time.time()}


@pytest.mark.slow
def test_tasks_that_ask_for_a_gpu_take_one_per_gpu_resource():
    from skevonas.search.pool import WorkerPool

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=3,
            processes=False,
            dashboard_address=None,
            resources={"GPU": 1},
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
        WorkerPool(-1, resources={"GPU": 1}) as tasks,
    ):
        assert tasks.capacity == 6  # the cluster's worker threads
        for i in range(6):
            tasks.submit(i, _hold, 0.3)
        spans = [tasks.next()[1] for _ in range(6)]
    # at any moment at most 2 tasks ran: one per worker's GPU, not one per thread
    for span in spans:
        at = span["start"] + 0.05
        assert sum(s["start"] <= at < s["end"] for s in spans) <= 2
