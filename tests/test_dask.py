"""A search on a dask.distributed cluster, through joblib's Dask backend."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_search_runs_unchanged_on_a_local_cluster(scp1_small, fast, monkeypatch):
    from skevonas.evaluation import CandidateData

    scattered = []
    scatter = distributed.Client.scatter

    def counting_scatter(self, data, *args, **kwargs):
        items = data if isinstance(data, (list, tuple)) else [data]
        scattered.extend(type(item).__name__ for item in items)
        return scatter(self, data, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", counting_scatter)
    X_train, X_test, y_train, _ = scp1_small
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask"),
    ):
        remote = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
        workers = set(cluster.scheduler_info["workers"])
    # the training data went to the workers once for the whole search (2 generations)
    assert scattered.count(CandidateData.__name__) == 1
    # every candidate ran on one of the cluster's workers
    ran = [task for task in stream.data if "_indexed" in str(task["key"])]
    assert len(ran) >= remote.n_evaluations_
    assert {task["worker"] for task in ran} <= workers
    # same seed, same search: the cluster changes where candidates run, not what they give
    local = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
    assert [(r["key"], r["score"]) for r in remote.evaluations_] == [
        (r["key"], r["score"]) for r in local.evaluations_
    ]
    np.testing.assert_array_equal(remote.predict_proba(X_test), local.predict_proba(X_test))
