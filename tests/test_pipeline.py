"""The search's pipeline on its own, with fake workers: no training, no monkeypatching."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest

from skevonas.evolution import (
    Arrival,
    EvaluationRecord,
    Fidelity,
    GASettings,
    Replay,
    SearchState,
    evolve,
    train_generation,
)
from skevonas.search import CandidatePipeline, SearchFailedError, Workers, winner
from skevonas.spaces.catalogue import mlp_space
from skevonas.spaces.genome import Genome, LayerGene
from skevonas.store import Journal, load_journal, read_journal
from skevonas.training.candidate import CandidateData, candidate_seed
from skevonas.training.recipe import Recipe
from skevonas.training.tasks import CandidateTask

DATA = CandidateData(
    np.zeros((8, 3), dtype=np.float32),
    np.arange(8) % 2,
    np.zeros((4, 3), dtype=np.float32),
    np.arange(4) % 2,
    n_classes=2,
)
GENOMES = [
    Genome("mlp", [LayerGene("dense", {"units": n, "activation": "relu"})], {"lr": 0.01})
    for n in (8, 64, 16, 32)
]


def width_score(task: CandidateTask, data: CandidateData) -> dict:
    """A fake worker: the score is the first layer's width; finishes narrow ones last."""
    units = task.genome.layers[0]["units"]
    time.sleep(0.002 * (64 - units))
    return {"score": units / 100, "status": "ok", "epochs": task.epochs, "stopped_by": "max_epochs"}


class Recorder:
    """A fake worker (n_jobs=1 only) that keeps every task it receives."""

    def __init__(self, result=None):
        self.tasks: list[CandidateTask] = []
        self.result = result or (lambda task: {"score": 0.5, "status": "ok"})

    def __call__(self, task: CandidateTask, data: CandidateData) -> dict:
        self.tasks.append(task)
        return dict(self.result(task))


def pipeline(worker, n_jobs=None, **kwargs) -> CandidatePipeline:
    return CandidatePipeline(
        DATA,
        Recipe(max_epochs=9),
        entropy=7,
        workers=Workers(n_jobs=n_jobs),
        worker=worker,
        **kwargs,
    )


def generation(runner, genomes, number=0, fidelity=None):
    """One generation's final results, by position: what the generational loop gets."""
    batch = [(g, ()) for g in genomes]
    return dict(train_generation(runner, fidelity or Fidelity(), batch, number))


HALVING = Fidelity((1, 3, 9), 3)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_every_genome_gets_its_own_result_whatever_order_workers_finish_in(n_jobs):
    with pipeline(width_score, n_jobs=n_jobs) as run:
        results = generation(run, GENOMES)
    assert sorted(results) == [0, 1, 2, 3]
    for i, result in results.items():
        assert result["score"] == GENOMES[i].layers[0]["units"] / 100


def test_tasks_carry_the_recipe_seed_deadline_and_most_expensive_first_order():
    recorder = Recorder()
    started = time.time()
    with pipeline(recorder, n_jobs=1, max_time=3600, started=started) as run:
        generation(run, GENOMES)
        assert recorder.tasks[0].deadline_file == run.budget.deadline_file is not None
    widths = [t.genome.layers[0]["units"] for t in recorder.tasks]
    assert widths == [64, 32, 16, 8]  # longest-processing-time order
    assert [t.slot for t in recorder.tasks] == [1, 3, 2, 0]  # the tickets' numbers
    for task in recorder.tasks:
        assert task.slot == GENOMES.index(task.genome)
        assert task.seed == candidate_seed(7, task.genome)
        assert task.recipe == Recipe(max_epochs=9)
        assert task.deadline == started + 3600 and task.epochs == 9 and task.snapshot is None
        assert task.devices.device(task.slot) == "cpu"


def test_journaled_results_come_back_without_reaching_the_worker(tmp_path):
    recorder = Recorder()
    old = {"score": 0.25, "status": "ok", "epochs": 3}
    journal = Journal(tmp_path, {})
    with pipeline(recorder, n_jobs=1, journal=journal) as run:
        replay = Replay(run, [Arrival(GENOMES[1].key(), None, old)], in_order=False)
        results = generation(replay, GENOMES, number=4)
        assert replay.replayed == 1
        assert results[1] == old
        assert GENOMES[1] not in [t.genome for t in recorder.tasks]
        assert len(recorder.tasks) == 3
        # the new results were journaled as they arrived, the reused one not again
        assert set(load_journal(tmp_path)) == {GENOMES[i].key() for i in (0, 2, 3)}
        # and a second generation does not reuse it twice
        generation(replay, [GENOMES[1]], number=5)
    assert recorder.tasks[-1].genome == GENOMES[1]


def test_skipped_results_are_not_journaled(tmp_path):
    skipped = Recorder(lambda task: {"score": math.nan, "status": "skipped"})
    with pipeline(skipped, n_jobs=1, journal=Journal(tmp_path, {})) as run:
        generation(run, GENOMES)
    assert load_journal(tmp_path) == {}


def test_a_failed_candidate_warns_and_is_returned_as_failed():
    failing = Recorder(lambda task: {"score": math.nan, "status": "failed", "error": "boom"})
    with pipeline(failing, n_jobs=1) as run, pytest.warns(RuntimeWarning, match="failed.*boom"):
        results = generation(run, GENOMES[:1])
    assert results[0]["status"] == "failed"


