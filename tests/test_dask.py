"""A search on a dask.distributed cluster, through joblib's Dask backend."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_search_runs_unchanged_on_a_local_cluster(scp1_small, fast):
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
    # the candidates ran on the cluster's workers
    assert len({task["worker"] for task in stream.data}) >= 1
    assert len(stream.data) >= remote.n_evaluations_
    # same seed, same search: the cluster changes where candidates run, not what they give
    local = EvolutionaryNASClassifier(**fast).fit(X_train, y_train)
    assert [(r["key"], r["score"]) for r in remote.evaluations_] == [
        (r["key"], r["score"]) for r in local.evaluations_
    ]
    np.testing.assert_array_equal(remote.predict_proba(X_test), local.predict_proba(X_test))
