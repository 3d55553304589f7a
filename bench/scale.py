"""Keeping many workers busy: generational vs asynchronous search, simulated from a real trace.

Issue 17. Two parts:

``record``: a real search on a bundled EEG set (default SelfRegulationSCP1,
archive train split, the estimator's defaults except full fidelity,
``min_epochs=None``, so that every candidate trains its whole schedule) whose
evaluations become the trace: per genome its holdout score, its learning
curve (the validation score after every epoch of its cosine schedule) and
its training seconds. Written as JSON to ``--trace``.

``simulate``: the library's own search code (``skevonas.evolution.evolve``, with
successive halving, for the generational mode, ``skevonas.evolution.evolve_async``
for the asynchronous one) driven by fake runners and a simulated clock, for
2, 8, 32 and 128 workers:

- a genome of the trace gets its recorded score and seconds; any other
  genome those of its nearest genome in the trace (Euclidean, on
  standardised features: layers of each kind, log total of filters and
  units, of kernel sizes and of pool sizes, log learning rate, log batch
  size, weight decay, mean dropout, optimizer);
- a rung of ``b`` epochs scores the mean of the curve's validation scores at
  epochs ``b-2 .. b`` (what the library scores after ``b`` epochs of the
  full schedule) and lasts ``b / 100`` of the recorded seconds (a promotion
  that goes on from its snapshot lasts only the new epochs);
- the generational mode runs each generation (and each rung of successive
  halving) as a batch, longest first (the engine orders by estimated cost;
  here the true duration, which favours this mode), on the workers, and
  waits for the batch's last candidate; the asynchronous mode gives a
  worker its next task the moment it is free (``asynchronous``: a promotion
  is judged against the last ``population`` results of its rung, the
  library's rule; ``asynchronous-all``, with ``--modes``: against every
  result of the rung, ASHA's published rule).

Both modes run until a simulated time budget (``--time-budget``, default one
hour: a cluster search is bounded by time, as ``max_time`` bounds a real
one); tasks not finished by then are cut and count for nothing. Reported per
mode and number of workers, as means over ``--seeds`` GA seeds: worker
utilisation (worker-seconds of tasks that finished within the budget /
(workers x the time the search ran)), the best score found, the share of
new candidates that were trained to the full budget, and the
simulated time until a genome within 0.5 points of the trace's best score is
found (median; "-" when some seeds never find one). The search settings
scale with the workers (``population = max(8, workers)`` unless
``--population``, ``elite_size=2``, the other GA settings the estimator's
defaults, successive halving over 11, 33 and 100 epochs as the defaults do
unless ``--full-fidelity``, the estimator's seed genomes first).
Startup costs of workers and data transfers are not simulated.

    python bench/scale.py record --trace bench/results/scale_trace_scp1.json
    python bench/scale.py simulate --trace bench/results/scale_trace_scp1.json
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from eeg import machine  # bench/eeg.py: the same description of the machine

from skevonas import EvolutionaryNASClassifier, Genome
from skevonas.evolution import (
    Fidelity,
    GASettings,
    SearchCallback,
    Ticket,
    evolve,
    evolve_async,
    rung_budgets,
    seed_genomes,
)
from skevonas.spaces.catalogue import get_space

MAX_EPOCHS = 100


# --------------------------------------------------------------------------- record
def record(args: argparse.Namespace) -> None:
    from skevonas.datasets import load_eeg

    data = load_eeg(args.dataset)
    settings = {
        "population_size": args.population,
        "n_generations": args.generations,
        "min_epochs": None,
        "cv": None,
        "n_jobs": args.n_jobs,
        "random_state": args.seed,
    }
    clf = EvolutionaryNASClassifier(**settings)
    start = time.perf_counter()
    clf.fit(data.X_train, data.y_train)
    wall = time.perf_counter() - start
    rows = []
    for r in clf.search_state_.records:
        curve = r.info.get("curves", {}).get("valid_score", [])
        rows.append(
            {
                "genome": r.genome.to_dict(),
                "score": r.score,
                "status": r.status,
                "fit_time": r.info.get("fit_time"),
                "epochs": r.info.get("epochs"),
                "curve": curve,
                "n_params": r.info.get("n_params"),
            }
        )
    trace = {
        "dataset": args.dataset,
        "sample_shape": list(clf.sample_shape_),
        "decimation": clf.decimation_,
        "search_shape": [int(s) for s in np.shape(data.X_train)[1:-1]]
        + [int(data.X_train.shape[-1]) // clf.decimation_],
        "space": clf.search_space_.name,
        "settings": settings,
        "max_epochs": clf.max_epochs,
        "wall_s": wall,
        "test_accuracy": float(clf.score(data.X_test, data.y_test)),
        "machine": machine(),
        "records": rows,
    }
    Path(args.trace).parent.mkdir(parents=True, exist_ok=True)
    Path(args.trace).write_text(json.dumps(trace, indent=1))
    ok = [r for r in rows if r["status"] == "ok"]
    print(
        f"recorded {len(rows)} evaluations ({len(ok)} ok) of {args.dataset} in {wall:.0f} s; "
        f"fit seconds {min(r['fit_time'] for r in ok):.1f} to {max(r['fit_time'] for r in ok):.1f}"
        f"; best holdout {max(r['score'] for r in ok):.4f} -> {args.trace}"
    )


# --------------------------------------------------------------------------- the fake worker
class Oracle:
    """Scores and seconds of any genome, from the trace (its own row, or its nearest one's)."""

    def __init__(self, trace: Mapping[str, Any], space: Any) -> None:
        self.rows = [
            r
            for r in trace["records"]
            if r["status"] == "ok" and len(r["curve"]) == trace["max_epochs"] and r["fit_time"]
        ]
        self.max_epochs = int(trace["max_epochs"])
        self.space = space
        self.optimizers = sorted({str(r["genome"]["globals"].get("optimizer")) for r in self.rows})
        self._features: dict[str, np.ndarray] = {}
        genomes = [Genome.from_dict(r["genome"]) for r in self.rows]
        self.kinds = sorted({layer.kind for g in genomes for layer in g.layers})
        self.by_key = {g.key(): i for i, g in enumerate(genomes)}
        table = np.array([self.features(g) for g in genomes])
        self.mean, self.std = table.mean(axis=0), table.std(axis=0) + 1e-9
        self.table = (table - self.mean) / self.std
        self.best = max(self.score(i, self.max_epochs) for i in range(len(self.rows)))
        self._nearest: dict[str, int] = {}

    def features(self, genome: Genome) -> np.ndarray:
        """Numbers that describe a genome without building it (the kinds, widths, genes)."""
        key = genome.key()
        if key not in self._features:
            glob = dict(genome.globals)
            layers = [dict(layer.params) for layer in genome.layers]
            kinds = [layer.kind for layer in genome.layers]

            def total(*names: str) -> float:
                return math.log2(1 + sum(float(p.get(n, 0)) for p in layers for n in names))

            dropouts = [float(p["dropout"]) for p in layers if "dropout" in p]
            values = [
                *[kinds.count(kind) for kind in self.kinds],
                total("filters", "units", "depth_multiplier"),
                total("kernel_size"),
                total("pool_size", "stride"),
                math.log10(float(glob.get("lr", 1e-3))),
                math.log2(float(glob.get("batch_size", 64))),
                float(glob.get("weight_decay", 0.0)),
                statistics.fmean(dropouts) if dropouts else 0.0,
                *[float(str(glob.get("optimizer")) == o) for o in self.optimizers],
            ]
            self._features[key] = np.array(values, dtype=float)
        return self._features[key]

    def row(self, genome: Genome) -> int:
        key = genome.key()
        if key in self.by_key:
            return self.by_key[key]
        if key not in self._nearest:
            x = (self.features(genome) - self.mean) / self.std
            self._nearest[key] = int(np.argmin(((self.table - x) ** 2).sum(axis=1)))
        return self._nearest[key]

    def score(self, row: int, epochs: int) -> float:
        curve = self.rows[row]["curve"]
        return float(np.mean(curve[max(0, epochs - 3) : epochs]))

    def cost(self, genome: Genome) -> float:
        return float(self.rows[self.row(genome)]["fit_time"])

    def seconds(self, row: int, start: int, end: int) -> float:
        r = self.rows[row]
        return float(r["fit_time"]) * (end - start) / len(r["curve"])

    def result(self, genome: Genome, start: int, end: int) -> tuple[float, dict[str, Any]]:
        """(seconds, result) of training ``genome`` from epoch ``start`` to ``end``."""
        row = self.row(genome)
        last = end >= self.max_epochs
        return self.seconds(row, start, end), {
            "score": self.score(row, end),
            "status": "ok",
            "stopped_by": "max_epochs" if last else "budget",
            "epochs": end,
            "snapshot": None if last else end,
        }


class Clock:
    """The simulated time, busy worker-seconds and full-budget results, up to ``limit``."""

    def __init__(self, workers: int, limit: float) -> None:
        self.workers = workers
        self.limit = limit
        self.now = 0.0
        self.busy = 0.0
        self.found: list[tuple[float, float]] = []  # (finish time, full-budget score)
        self.fresh = 0  # tasks that trained a new candidate from epoch 0

    def note(
        self, finish: float, seconds: float, result: Mapping[str, Any], full: bool, fresh: bool
    ) -> None:
        # only work whose result arrives within the budget counts: a task cut
        # at the end of the time budget kept its worker busy for nothing
        if finish <= self.limit:
            self.busy += seconds
            self.fresh += fresh
            if full:
                self.found.append((finish, float(result["score"])))

    def full_share(self) -> float:
        """Candidates trained to the full budget, per candidate started (within the budget)."""
        return len(self.found) / max(1, self.fresh)

    def utilisation(self) -> float:
        return self.busy / (self.workers * min(self.now, self.limit))


SKIPPED = {"score": math.nan, "status": "skipped"}


# --------------------------------------------------------------------------- the two modes
class BarrierSimRunner:
    """A runner for the generational loop: each barrier's tickets run as one batch on the clock.

    The loop submits a generation's (or a rung's) tickets, then takes their
    results; the batch runs longest first (the pipeline's order, by its cost
    estimate), each ticket to the first free worker, and the clock moves to
    the batch's last candidate.
    """

    def __init__(self, oracle: Oracle, clock: Clock) -> None:
        self.oracle, self.clock = oracle, clock
        self.capacity = clock.workers
        self.pending: list[tuple[Ticket, Any]] = []
        self.done: list[tuple[int, dict[str, Any]]] = []

    def submit(self, ticket: Ticket, snapshot: Any) -> None:
        self.pending.append((ticket, snapshot))

    def next_result(self) -> tuple[int, dict[str, Any]]:
        if not self.done:
            self.run_pending()
        return self.done.pop(0)

    def run_pending(self) -> None:
        """Run the tickets submitted since the last barrier as one batch on the clock."""
        oracle, clock = self.oracle, self.clock
        order = sorted(self.pending, key=lambda pair: -oracle.cost(pair[0].genome))
        self.pending = []
        free = [clock.now] * clock.workers
        for ticket, snapshot in order:
            end = ticket.budget or oracle.max_epochs
            start = heapq.heappop(free)
            if start >= clock.limit:  # the time is up: not started
                heapq.heappush(free, start)
                self.done.append((ticket.number, dict(SKIPPED)))
                continue
            seconds, result = oracle.result(ticket.genome, int(snapshot or 0), end)
            heapq.heappush(free, start + seconds)
            clock.note(start + seconds, seconds, result, end >= oracle.max_epochs, not snapshot)
            self.done.append((ticket.number, result))
        clock.now = max(free)  # the barrier: the batch's last candidate


def _fidelity(settings: Mapping[str, Any]) -> Fidelity | None:
    budgets = settings["budgets"]
    if not budgets:
        return None
    return Fidelity(tuple(budgets), 3, frozenset(g.key() for g in settings["seeds"]))


def generational(oracle: Oracle, space: Any, settings: Mapping[str, Any], seed: int) -> Clock:
    clock = Clock(settings["workers"], settings["time_budget"])

    class TimeUp(SearchCallback):  # what the time budget does in a real search
        def on_generation_end(self, state: Any) -> bool:
            return clock.now >= clock.limit

    evolve(
        space,
        BarrierSimRunner(oracle, clock),
        GASettings(settings["population"], settings["generations"], elite_size=2),
        callbacks=[TimeUp()],
        rng=np.random.default_rng(seed),
        fidelity=_fidelity(settings),
        initial_population=settings["seeds"],
    )
    return clock


class SimRunner:
    """A runner for evolve_async whose tasks end on the simulated clock."""

    def __init__(self, oracle: Oracle, clock: Clock) -> None:
        self.oracle, self.clock = oracle, clock
        self.capacity = clock.workers
        self.events: list[tuple[float, int, float, dict[str, Any], bool, bool]] = []

    def submit(self, ticket: Ticket, snapshot: Any) -> None:
        end = ticket.budget or self.oracle.max_epochs
        seconds, result = self.oracle.result(ticket.genome, int(snapshot or 0), end)
        if self.clock.now >= self.clock.limit:  # the time is up: not started
            seconds, result = 0.0, dict(SKIPPED)
        full = end >= self.oracle.max_epochs
        heapq.heappush(
            self.events,
            (self.clock.now + seconds, ticket.number, seconds, result, full, not snapshot),
        )

    def next_result(self) -> tuple[int, dict[str, Any]]:
        finish, number, seconds, result, full, fresh = heapq.heappop(self.events)
        self.clock.now = finish
        if result["status"] != "skipped":
            self.clock.note(finish, seconds, result, full, fresh)
        return number, result


def asynchronous(
    oracle: Oracle, space: Any, settings: Mapping[str, Any], seed: int, rung_window: Any = None
) -> Clock:
    clock = Clock(settings["workers"], settings["time_budget"])
    evolve_async(
        space,
        SimRunner(oracle, clock),
        GASettings(settings["population"], settings["generations"], elite_size=2),
        rng=np.random.default_rng(seed),
        fidelity=_fidelity(settings),
        initial_population=settings["seeds"],
        rung_window=rung_window,
    )
    return clock


def asynchronous_all(oracle: Oracle, space: Any, settings: Mapping[str, Any], seed: int) -> Clock:
    """The asynchronous mode with ASHA's published rule: every result of a rung counts."""
    return asynchronous(oracle, space, settings, seed, rung_window="all")


MODES = {
    "generational": generational,
    "asynchronous": asynchronous,
    "asynchronous-all": asynchronous_all,
}


# --------------------------------------------------------------------------- simulate
def simulate(args: argparse.Namespace) -> None:
    from skevonas.settings import initial_genomes

    trace = json.loads(Path(args.trace).read_text())
    space = get_space(trace["space"], tuple(trace["search_shape"]))
    oracle = Oracle(trace, space)
    seeds = seed_genomes(space, initial_genomes("auto", space))
    budgets = None if args.full_fidelity else rung_budgets(oracle.max_epochs, 11, 3)
    target = oracle.best - 0.005
    print(
        f"trace: {trace['dataset']}, {len(trace['records'])} evaluations "
        f"({len(oracle.rows)} with a full curve), best holdout score {oracle.best:.4f}, "
        f"recorded on {trace['machine']['processor']} ({trace['machine']['cpus']} CPUs) "
        f"with {trace['settings']}"
    )
    print(
        f"simulated search: population {args.population or 'max(8, workers)'}, "
        f"at most {args.generations} generations' "
        f"worth within {args.time_budget:.0f} simulated seconds, "
        f"rungs {budgets or 'none (full fidelity)'}, {args.seeds} GA seeds; "
        f"target: a full-budget score >= {target:.4f}"
    )
    rows = []
    for workers in args.workers:
        settings = {
            "workers": workers,
            "population": args.population or max(8, workers),
            "generations": args.generations,
            "time_budget": args.time_budget,
            "budgets": budgets,
            "seeds": seeds,
        }
        for mode in args.modes:
            run = MODES[mode]
            utilisation, makespan, best, reach, share = [], [], [], [], []
            for seed in range(args.seeds):
                clock = run(oracle, space, settings, seed)
                utilisation.append(clock.utilisation())
                share.append(clock.full_share())
                makespan.append(min(clock.now, clock.limit))
                best.append(max(score for _, score in clock.found))
                hits = [t for t, score in clock.found if score >= target]
                reach.append(min(hits) if hits else math.inf)
            rows.append(
                {
                    "workers": workers,
                    "mode": mode,
                    "utilisation": statistics.fmean(utilisation),
                    "utilisation_min": min(utilisation),
                    "makespan_s": statistics.fmean(makespan),
                    "best": statistics.fmean(best),
                    "full_share": statistics.fmean(share),
                    "time_to_near_best_s": statistics.median(reach),
                    "reached": sum(math.isfinite(t) for t in reach),
                    "times_to_near_best_s": [t if math.isfinite(t) else None for t in reach],
                    "best_per_seed": best,
                    "seeds": args.seeds,
                }
            )
            print(row_line(rows[-1]), flush=True)
    print()
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"trace": args.trace, "rows": rows}, indent=1))


