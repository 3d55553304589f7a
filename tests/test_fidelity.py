"""Multi-fidelity evaluation: the successive-halving schedule, resumable training, the search."""

import math
import warnings

import numpy as np
import pytest

from skevonas import EvolutionaryNASClassifier
from skevonas.evolution.fidelity import rung_budgets, successive_halving
from skevonas.evolution.records import EvaluationRecord, selection_scores
from skevonas.spaces.genome import Genome, LayerGene
from skevonas.store.checkpoint import load_checkpoint
from skevonas.training.candidate import evaluate_candidate
from skevonas.training.recipe import Recipe

GENOME = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu", "dropout": 0.2})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)


# --------------------------------------------------------------------------- schedule
@pytest.mark.parametrize(
    ("max_epochs", "min_epochs", "factor", "expected"),
    [
        (30, 3, 3, [3, 10, 30]),
        (30, 1, 3, [1, 3, 10, 30]),
        (27, 1, 3, [1, 3, 9, 27]),
        (20, 5, 2, [5, 10, 20]),
        (20, 6, 2, [10, 20]),
        (8, 8, 3, [8]),
        (2, 1, 3, [1, 2]),  # 2 / 3 epochs rounds to 1
    ],
)
def test_rung_budgets(max_epochs, min_epochs, factor, expected):
    assert rung_budgets(max_epochs, min_epochs, factor) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [((10, 0, 3), "min_epochs must be in"), ((10, 11, 3), "min_epochs"), ((10, 1, 1), "factor")],
)
def test_rung_budgets_rejects_bad_settings(args, message):
    with pytest.raises(ValueError, match=message):
        rung_budgets(*args)


def toy_run(scores, log, stops=(), fails=(), skips=()):
    """A fake trainer: fixed scores; some stop early, fail, or are skipped at rung > 0."""

    def run(tasks, keep_snapshot):
        log.append([(i, epochs, snapshot) for i, epochs, snapshot in tasks])
        for i, epochs, snapshot in reversed(tasks):  # any order
            if i in fails:
                yield i, {"score": math.nan, "status": "failed", "error": "boom"}
            elif i in skips and snapshot is not None:
                yield i, {"score": math.nan, "status": "skipped"}
            else:
                yield (
                    i,
                    {
                        "score": scores[i],
                        "status": "ok",
                        "epochs": epochs,
                        "stopped_by": "patience" if i in stops else "budget",
                        "snapshot": f"{i}@{epochs}".encode() if keep_snapshot else None,
                    },
                )

    return run


def test_successive_halving_promotes_the_best_third_and_resumes_them():
    log = []
    scores = [0.1, 0.9, 0.5, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6]
    final = dict(successive_halving(range(9), [1, 3, 9], 3, toy_run(scores, log)))
    assert sorted(final) == list(range(9))  # every candidate once
    # rung 0: all nine from scratch; rung 1: the best three, from their snapshots
    assert [i for i, _, _ in log[0]] == list(range(9))
    assert all(snapshot is None for _, _, snapshot in log[0])
    assert sorted(log[1]) == [(1, 3, b"1@1"), (4, 3, b"4@1"), (6, 3, b"6@1")]
    assert log[2] == [(1, 9, b"1@3")]
    assert final[1]["status"] == "ok" and final[1]["rung"] == 2 and final[1]["budget"] == 9
    assert {i for i, r in final.items() if r["status"] == "partial"} == set(range(9)) - {1}
    assert final[4]["rung"] == 1 and final[4]["epochs"] == 3 and final[4]["score"] == 0.8
    assert final[0]["rung"] == 0 and final[0]["epochs"] == 1
    assert not any("snapshot" in r for r in final.values())


def test_early_stopped_and_failed_candidates_are_final():
    log = []
    scores = [0.9, 0.8, 0.1, 0.2, 0.3, 0.4]
    # 0 stops by patience at rung 0 (finished training: full-budget score),
    # 5 fails; of the 5 scored, ceil(5/3) = 2 are the best: 0 (done) and 1.
    final = dict(
        successive_halving(range(6), [2, 6], 3, toy_run(scores, log, stops={0}, fails={5}))
    )
    assert final[0]["status"] == "ok" and final[0]["rung"] == 0
    assert final[5]["status"] == "failed"
    assert [i for i, _, _ in log[1]] == [1]
    assert final[1]["status"] == "ok" and final[1]["rung"] == 1
    assert all(final[i]["status"] == "partial" for i in (2, 3, 4))


def test_skipped_at_a_later_rung_keeps_the_earlier_score():
    log = []
    final = dict(successive_halving(range(3), [1, 3], 3, toy_run([0.2, 0.9, 0.5], log, skips={1})))
    assert final[1]["status"] == "partial"
    assert final[1]["score"] == 0.9 and final[1]["rung"] == 0


