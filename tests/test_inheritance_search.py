"""Weight inheritance in a search: children start from their parents, reproducibly and resumably."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from skevonas import EvolutionaryNASClassifier, Genome, LayerGene
from skevonas.store.checkpoint import CheckpointError, iter_journal
from skevonas.store.weights import (
    WEIGHTS_DIR,
    WeightsError,
    WeightStore,
    pack_weights,
    unpack_weights,
)

GEN = {
    "population_size": 4,
    "n_generations": 3,
    "max_epochs": 3,
    "min_epochs": 1,  # successive halving: children inherit at their first rung only
    "cv": None,
    "random_state": 0,
    "inherit_weights": True,
}
ASYNC = {**GEN, "strategy": "asynchronous"}


def summary(clf):
    return (
        [
            (r["key"], r["score"], r["status"], r["generation"], r.get("inherited"))
            for r in clf.evaluations_
        ],
        clf.best_genome_.key(),
        clf.best_score_,
    )


@pytest.fixture(scope="module")
def uninterrupted(blobs):
    return {
        name: EvolutionaryNASClassifier(**settings, n_jobs=1).fit(*blobs)
        for name, settings in (("generational", GEN), ("asynchronous", ASYNC))
    }


# --------------------------------------------------------------------------- the search
@pytest.mark.parametrize("strategy", ["generational", "asynchronous"])
def test_children_start_from_a_parent_they_were_bred_from(uninterrupted, strategy):
    clf = uninterrupted[strategy]
    parents_of = {r["key"]: r["parents"] for r in clf.evaluations_}
    inherited = [r for r in clf.evaluations_ if r.get("inherited")]
    assert inherited, "no child inherited anything"
    for record in inherited:
        assert record["inherited"]["parent"] in parents_of[record["key"]]
        assert 0 < record["inherited"]["tensors"] <= record["inherited"]["of"]
    # the first generation has no parents: it starts from scratch
    assert not any(r.get("inherited") for r in clf.evaluations_ if not r["parents"])


@pytest.mark.parametrize("settings", [GEN, ASYNC], ids=["generational", "asynchronous"])
def test_an_inheriting_child_on_a_third_of_the_epochs_finishes_there(blobs, settings):
    # max_epochs=3 with rungs of 1 and 3 epochs: a child that inherits trains round(3 / 3) = 1
    # epoch in all, a whole schedule, and finishes at the first rung instead of going on
    clf = EvolutionaryNASClassifier(**{**settings, "inherit_weights": 1 / 3}, n_jobs=1)
    clf.fit(*blobs)
    inherited = [r for r in clf.evaluations_ if r.get("inherited")]
    assert inherited
    for record in inherited:
        assert (record["status"], record["epochs"], record["stopped_by"]) == (
            "ok",
            1,
            "max_epochs",
        ), record
    fresh = [r for r in clf.evaluations_ if not r.get("inherited") and r["status"] == "ok"]
    assert fresh and all(r["epochs"] == 3 for r in fresh)


def test_inherit_weights_true_is_the_whole_schedule(uninterrupted):
    children = [r for r in uninterrupted["generational"].evaluations_ if r.get("inherited")]
    assert children and all(r["status"] == "partial" or r["epochs"] == 3 for r in children)
    assert any(r["epochs"] == 3 for r in children)


def test_inheritance_changes_the_scores_and_off_changes_nothing(blobs, uninterrupted):
    off = EvolutionaryNASClassifier(**{**GEN, "inherit_weights": False}, n_jobs=1).fit(*blobs)
    assert not any(r.get("inherited") for r in off.evaluations_)
    first = [r for r in off.evaluations_ if not r["parents"]]
    on = uninterrupted["generational"].evaluations_
    # same first generation (nothing to inherit yet); children differ
    assert [r["score"] for r in first] == [r["score"] for r in on[: len(first)]]
    assert summary(off) != summary(uninterrupted["generational"])


def test_results_do_not_depend_on_n_jobs(blobs, uninterrupted):
    two = EvolutionaryNASClassifier(**GEN, n_jobs=2).fit(*blobs)
    assert summary(two) == summary(uninterrupted["generational"])
    np.testing.assert_array_equal(
        two.predict_proba(blobs[0]), uninterrupted["generational"].predict_proba(blobs[0])
    )


def test_small_steps_from_the_elite_inherit_and_do_not_depend_on_n_jobs(blobs):
    local = {**GEN, "local_rate": 1.0}
    one = EvolutionaryNASClassifier(**local, n_jobs=1).fit(*blobs)
    children = [r for r in one.evaluations_ if r["parents"]]
    assert children
    for record in children:  # one parent, an elite whose weights were kept
        assert len(record["parents"]) == 1
        assert record["inherited"]["parent"] == record["parents"][0]
    two = EvolutionaryNASClassifier(**local, n_jobs=2).fit(*blobs)
    assert summary(two) == summary(one)


def test_a_warm_start_in_memory_goes_on_with_the_kept_weights(blobs, uninterrupted):
    clf = EvolutionaryNASClassifier(**{**GEN, "n_generations": 2}, n_jobs=1).fit(*blobs)
    clf.set_params(n_generations=3, warm_start=True).fit(*blobs)
    assert summary(clf) == summary(uninterrupted["generational"])


KILLED = """
    import os, signal, sys
    import numpy as np
    from skevonas import EvolutionaryNASClassifier, SearchCallback

    class Kill(SearchCallback):
        # SIGKILL this process when the 7th result arrives (journaled already)
        seen = 0

        def on_evaluation_end(self, state, genome, result):
            Kill.seen += 1
            if Kill.seen == 7:
                os.kill(os.getpid(), signal.SIGKILL)

    data = np.load(sys.argv[1])
    EvolutionaryNASClassifier(
        **{settings}, n_jobs=1, checkpoint_dir=sys.argv[2], callbacks=[Kill()]
    ).fit(data["X"], data["y"])