def per_seed(row: Mapping[str, Any]) -> str:
    """Each seed's time to near-best, "-" where it never got there."""
    return ", ".join("-" if t is None else f"{t:.0f}" for t in row["times_to_near_best_s"])


def row_line(row: Mapping[str, Any]) -> str:
    reach = row["time_to_near_best_s"]
    return (
        f"{row['workers']:>4} workers  {row['mode']:<12}  utilisation {row['utilisation']:.3f} "
        f"(min {row['utilisation_min']:.3f})  makespan {row['makespan_s']:8.0f} s  "
        f"best {row['best']:.4f}  full budget {row['full_share']:.2f}  "
        "near-best after "
        + (f"{reach:.0f} s" if math.isfinite(reach) else "-")
        + f" ({row['reached']}/{row['seeds']} seeds: {per_seed(row)})"
    )


def print_table(rows: Sequence[Mapping[str, Any]]) -> None:
    print(
        "| workers | mode | utilisation (mean) | min | ran s | best score (mean) | "
        "full budget per candidate | time to near-best s (median) | per seed | "
        "async / generational time |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    by = {(r["workers"], r["mode"]): r for r in rows}
    for r in rows:
        reach = r["time_to_near_best_s"]
        ratio = "-"
        gen = by.get((r["workers"], "generational"))
        if r["mode"] != "generational" and gen is not None:
            if math.isfinite(reach) and math.isfinite(gen["time_to_near_best_s"]):
                ratio = f"{reach / gen['time_to_near_best_s']:.2f}"
        print(
            f"| {r['workers']} | {r['mode']} | {r['utilisation']:.3f} | "
            f"{r['utilisation_min']:.3f} | {r['makespan_s']:.0f} | {r['best']:.4f} | "
            f"{r['full_share']:.2f} | "
            + (f"{reach:.0f}" if math.isfinite(reach) else "-")
            + f" | {per_seed(r)} | {ratio} |"
        )


# --------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="record a trace from a real search")
    rec.add_argument("--dataset", default="SelfRegulationSCP1")
    rec.add_argument("--population", type=int, default=16)
    rec.add_argument("--generations", type=int, default=4)
    rec.add_argument("--n-jobs", type=int, default=-1)
    rec.add_argument("--seed", type=int, default=0)
    rec.add_argument("--trace", default="bench/results/scale_trace_scp1.json")
    sim = commands.add_parser("simulate", help="simulate both modes on a trace")
    sim.add_argument("--trace", default="bench/results/scale_trace_scp1.json")
    sim.add_argument("--workers", type=int, nargs="+", default=[2, 8, 32, 128])
    sim.add_argument("--generations", type=int, default=100_000)
    sim.add_argument("--time-budget", type=float, default=3600.0)
    sim.add_argument("--seeds", type=int, default=5)
    sim.add_argument("--full-fidelity", action="store_true")
    sim.add_argument("--population", type=int, default=None, help="default: max(8, workers)")
    sim.add_argument(
        "--modes", nargs="+", choices=list(MODES), default=["generational", "asynchronous"]
    )
    sim.add_argument("--json", default=None, help="also write the rows to this file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.command == "record":
        record(args)
    else:
        simulate(args)


if __name__ == "__main__":
    main()