def test_one_rung_is_full_fidelity():
    log = []
    final = dict(successive_halving(range(4), [5], 3, toy_run([0.1, 0.2, 0.3, 0.4], log)))
    assert all(r["status"] == "ok" for r in final.values())
    assert len(log) == 1


def test_selection_ranks_partial_candidates_below_full_ones():
    g = [Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (8, 16, 32, 64)]
    full = [EvaluationRecord(g[0], 0.5, 0, 0), EvaluationRecord(g[1], 0.4, 0, 1)]
    partial = [
        EvaluationRecord(g[2], 0.9, 0, 2, status="partial", info={"rung": 1}),
        EvaluationRecord(g[3], math.nan, 0, 3, status="failed"),
    ]
    assert selection_scores(full) == [0.5, 0.4]
    ranked = full + partial
    scores = selection_scores(ranked)
    assert scores[:3] == [4.0, 3.0, 2.0] and math.isnan(scores[3])


# --------------------------------------------------------------------------- worker
def test_training_in_steps_equals_one_training(data):
    settings = Recipe(max_epochs=9, patience=20)
    straight = evaluate_candidate(GENOME, data, settings, seed=3)
    first = evaluate_candidate(GENOME, data, settings, seed=3, epochs=3, keep_snapshot=True)
    assert first["stopped_by"] == "budget" and first["epochs"] == 3
    assert isinstance(first["snapshot"], bytes)
    second = evaluate_candidate(
        GENOME, data, settings, seed=3, epochs=9, snapshot=first["snapshot"], keep_snapshot=True
    )
    assert second["stopped_by"] == "max_epochs" and "snapshot" not in second
    # weights, optimizer, dropout and shuffling go on exactly where they stopped
    assert second["curves"] == straight["curves"]
    assert second["score"] == straight["score"]
    assert second["best_epoch"] == straight["best_epoch"]
    assert second["fit_time"] > first["fit_time"]


def test_no_snapshot_unless_asked_or_when_training_ended(data):
    settings = Recipe(max_epochs=9, patience=2)
    assert "snapshot" not in evaluate_candidate(GENOME, data, settings, seed=0, epochs=3)
    frozen = GENOME.replace(lr=0.0)  # stops by patience after 3 epochs
    done = evaluate_candidate(frozen, data, settings, seed=0, epochs=6, keep_snapshot=True)
    assert done["stopped_by"] == "patience" and "snapshot" not in done


def test_a_corrupt_snapshot_fails_the_candidate_only(data):
    settings = Recipe(max_epochs=9)
    result = evaluate_candidate(GENOME, data, settings, seed=0, snapshot=b"not a snapshot")
    assert result["status"] == "failed" and result["error"]


# --------------------------------------------------------------------------- search
@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:600].astype(np.float32), y[:600]


SEARCH = dict(population_size=6, n_generations=2, max_epochs=9, patience=3, random_state=0)


@pytest.fixture(scope="module")
def both(digits):
    off = EvolutionaryNASClassifier(**SEARCH).fit(*digits)
    on = EvolutionaryNASClassifier(**SEARCH, min_epochs=1).fit(*digits)
    return off, on


def test_off_trains_every_candidate_to_the_full_budget(both):
    off, _ = both
    assert {e["status"] for e in off.evaluations_} == {"ok"}
    assert all("rung" not in e for e in off.evaluations_)
    assert all(row["n_partial"] == 0 for row in off.history_)


def test_on_records_partial_candidates_and_trains_fewer_epochs(both):
    off, on = both
    statuses = [e["status"] for e in on.evaluations_]
    assert "partial" in statuses and "ok" in statuses
    assert sum(row["n_partial"] for row in on.history_) == statuses.count("partial")
    for e in on.evaluations_:
        assert e["epochs"] <= e["budget"] == [1, 3, 9][e["rung"]]
        if e["status"] == "partial":
            assert e["stopped_by"] == "budget" and e["rung"] < 2
            assert len(e["curves"]["valid_score"]) == e["epochs"]
    # only full-budget scores compete: the best is an "ok" record
    best = next(e for e in on.evaluations_ if e["key"] == on.best_genome_.short_key())
    assert best["status"] == "ok"
    ok_keys = {e["key"] for e in on.evaluations_ if e["status"] == "ok"}
    assert {row["genome"].short_key() for row in on.finalists_} <= ok_keys
    assert on.search_state_.best.ok
    # history statistics are over full-budget scores only
    assert all(row["best"] <= on.search_state_.best.score for row in on.history_)
    epochs = {clf: sum(e["epochs"] for e in clf.evaluations_) for clf in (off, on)}
    assert epochs[on] < epochs[off]
    assert on.score(*on_digits_test(on)) > 0.5