"""


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["generational", "asynchronous"])
def test_a_sigkilled_search_with_inheritance_resumes_exactly(
    blobs, uninterrupted, killed_search, strategy
):
    X, y = blobs
    settings = GEN if strategy == "generational" else ASYNC
    folder = killed_search(KILLED, settings, X, y)
    kept = sorted(p.name for p in (folder / WEIGHTS_DIR).glob("*.safetensors"))
    assert kept, "the killed search kept no weights on disk"
    journaled = len(list(iter_journal(folder)))
    resumed = EvolutionaryNASClassifier(**settings, n_jobs=1, checkpoint_dir=folder)
    resumed.set_params(warm_start=True).fit(X, y)
    assert summary(resumed) == summary(uninterrupted[strategy])
    np.testing.assert_allclose(resumed.predict_proba(X), uninterrupted[strategy].predict_proba(X))
    assert len(list(iter_journal(folder))) > journaled
    # bounded: what stays on disk is the population's weights
    assert len(list((folder / WEIGHTS_DIR).glob("*.safetensors"))) <= settings["population_size"]


def test_a_damaged_weights_file_is_ignored_and_the_search_goes_on(blobs, tmp_path, caplog):
    folder = tmp_path / "checkpoint"
    X, y = blobs
    EvolutionaryNASClassifier(**{**GEN, "n_generations": 2}, checkpoint_dir=folder).fit(X, y)
    files = sorted((folder / WEIGHTS_DIR).glob("*.safetensors"))
    assert files
    for path in files:
        path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    with caplog.at_level(logging.WARNING, logger="skevonas"):
        clf = EvolutionaryNASClassifier(**GEN, checkpoint_dir=folder, warm_start=True).fit(X, y)
    assert any("ignoring" in m and "packed weights" in m for m in caplog.messages)
    assert clf.n_evaluations_ > 0


def test_a_new_fit_clears_the_kept_weights(blobs, tmp_path):
    folder = tmp_path / "checkpoint"
    X, y = blobs
    EvolutionaryNASClassifier(**GEN, checkpoint_dir=folder).fit(X, y)
    assert list((folder / WEIGHTS_DIR).glob("*.safetensors"))
    EvolutionaryNASClassifier(**{**GEN, "inherit_weights": False}, checkpoint_dir=folder).fit(X, y)
    assert not (folder / WEIGHTS_DIR).exists()


@pytest.mark.parametrize(
    "other, message",
    [(False, "inherit_weights=1.0 there, 0.0 here"), (1 / 3, "=1.0 there, 0.333.* here")],
)
def test_a_checkpoint_goes_on_with_neither_inheritance_switched_nor_another_share(
    blobs, tmp_path, other, message
):
    folder = tmp_path / "checkpoint"
    X, y = blobs
    EvolutionaryNASClassifier(**{**GEN, "n_generations": 1}, checkpoint_dir=folder).fit(X, y)
    with pytest.raises(CheckpointError, match=message):
        EvolutionaryNASClassifier(
            **{**GEN, "inherit_weights": other}, checkpoint_dir=folder, warm_start=True
        ).fit(X, y)


@pytest.mark.parametrize("value", ["yes", 0.0, 1.5, -0.2, float("nan"), None])
def test_inherit_weights_must_be_a_bool_or_a_share(blobs, value):
    rule = r"inherit_weights must be True, False or a float in \(0, 1\], got "
    with pytest.raises(ValueError, match=rule):
        EvolutionaryNASClassifier(inherit_weights=value).fit(*blobs)


# --------------------------------------------------------------------------- the store
def _packed(units=4, split=None):
    genome = Genome("mlp", [LayerGene("dense", {"units": units, "activation": "relu"})])
    return genome, pack_weights(genome, {"dense_0.weight": torch.arange(6.0).reshape(2, 3)}, split)


def test_packed_weights_round_trip_and_refuse_what_is_not_theirs():
    genome, blob = _packed(split=(3, None, 0))
    back, state, split = unpack_weights(blob)
    assert back == genome and split == (3, None, 0)
    torch.testing.assert_close(state["dense_0.weight"], torch.arange(6.0).reshape(2, 3))
    from safetensors.torch import save

    other = save({"w": torch.zeros(1)}, metadata={"format": "other"})
    with pytest.raises(WeightsError, match="not packed weights of format 'skevonas-weights'"):
        unpack_weights(other)
    with pytest.raises(WeightsError, match="too short or a bad header length"):
        unpack_weights(blob[:7])
    with pytest.raises(WeightsError, match="damaged"):
        unpack_weights(blob[:-4])  # truncated tensors
    tampered = blob.replace(b'"split":"[3, null, 0]"', b'"split":"[3, 4.50, 0]"')
    with pytest.raises(WeightsError, match="split must be"):
        unpack_weights(tampered)


def test_the_store_writes_reads_back_and_keeps_only_what_it_is_told(tmp_path):
    folder = tmp_path / WEIGHTS_DIR
    store = WeightStore(folder)
    kept, dropped = _packed(4), _packed(8)
    for genome, blob in (kept, dropped):
        store.put(genome.short_key(), blob)
    (folder / "notes.safetensors").write_bytes(b"not weights")  # neither read nor removed
    again = WeightStore(folder)
    assert len(again) == 2 and again.get(kept[0].short_key()) == kept[1]
    again.keep([kept[0].short_key()])
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{kept[0].short_key()}.safetensors", "notes.safetensors"]
    )
    with pytest.raises(ValueError, match="hex short key"):
        store.put("../escape", kept[1])
