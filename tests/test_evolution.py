"""The evolution loop on a toy fitness: no torch, milliseconds per search."""

import dataclasses
import math

import numpy as np
import pytest

from skevonas.evolution import GASettings, SearchCallback, SerialRunner, evolve
from skevonas.spaces.catalogue import mlp_space

SPACE = mlp_space().bind((4,))


def toy_fitness(genome):
    # Rewards wide, shallow networks with a learning rate near 1e-3.
    width = sum(layer["units"] for layer in genome.layers) / 512
    return width / len(genome.layers) - abs(math.log10(genome["lr"]) + 3) / 10


class Recorder(SerialRunner):
    """A toy runner that keeps the genome keys it trains, a list per generation."""

    def __init__(self, fail_every=0):
        super().__init__(self.train)
        self.calls = []
        self.fail_every = fail_every

    def train(self, ticket, snapshot):
        while len(self.calls) <= ticket.generation:
            self.calls.append([])
        self.calls[ticket.generation].append(ticket.genome.key())
        if self.fail_every and ticket.number % self.fail_every == 0:
            return {"score": float("nan"), "status": "failed", "error": "boom"}
        return {"score": toy_fitness(ticket.genome), "epochs": 1}


GA_FIELDS = {field.name for field in dataclasses.fields(GASettings)}


def run(seed=0, **kwargs):
    runner = kwargs.pop("runner", Recorder())
    ga = {"population_size": 8, "n_generations": 6, "elite_size": 1}
    ga.update({k: kwargs.pop(k) for k in list(kwargs) if k in GA_FIELDS})
    state = evolve(SPACE, runner, GASettings(**ga), rng=np.random.default_rng(seed), **kwargs)
    return state, runner


def test_best_score_per_generation_never_decreases():
    for seed in range(5):
        state, _ = run(seed, elite_size=1, mutation_rate=1.0)
        best = [row["best"] for row in state.history]
        assert best == sorted(best)
        assert state.best.score == max(r.score for r in state.records)
        assert best[-1] == state.best.score


def test_no_genome_is_evaluated_twice():
    state, recorder = run(1, n_generations=10, population_size=6)
    keys = [key for call in recorder.calls for key in call]
    assert len(keys) == len(set(keys))
    assert len(state.records) == len(keys)
    # Elites come back every generation as cache hits.
    assert all(row["cache_hits"] >= 1 for row in state.history[1:])


def test_tiny_space_reuses_the_cache_instead_of_retraining():
    from skevonas.spaces.domains import Choice, LayerSpec
    from skevonas.spaces.space import SearchSpace

    tiny = SearchSpace(
        "mlp",
        [
            LayerSpec(
                "dense",
                {
                    "units": Choice((8, 16)),
                    "activation": Choice(("relu",)),
                    "dropout": Choice((0.0,)),
                },
            )
        ],
        {"lr": Choice((0.001,))},
        min_layers=1,
        max_layers=1,
    ).bind((4,))
    recorder = Recorder()
    state = evolve(tiny, recorder, GASettings(4, 4), rng=np.random.default_rng(0))
    keys = [key for call in recorder.calls for key in call]
    assert len(keys) == len(set(keys)) == 2
    assert len(state.history) == 4


def test_same_seed_same_search():
    a, _ = run(3)
    b, _ = run(3)
    c, _ = run(4)
    assert [r.key for r in a.records] == [r.key for r in b.records]
    assert [r.score for r in a.records] == [r.score for r in b.records]
    assert [r.key for r in a.records] != [r.key for r in c.records]


def test_search_improves_on_random_sampling():
    improved = 0
    for seed in range(5):
        state, _ = run(seed, n_generations=8)
        first = state.history[0]["best"]
        improved += state.best.score > first
    assert improved >= 4


@pytest.mark.parametrize("selection", ["tournament", "roulette"])
@pytest.mark.parametrize("crossover", ["gene", "layer", "both"])
def test_all_operator_settings_run(selection, crossover):
    state, _ = run(0, selection=selection, crossover=crossover, crossover_rate=1.0)
    assert len(state.history) == 6
    assert all(SPACE.contains(r.genome) for r in state.records)
    assert any(len(r.parents) == 2 for r in state.records)


def test_failed_candidates_are_recorded_and_skipped():
    state, _ = run(0, runner=Recorder(fail_every=3))
    failed = [r for r in state.records if not r.ok]
    assert failed and all(r.status == "failed" and r.info["error"] == "boom" for r in failed)
    assert state.best.ok
    assert sum(row["n_failed"] for row in state.history) == len(failed)


def test_callback_can_stop_the_search():
    class StopAfterTwo(SearchCallback):
        def __init__(self):
            self.events = []

        def on_search_begin(self, state):
            self.events.append("begin")

        def on_generation_end(self, state):
            self.events.append(state.generation)
            return state.generation == 1

        def on_search_end(self, state):
            self.events.append("end")

    cb = StopAfterTwo()
    state, _ = run(0, callbacks=[cb])
    assert cb.events == ["begin", 0, 1, "end"]
    assert len(state.history) == 2
    assert state.stop_reason == "stopped by StopAfterTwo"


def test_initial_population_is_used():
    seed_genome = SPACE.sample(np.random.default_rng(99))
    state, recorder = run(0, initial_population=[seed_genome])
    assert recorder.calls[0][0] == seed_genome.key()


def test_a_runner_that_answers_a_ticket_not_in_flight_is_an_error():
    class Wrong(SerialRunner):
        def next_result(self):
            number, result = super().next_result()
            return number + 100, result

    with pytest.raises(RuntimeError, match="ticket 100, which is not in flight"):
        run(0, runner=Wrong(lambda ticket, snapshot: {"score": 0.5}))


def test_invalid_operator_names():
    with pytest.raises(ValueError, match="selection must be one of"):
        run(0, selection="best")
    with pytest.raises(ValueError, match="crossover must be one of"):
        run(0, crossover="uniform")


def test_local_search_stays_near_the_seed_and_its_elites():
    from skevonas.spaces.catalogue import standard_mlp_genome

    seed = SPACE.repair(standard_mlp_genome())
    state, recorder = run(
        0, initial_population=[seed], local_rate=1.0, population_size=6, n_generations=4
    )
    first = state.records[: state.population_size]
    assert first[0].key == seed.key()
    # the rest of the first generation: one small step from the seed (same depth, kinds)
    assert all(len(r.genome.layers) == len(seed.layers) for r in first)
    assert len({r.key for r in first}) == 6
    # every child is a step from the one elite (elite_size=1): the best so far
    for record in state.records[6:]:
        earlier = [r for r in state.records if r.generation < record.generation]
        best = max(earlier, key=lambda r: r.score)
        assert record.parents == (best.genome.short_key(),)
    # reproducible, and different from the default breeding
    again, _ = run(0, initial_population=[seed], local_rate=1.0, population_size=6, n_generations=4)
    assert [r.key for r in again.records] == [r.key for r in state.records]
    default, _ = run(0, initial_population=[seed], population_size=6, n_generations=4)
    assert [r.key for r in default.records] != [r.key for r in state.records]


def test_local_rate_is_checked():
    with pytest.raises(ValueError, match=r"local_rate must be a float in \[0, 1\], got 1.5"):
        GASettings(local_rate=1.5)
