"""A hostile user's battery against the estimators: bad data, bad settings, bad moments.

Each test names the finding of issue 16 it covers; the checkpoint and
model-file findings are in ``test_hostile_resume.py`` and
``test_hostile_files.py``.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from skorch.callbacks import Callback

import skevonas
from skevonas import EvolutionaryNASClassifier, SearchCallback
from skevonas.evolution.records import EvaluationRecord, SearchState
from skevonas.search import CandidatePipeline, FinalStage, SearchBudget
from skevonas.spaces.genome import Genome, LayerGene
from skevonas.store.checkpoint import CheckpointError, load_checkpoint, load_journal
from skevonas.training.candidate import CandidateData
from skevonas.training.recipe import Recipe
from skevonas.training.runtime import read_deadline

ROOT = str(Path(skevonas.__file__).parents[1])


# --------------------------------------------------------------------------- 1: refused fits
def test_a_refused_warm_start_leaves_the_fitted_estimator_as_it_was(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast).fit(X, y)
    before = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    proba = clf.predict_proba(X)
    clf.set_params(warm_start=True, n_generations=3)
    with pytest.raises(CheckpointError, match="data classes"):
        clf.fit(X, np.array(["a", "b", "c"])[y])  # other labels: refused
    with pytest.raises(CheckpointError, match="data shape"):
        clf.fit(X[:, :3], y)  # other features: refused, after n_features_in_ was read
    after = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert clf.n_features_in_ == 4 and clf.classes_.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_a_failed_first_fit_leaves_the_estimator_unfitted(blobs, fast):
    X, y = blobs
    clf = EvolutionaryNASClassifier(**fast, initial_genomes=["{not json"])
    with pytest.raises(ValueError, match="initial_genomes"):
        clf.fit(X, y)
    assert not [k for k in vars(clf) if k.endswith("_")]


# --------------------------------------------------------------------------- 5: Ctrl-C
# A shell starts a background job (`... &`) with SIGINT ignored, and Python then
# installs no KeyboardInterrupt handler: the tests that send SIGINT set the
# handler they rely on, here and in the child they start, so that the suite
# passes however it is started.
CHILD_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('skevonas', run_name='__main__', alter_sys=True)"
)


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C raises KeyboardInterrupt in this process during the test, as in a foreground run."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


class CtrlC(Callback):
    """Sends this process a real SIGINT at the end of the first epoch of candidate ``at``."""

    def __init__(self, at: int = 2) -> None:
        self.at = at
        self.seen = 0

    def on_train_begin(self, net, **kwargs):
        self.seen += 1

    def on_epoch_end(self, net, **kwargs):
        if self.seen == self.at and len(net.history) == 1:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_a_one_process_search_at_once_and_records_nothing_false(
    blobs, tmp_path, ctrl_c_raises
):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        population_size=4,
        n_generations=2,
        max_epochs=6,
        patience=6,
        random_state=0,
        net_params={"callbacks": [CtrlC(at=2)]},
        checkpoint_dir=tmp_path,
    )
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    # the candidate trained before Ctrl-C is journaled; the interrupted one is not
    journal = load_journal(tmp_path)
    assert len(journal) == 1
    assert all(r["status"] == "ok" and r["epochs"] == 6 for r in journal.values())
    # the checkpoint is the consistent one written before the first generation
    assert load_checkpoint(tmp_path).generation == -1
    assert not [k for k in vars(clf) if k.endswith("_")]  # nothing fitted


def test_a_callback_that_stops_training_is_not_taken_for_ctrl_c(blobs):
    from skorch.callbacks import EarlyStopping

    X, y = blobs
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)  # stops at epoch 2
    clf = EvolutionaryNASClassifier(
        population_size=2,
        n_generations=1,
        max_epochs=5,
        random_state=0,
        net_params={"callbacks": [stop]},
    ).fit(X, y)
    assert {e["epochs"] for e in clf.evaluations_} == {2}


CLI_SEARCH = """
    import numpy as np, sys
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    np.savez(sys.argv[1], X=X, y=y)
"""


@pytest.mark.slow
def test_ctrl_c_ends_the_command_line_with_status_130(tmp_path):
    data, ck = tmp_path / "data.npz", tmp_path / "ck"
    env = {**os.environ, "PYTHONPATH": ROOT}
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CLI_SEARCH), str(data)], check=True, env=env
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_WITH_CTRL_C, "search", str(data), "--quiet", "--n-jobs", "1"]
        + ["--max-epochs", "3000", "--patience", "3000", "--population-size", "4"]
        + ["--checkpoint-dir", str(ck), "--output", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (ck / "search.json").exists():
            time.sleep(0.2)
        time.sleep(3.0)  # inside a candidate's 3,000 epochs, where skorch swallows Ctrl-C
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    # the interrupted candidate was not recorded as finished
    assert all(r["epochs"] == 3000 for r in load_journal(ck).values())


# --------------------------------------------------------------------------- 6: float32 and offsets
def test_data_whose_offset_swamps_its_signal_gets_a_clear_warning():
    # Only where it still applies: standardize=True centres X in float64 first.
    X, y = load_iris(return_X_y=True)
    fast = {"population_size": 2, "n_generations": 1, "max_epochs": 1, "random_state": 0}
    with pytest.warns(UserWarning, match=r"offset over 16384 times their spread.*Centre X"):
        EvolutionaryNASClassifier(**fast, standardize=False).fit(X + 1e8, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EvolutionaryNASClassifier(**fast, standardize=False).fit(X + 1e3, y)  # float32 keeps it
        EvolutionaryNASClassifier(**fast).fit(X + 1e8, y)  # centred in float64 first


# --------------------------------------------------------------------------- 12: orphans
ORPHANED_SEARCH = """
    import sys, numpy as np
    from skevonas import EvolutionaryNASClassifier
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 16)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    EvolutionaryNASClassifier(population_size=4, n_generations=5, max_epochs=500,
                              patience=500, n_jobs=2, random_state=0).fit(X, y)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_search_process_is_killed():
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(ORPHANED_SEARCH)],
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        deadline = time.time() + 120
        workers: set[int] = set()
        while time.time() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = {p for p in _children(proc.pid) if "loky" in _cmdline(p)}
        assert len(workers) >= 2, "the search never started its workers"
        time.sleep(2.0)  # they are training now
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 15
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.25)
        assert not [p for p in workers if _alive(p)], "workers outlived their parent"
    finally:
        proc.kill()


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# --------------------------------------------------------------------------- 13: strides
def test_negatively_strided_input_trains_and_predicts(blobs, fast):
    X, y = blobs
    flipped = X[:, ::-1]
    clf = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}).fit(flipped, y)
    same = EvolutionaryNASClassifier(**{**fast, "n_generations": 1}).fit(flipped.copy(), y)
    np.testing.assert_array_equal(
        clf.predict_proba(X[::-1, ::-1]), same.predict_proba(X[::-1, ::-1])
    )


