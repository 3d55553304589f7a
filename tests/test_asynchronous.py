"""The asynchronous loop on toy runners: busy workers, ASHA, elitism, exact replay."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from skevonas import Genome, LayerGene
from skevonas.evolution import (
    Fidelity,
    GASettings,
    Replay,
    ReplayError,
    Ticket,
    evolve_async,
)
from skevonas.evolution.callbacks import SearchCallback
from skevonas.spaces.catalogue import mlp_space

SPACE = mlp_space().bind((4,))


def width_score(genome: Genome, budget: int | None = None) -> float:
    units = sum(layer["units"] for layer in genome.layers)
    full = units / (units + 256)
    return full if budget is None else full * budget / 9


class ToyRunner:
    """Finishes, among the tickets in flight, the one a hash of its number picks.

    The arrival order is a function of what is in flight, so a replayed
    search meets the same order as the uninterrupted one.
    """

    def __init__(self, capacity=3, fail=(), skip_after=None, order="hash"):
        self.capacity = capacity
        self.flight: dict[int, tuple[Ticket, bytes | None]] = {}
        self.submitted: list[Ticket] = []
        self.snapshots: list[bytes | None] = []
        self.peak = 0
        self.fail = set(fail)
        self.skip_after = skip_after
        self.order = order

    def submit(self, ticket, snapshot):
        self.flight[ticket.number] = (ticket, snapshot)
        self.submitted.append(ticket)
        self.snapshots.append(snapshot)
        self.peak = max(self.peak, len(self.flight))

    def next_result(self):
        if self.order == "fifo":
            number = min(self.flight)
        else:
            number = min(self.flight, key=lambda n: hashlib.sha1(str(n).encode()).hexdigest())
        ticket, _ = self.flight.pop(number)
        if self.skip_after is not None and number >= self.skip_after:
            return number, {"score": math.nan, "status": "skipped"}
        if number in self.fail:
            return number, {"score": math.nan, "status": "failed", "error": "boom"}
        score = width_score(ticket.genome, ticket.budget)
        stopped = "budget" if ticket.budget is not None else "max_epochs"
        return number, {
            "score": score,
            "status": "ok",
            "stopped_by": stopped,
            "epochs": ticket.budget or 9,
            "snapshot": b"state" if ticket.budget not in (None, 9) else None,
        }


def search(runner, **kw):
    """The asynchronous loop on ``runner`` (elite_size 1 unless given; ``replay``: arrivals)."""
    ga = {"population_size": 4, "n_generations": 5, "elite_size": 1}
    ga.update({k: kw.pop(k) for k in list(kw) if k in ga or k in ("selection", "crossover")})
    budgets = kw.pop("budgets", None)
    fidelity = Fidelity(
        tuple(budgets) if budgets else None,
        kw.pop("halving_factor", 3),
        frozenset(kw.pop("protected", ())),
    )
    replay = kw.pop("replay", None)
    if replay is not None:
        runner = Replay(runner, replay, in_order=True)
    options = {"rng": np.random.default_rng(0), **kw}
    return evolve_async(SPACE, runner, GASettings(**ga), fidelity=fidelity, **options)


def summary(state):
    return [(r.key, r.score, r.status, r.generation, r.parents) for r in state.records]


def test_every_worker_is_busy_and_the_budget_is_that_of_the_generational_search():
    runner = ToyRunner(capacity=3)
    state = search(runner)
    assert runner.peak == 3
    # as many as a generational search trains: 4, then 3 new per generation (1 elite)
    assert len(state.records) == 4 + 4 * 3 == len(runner.submitted)
    assert [h["generation"] for h in state.history] == [0, 1, 2, 3, 4]
    assert [h["n_evaluated"] for h in state.history] == [4, 3, 3, 3, 3]
    assert state.stop_reason == "completed 5 generations"
    assert len({r.key for r in state.records}) == 16  # no genome trained twice
    assert all(SPACE.contains(r.genome) for r in state.records)
    # results arrived in another order than they were submitted in
    assert [a.key for a in state.arrivals] != [t.genome.key() for t in runner.submitted]


def test_the_search_improves_on_its_random_start():
    runner = ToyRunner(capacity=2)
    state = search(runner, n_generations=12)
    initial = {t.genome.key() for t in runner.submitted[:4]}
    assert state.best.score > max(state.cache[key].score for key in initial)
    assert all(t.parents for t in runner.submitted[4:])  # bred once results arrived


def test_more_workers_than_the_population_start_random_genomes():
    runner = ToyRunner(capacity=8)
    state = search(runner, n_generations=3)
    assert runner.peak == 8
    assert all(t.parents == () for t in runner.submitted[:8])
    assert len(state.records) == 4 + 2 * 3


def test_the_best_genome_never_leaves_the_breeding_pool():
    state = search(ToyRunner(capacity=2), population_size=2, n_generations=10, elite_size=1)
    assert state.best.index in {r.index for r in state.population}


def test_initial_genomes_start_first():
    seed = Genome("mlp", [LayerGene("dense", {"units": 512, "activation": "relu"})])
    runner = ToyRunner(capacity=2)
    search(runner, initial_population=[seed])
    assert runner.submitted[0].genome.key() == SPACE.repair(seed).key()


def test_failed_candidates_are_recorded_and_the_search_goes_on():
    state = search(ToyRunner(capacity=2, fail={1, 5}))
    failed = [r for r in state.records if r.status == "failed"]
    assert len(failed) == 2 and len(state.records) == 16
    assert state.best is not None and state.best.ok


def test_a_skipped_task_stops_new_candidates():
    state = search(ToyRunner(capacity=2, skip_after=6))
    assert 0 < len(state.records) <= 6
    assert state.history[-1]["n_skipped"] >= 1
    assert state.stop_reason == "no new candidate could be started"


def test_a_callback_stops_the_search_and_tasks_in_flight_are_recorded():
    class StopAtFirstRow(SearchCallback):
        def on_generation_end(self, state):
            return True

    runner = ToyRunner(capacity=3)
    state = search(runner, callbacks=[StopAtFirstRow()])
    assert state.stop_reason == "stopped by StopAtFirstRow"
    assert len(state.records) == len(runner.submitted) < 16  # in-flight ones finished


class RungWatcher(ToyRunner):
    """Checks every promotion against the last results of its rung at that moment."""

    def __init__(self, window=4, **kw):
        super().__init__(**kw)
        self.window = window  # None: every result since the start
        self.scores: dict[int, list[float]] = {}  # rung -> scores arrived

    def submit(self, ticket, snapshot):
        if ticket.rung > 0:
            rung = ticket.rung - 1
            # among the last `window` results of its rung
            known = sorted(self.scores[rung][-(self.window or 0) :], reverse=True)
            mine = width_score(ticket.genome, [1, 3, 9][rung])
            assert mine in known[: len(known) // 3], "promoted outside the top third"
        super().submit(ticket, snapshot)

    def next_result(self):
        number, result = super().next_result()
        ticket = next(t for t in self.submitted if t.number == number)
        if ticket.rung < 2:
            self.scores.setdefault(ticket.rung, []).append(result["score"])
        return number, result


@pytest.mark.parametrize(("rung_window", "window"), [(None, 4), (6, 6), ("all", None)])
def test_asynchronous_successive_halving_promotes_from_the_top_third_of_its_peers(
    rung_window, window
):
    runner = RungWatcher(window=window, capacity=3)
    state = search(
        runner, n_generations=6, budgets=[1, 3, 9], halving_factor=3, rung_window=rung_window
    )
    by_rung = {rung: [t for t in runner.submitted if t.rung == rung] for rung in range(3)}
    assert len(by_rung[0]) == 4 + 5 * 3
    assert 0 < len(by_rung[2]) <= len(by_rung[1]) < len(by_rung[0])
    assert {t.budget for t in by_rung[1]} == {3} and {t.budget for t in by_rung[2]} == {9}
    # a promotion goes on from the snapshot of its rung
    promoted = [s for t, s in zip(runner.submitted, runner.snapshots, strict=True) if t.rung]
    assert promoted and all(s == b"state" for s in promoted)
    ok = [r for r in state.records if r.ok]
    assert ok and all(r.info["budget"] == 9 for r in ok)
    assert all(r.status == "partial" for r in state.records if r.info["budget"] < 9)
    assert state.best.info["rung"] == 2


def test_protected_genomes_go_on_to_the_full_budget():
    seed = SPACE.repair(Genome("mlp", [LayerGene("dense", {"units": 8, "activation": "relu"})]))
    runner = ToyRunner(capacity=2)
    state = search(
        runner,
        initial_population=[seed],
        budgets=[1, 3, 9],
        protected=[seed.key()],
    )
    assert state.cache[seed.key()].status == "ok"  # the narrowest network, yet trained in full


class Arrivals(SearchCallback):
    def on_search_begin(self, state):
        self.seen = []

    def on_evaluation_end(self, state, genome, result):
        self.seen.append((genome.key(), dict(result)))


def test_callbacks_see_each_rung_as_the_generational_loop_shows_it():
    watch = Arrivals()
    state = search(ToyRunner(capacity=3, fail={2}), budgets=[1, 3, 9], callbacks=[watch])
    assert len(watch.seen) == len(state.arrivals)  # every rung, promotions included
    results = [result for _, result in watch.seen]
    assert not any("snapshot" in result for result in results)
    assert {result["status"] for result in results} == {"ok", "partial", "failed"}
    for result in results:
        assert result["budget"] == [1, 3, 9][result["rung"]]
        if result["status"] == "partial":
            assert result["rung"] < 2 and math.isfinite(result["score"])
        if result["status"] == "ok":
            assert result["rung"] == 2
    # the last report of each candidate is its record
    last = dict(watch.seen)
    assert {k: r["status"] for k, r in last.items()} == {r.key: r.status for r in state.records}

    # a skipped task's score is not read (a runner may leave it out or give None)
    class SkipWithoutScore(ToyRunner):
        def next_result(self):
            number, result = super().next_result()
            return number, ({"score": None, "status": "skipped"} if number >= 6 else result)

    skipped = Arrivals()
    state = search(SkipWithoutScore(capacity=3), budgets=[1, 3, 9], callbacks=[skipped])
    assert state.stop_reason == "no new candidate could be started"
    assert any(r["status"] == "skipped" and "rung" not in r for _, r in skipped.seen)
    # without successive halving, as before: no rung, status "ok"
    full = Arrivals()
    search(ToyRunner(capacity=3), callbacks=[full])
    assert all("rung" not in r and r["status"] == "ok" for _, r in full.seen)


@pytest.mark.parametrize("order", ["hash", "fifo"])
@pytest.mark.parametrize("budgets", [None, [1, 3, 9]])
@pytest.mark.parametrize("cut", [1, 7, 15])
def test_a_replayed_search_equals_the_uninterrupted_one(order, budgets, cut):
    full = search(ToyRunner(capacity=3, order=order), budgets=budgets)
    replay = full.arrivals[:cut]
    runner = ToyRunner(capacity=3, order=order)
    resumed = search(runner, budgets=budgets, replay=replay)
    assert summary(resumed) == summary(full)
    assert [h["best"] for h in resumed.history] == [h["best"] for h in full.history]
    # nothing that arrived before the crash was run again, and the rest was
    trained = {(t.genome.key(), t.budget) for t in runner.submitted}
    assert not trained & {(a.key, a.budget) for a in replay}
    assert len(trained) + len(replay) == len(full.arrivals)


def test_a_replay_of_another_search_is_refused():
    other = search(ToyRunner(capacity=3), rng=np.random.default_rng(1))
    with pytest.raises(ReplayError, match="does not match"):
        search(ToyRunner(capacity=3), replay=other.arrivals[:5])


def test_bad_operator_settings_are_refused():
    with pytest.raises(ValueError, match="selection"):
        search(ToyRunner(), selection="best")
    with pytest.raises(ValueError, match="crossover"):
        search(ToyRunner(), crossover="uniform")
    for bad in (0, -1, True, 2.5, "last"):
        with pytest.raises(ValueError, match="rung_window must be"):
            search(ToyRunner(), rung_window=bad)