def test_the_pipeline_needs_to_be_entered():
    with pytest.raises(RuntimeError, match="context manager"):
        generation(pipeline(Recorder(), n_jobs=1), GENOMES)


def rungs(task: CandidateTask) -> dict:
    """Fake rung training: score by width, a snapshot when asked."""
    units = task.genome.layers[0]["units"]
    out = {"score": units / 100 + task.epochs / 1000, "status": "ok", "epochs": task.epochs}
    out["stopped_by"] = "budget" if task.epochs < 9 else "max_epochs"
    if task.keep_snapshot:
        out["snapshot"] = f"{units}@{task.epochs}".encode()
    return out


def test_successive_halving_goes_on_from_each_snapshot():
    recorder = Recorder(rungs)
    with pipeline(recorder, n_jobs=1) as run:
        final = generation(run, GENOMES, fidelity=HALVING)
    assert [t.epochs for t in recorder.tasks] == [1, 1, 1, 1, 3, 3, 9]
    later = recorder.tasks[4:]
    assert [t.snapshot for t in later] == [b"64@1", b"32@1", b"64@3"]
    assert [t.keep_snapshot for t in recorder.tasks] == [True] * 6 + [False]
    assert final[1]["status"] == "ok" and final[1]["budget"] == 9
    assert {final[i]["status"] for i in (0, 2, 3)} == {"partial"}


def test_protected_genomes_train_the_full_budget_whatever_their_rungs_say():
    recorder = Recorder(rungs)
    narrow = GENOMES[0]  # the worst at every rung
    with pipeline(recorder, n_jobs=1) as run:
        final = generation(run, GENOMES, fidelity=Fidelity((1, 3, 9), 3, frozenset([narrow.key()])))
    assert final[0]["status"] == "ok" and final[0]["budget"] == 9
    assert final[1]["status"] == "ok"  # the best of the others still goes on
    assert {final[i]["status"] for i in (2, 3)} == {"partial"}


def test_without_a_full_budget_candidate_the_best_partial_one_wins():
    def out_of_time_after_rung_0(task):
        if task.snapshot is not None:
            return {"score": math.nan, "status": "skipped", "error": "time is up"}
        return rungs(task)

    space = mlp_space().bind((3,))
    with pipeline(Recorder(out_of_time_after_rung_0), n_jobs=1) as run:
        state = evolve(space, run, GASettings(4, 1), rng=np.random.default_rng(0), fidelity=HALVING)
    assert {r.status for r in state.records} == {"partial"}
    with pytest.warns(RuntimeWarning, match="refitting the best partial one"):
        best = winner(state)
    assert best.score == max(r.score for r in state.records)


def test_a_search_with_nothing_to_refit_raises_search_failed():
    state = SearchState("mlp", population_size=2, n_generations=1, stop_reason="max_time")
    with pytest.raises(SearchFailedError, match="no candidate finished training"):
        winner(state)
    state.add(EvaluationRecord(GENOMES[0], math.nan, 0, 0, status="failed", info={"error": "x"}))
    with pytest.raises(SearchFailedError, match="all 1 candidates failed.*Errors seen: x"):
        winner(state)


def test_refit_trains_on_all_the_data_with_the_search_settings(blobs):
    X, y = blobs
    data = CandidateData(X[:60], y[:60], X[60:], y[60:], n_classes=3)
    run = CandidatePipeline(data, Recipe(max_epochs=5), entropy=0)
    genome = Genome(
        "mlp",
        [LayerGene("dense", {"units": 8, "activation": "relu"})],
        {"lr": 0.01, "batch_size": 16},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = run.refit(genome, X, y, epochs=3, standardize=True, seed=0)
    assert len(net.history) == 3
    assert net.predict_proba(X[:4]).shape == (4, 3)


def test_rung_results_are_journaled_and_come_back_without_training(tmp_path):
    journal = Journal(tmp_path, {"search_id": "s1"})
    first = Recorder(rungs)
    with pipeline(first, n_jobs=1, journal=journal) as run:
        final = generation(run, GENOMES, fidelity=HALVING)
    entries = read_journal(tmp_path, "s1")
    # one line per arrival, in order, each with its ticket's number and budget
    assert [(e.genome, e.budget) for e in entries] == [(t.genome, t.epochs) for t in first.tasks]
    assert [e.ticket for e in entries] == [1, 3, 2, 0, 4, 5, 6]
    assert all("snapshot" not in e.result for e in entries)
    # A crash after rung 0: its results come back, the schedule is the same, and
    # the promoted candidates (without snapshots) train from scratch to 3 epochs.
    rung0 = [a for a in Journal(None, {}, entries).arrivals() if a.budget == 1]
    again = Recorder(rungs)
    with pipeline(again, n_jobs=1) as run:
        assert generation(Replay(run, rung0, in_order=False), GENOMES, fidelity=HALVING) == final
    assert [(t.epochs, t.snapshot) for t in again.tasks] == [(3, None), (3, None), (9, b"64@3")]


def test_leaving_the_pipeline_releases_the_folder_lock(tmp_path):
    from skevonas.store.folderlock import FolderLock

    lock = FolderLock(tmp_path).acquire()
    with pipeline(Recorder(), n_jobs=1, journal=Journal(tmp_path, {}, lock=lock)) as run:
        generation(run, GENOMES[:1])
        assert lock.held
    assert not lock.held