# --------------------------------------------------------------------------- 15: settings
def test_more_elites_than_the_population_is_refused(blobs):
    with pytest.raises(
        ValueError, match=r"elite_size must be at most population_size \(4\), got 5"
    ):
        EvolutionaryNASClassifier(population_size=4, elite_size=5).fit(*blobs)


# ---------------------------------------------------------------- 16: max_time and the refit
class SlowEnd(SearchCallback):
    """Keeps the search busy until ``seconds`` after it began (a search that used its budget)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_search_begin(self, state):
        self.until = time.time() + self.seconds

    def on_search_end(self, state):
        time.sleep(max(0.0, self.until - time.time()))


def test_no_time_left_to_refit_gives_the_best_candidate_as_trained_not_a_sliver(blobs):
    X, y = blobs
    clf = EvolutionaryNASClassifier(
        population_size=2,
        n_generations=1,
        max_epochs=8,
        patience=8,
        max_time=3.0,
        random_state=0,
        callbacks=[SlowEnd(3.5)],
    )
    with pytest.warns(RuntimeWarning, match="the final model is that candidate as the search"):
        clf.fit(X, y)
    best = clf.search_state_.best
    assert best.info["best_epoch"] > 1
    assert len(clf.best_estimator_.history) == 0  # not refitted: the candidate's own network
    assert clf.best_genome_ == best.genome
    assert "as the search trained it" in clf.stop_reason_
    assert clf.predict(X[:3]).shape == (3,)


def test_a_search_with_max_time_keeps_time_for_its_refit(blobs, fast, caplog):
    with caplog.at_level(logging.DEBUG, logger="skevonas.search.budget"):
        EvolutionaryNASClassifier(**fast, max_time=600).fit(*blobs)
    assert any(m.startswith("keeping ") and "for the final stage" in m for m in caplog.messages)


def test_the_search_keeps_time_for_the_refit_of_its_best_genome(blobs, tmp_path):
    X, y = blobs
    data = CandidateData(X[:60], y[:60], X[60:], y[60:], n_classes=3)
    # early stopping (patience): the refit trains the best epoch's count
    pipeline = CandidatePipeline(data, Recipe(patience=5), entropy=0, max_time=100, started=900)
    budget = pipeline.budget
    hook = budget.hook()
    state = SearchState("mlp", population_size=2, n_generations=1)
    hook.on_search_begin(state)
    genome = Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})])
    # 1 s per epoch on 60 samples, best at epoch 6: as soon as the result arrives
    result = {"score": 0.9, "status": "ok", "fit_time": 12.0, "epochs": 12, "best_epoch": 6}
    with budget:
        hook.on_evaluation_end(state, genome, result)
        # candidates training now read the moved end from the deadline file
        assert read_deadline(budget.deadline_file) == budget.search_end
    # 6 refit epochs on 90 samples instead of 60: 9 s, times the margin of 1.5
    assert budget.end == 1000.0 and budget.search_end == pytest.approx(1000.0 - 13.5)
    # a worse candidate moves nothing; a failed one neither, nor a rung that may go on
    hook.on_evaluation_end(state, genome, {**result, "score": 0.5, "best_epoch": 1})
    hook.on_evaluation_end(state, genome, {"score": math.nan, "status": "failed"})
    other = Genome("mlp", [LayerGene("dense", {"units": 16, "activation": "relu"})])
    hook.on_evaluation_end(state, other, {**result, "score": 0.99, "stopped_by": "budget"})
    assert budget.search_end == pytest.approx(1000.0 - 13.5)
    # a record carried over by a resumed search counts from the start
    resumed = SearchState("mlp", population_size=2, n_generations=1)
    resumed.add(EvaluationRecord(genome, 0.9, 0, 0, info={**result, "best_epoch": 12}))
    hook.on_search_begin(resumed)
    assert budget.search_end == pytest.approx(1000.0 - 27.0)
    # and past it the search stops at the end of a generation
    assert hook.on_generation_end(resumed) is True
    assert resumed.stop_reason == "max_time of 100 s reached"


def _three_finalists(folds, members):
    """A budget for 3 finalists on 2 workers, full budget, no margin, ending at 1000 s."""
    return SearchBudget(
        100.0,
        start=900.0,
        final=FinalStage(finalists=3, folds=folds, members=members),
        workers=2,
        margin=1.0,
    )


def test_the_reserve_counts_the_finalists_there_are_not_those_there_may_be():
    # the demo's defect: one full-budget genome reserved time for 3 x 3 folds
    budget = _three_finalists(folds=3, members=3)
    genomes = [Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (4, 8, 16, 32)]
    result = {"status": "ok", "epochs": 10}
    budget.keep_for_final(genomes[0], {**result, "score": 0.8, "fit_time": 30.0})
    assert budget.search_end == 970.0  # no cross-validation of one finalist: its refit alone
    budget.keep_for_final(genomes[1], {**result, "score": 0.7, "fit_time": 6.0})
    # 3 folds of 20 s and 3 of 4 s on two workers (40 s), then refits of 30 and 6 s (30 s)
    assert budget.search_end == pytest.approx(1000.0 - 40.0 - 30.0)
    budget.keep_for_final(genomes[2], {**result, "score": 0.6, "fit_time": 6.0})
    assert budget.search_end == pytest.approx(1000.0 - 44.0 - 30.0)
    # a fourth, worse genome is no finalist: nothing moves
    budget.keep_for_final(genomes[3], {**result, "score": 0.5, "fit_time": 900.0})
    assert budget.search_end == pytest.approx(1000.0 - 44.0 - 30.0)
    # a better one replaces the worst finalist
    budget.keep_for_final(genomes[3], {**result, "score": 0.9, "fit_time": 60.0})
    assert budget.search_end == pytest.approx(1000.0 - 100.0 - 60.0)


def test_without_cross_validation_the_reserve_keeps_the_best_genomes_refit_only():
    # Fashion-MNIST with cv=None: the costliest of 3 finalists was reserved for, though
    # the best holdout score is refitted alone (772 s kept for a 202 s refit)
    budget = _three_finalists(folds=None, members=1)
    genomes = [Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (4, 8, 16)]
    result = {"status": "ok", "epochs": 10}
    budget.keep_for_final(genomes[0], {**result, "score": 0.8, "fit_time": 30.0})
    budget.keep_for_final(genomes[1], {**result, "score": 0.7, "fit_time": 90.0})
    assert budget.search_end == 970.0  # a costlier but worse finalist adds nothing
    budget.keep_for_final(genomes[2], {**result, "score": 0.9, "fit_time": 12.0})
    assert budget.search_end == 988.0  # a new best: its own refit