def on_digits_test(clf):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[1500:].astype(np.float32), y[1500:]


def test_on_with_parallel_workers_gives_the_same_search(digits, both):
    _, on = both
    parallel = EvolutionaryNASClassifier(**SEARCH, min_epochs=1, n_jobs=2).fit(*digits)
    assert [(e["key"], e["status"], e["score"]) for e in parallel.evaluations_] == [
        (e["key"], e["status"], e["score"]) for e in on.evaluations_
    ]


def test_partial_records_survive_checkpoints(digits, tmp_path):
    clf = EvolutionaryNASClassifier(**SEARCH, min_epochs=1, checkpoint_dir=tmp_path).fit(*digits)
    state = load_checkpoint(tmp_path)
    assert [r.status for r in state.records] == [e["status"] for e in clf.evaluations_]
    more = clf.set_params(n_generations=3, warm_start=True).fit(*digits)
    assert more.n_evaluations_ > len(state.records)
    assert more.evaluations_[: len(state.records)] == clf.evaluations_[: len(state.records)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_epochs": 0}, 'min_epochs must be "auto", None or an int in [1, max_epochs], got 0'),
        (
            {"min_epochs": 40},
            'min_epochs must be "auto", None or an int in [1, max_epochs], got 40',
        ),
        (
            {"min_epochs": 2.5},
            'min_epochs must be "auto", None or an int in [1, max_epochs], got 2.5',
        ),
        ({"halving_factor": 1}, "halving_factor must be an int >= 2, got 1"),
    ],
)
def test_bad_fidelity_settings_are_clear_errors(blobs, params, message):
    with pytest.raises(ValueError) as info:
        EvolutionaryNASClassifier(max_epochs=30, **params).fit(*blobs)
    assert message in str(info.value)


def test_min_epochs_equal_to_max_epochs_is_full_fidelity(blobs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = EvolutionaryNASClassifier(
            population_size=3, n_generations=1, max_epochs=3, min_epochs=3, random_state=0
        ).fit(*blobs)
    assert {e["status"] for e in clf.evaluations_} == {"ok"}


def test_a_result_without_a_snapshot_goes_on_from_scratch():
    # e.g. a rung result journaled before a crash: the schedule is unchanged,
    # and the promoted candidate's next task has no snapshot
    log = []

    def run(tasks, keep_snapshot):
        log.append(list(tasks))
        for i, epochs, _ in tasks:
            yield i, {"score": float(i), "status": "ok", "stopped_by": "budget", "epochs": epochs}

    final = dict(successive_halving(range(3), [1, 3], 3, run))
    assert log[1] == [(2, 3, None)]
    assert final[2]["status"] == "ok" and final[2]["rung"] == 1
    assert final[0]["status"] == final[1]["status"] == "partial"


def test_protected_candidates_go_on_to_the_full_budget_beside_the_best_others():
    log = []
    scores = [0.1, 0.9, 0.5, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6]
    run = toy_run(scores, log)
    final = dict(successive_halving(range(9), [1, 3, 9], 3, run, protected={0, 3}))
    # rung 1: the protected two and ceil(7 / 3) = 3 of the others; rung 2: the
    # protected two and ceil(3 / 3) = 1 of the others
    assert sorted(i for i, _, _ in log[1]) == [0, 1, 3, 4, 6]
    assert sorted(i for i, _, _ in log[2]) == [0, 1, 3]
    assert {i for i, r in final.items() if r["status"] == "ok"} == {0, 1, 3}
    assert final[0]["budget"] == 9 and final[0]["score"] == 0.1


def test_a_protected_candidate_that_fails_or_stops_early_is_final():
    log = []
    run = toy_run([0.1, 0.2, 0.9, 0.5], log, stops={0}, fails={1})
    final = dict(successive_halving(range(4), [1, 3], 3, run, protected={0, 1}))
    assert final[0]["status"] == "ok" and final[0]["rung"] == 0  # its own stopping rule
    assert final[1]["status"] == "failed"
    assert [i for i, _, _ in log[1]] == [2]


def test_the_estimator_trains_its_initial_genomes_to_the_full_budget(blobs):
    X, y = blobs
    slow = Genome("mlp", [LayerGene("dense", {"units": 4, "activation": "relu"})], {"lr": 1e-4})
    clf = EvolutionaryNASClassifier(
        population_size=4,
        n_generations=1,
        max_epochs=9,
        min_epochs=1,
        initial_genomes=[slow],
        n_finalists=1,
        random_state=0,
    ).fit(X, y)
    rows = sorted(clf.evaluations_, key=lambda row: row["index"])
    assert rows[0]["status"] == "ok" and rows[0]["budget"] == 9
    # beside it, one of the three others (unprotected, one of four would go on)
    assert sum(row["status"] == "ok" for row in rows) == 2
