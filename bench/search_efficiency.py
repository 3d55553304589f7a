"""Search efficiency: GA vs brute force, vs random search, vs GASearchCV; Fashion-MNIST.

Four parts, chosen with ``--parts``; each prints its settings and progress,
and one table at the end sums them up against the targets of the issue.

1. **GA vs brute force** on the 672-genome space of the Keras MLP GA
   (:func:`skevonas.spaces.presets.keras_mlp_space`) on scikit-learn's digits.
   The data are split once, stratified 75/25 with ``random_state=0``; the
   search only sees the training part, split further into the internal
   training and validation parts that ``EvolutionaryNASClassifier(
   search_space="keras_mlp", random_state=0)`` would make (its own
   ``CandidateData``). Every genome of the grid is trained once by the
   library's worker (:func:`skevonas.training.candidate.evaluate_candidate`, seed
   :func:`~skevonas.training.candidate.candidate_seed` of that estimator, one torch
   thread, joblib ``--n-jobs`` workers); the table (score, fit time, epochs
   per genome key) is cached as JSON in ``--cache`` so reruns skip it. Then,
   for every seed in ``--seeds``, the library's own GA loop
   (:func:`skevonas.evolution.generational.evolve`, the estimator's default operators and
   rates, ``--population``, ``numpy.random.default_rng(seed)``) runs over
   the same bound space with an ``evaluate`` that looks genomes up in that
   table: a *tabular benchmark*, as NAS-Bench-101 is, in which a genome's
   fitness is the validation score its single grid training measured. The
   loop never trains a genome twice, so its evaluations are distinct
   genomes. Reported per seed: the evaluations until the GA first holds a
   genome within 0.005 (0.5 points) of the grid's best validation score,
   counted at the end of that generation (all of a generation's candidates
   are trained before the GA can see any of them), their ratio to the
   grid's size, and the sum of those genomes' fit times against the grid's.
   The GA runs up to ``--max-evals`` evaluations, so misses are measured
   too. Target: at most 1/9 of the grid (74 of 672) in at least 8 of 10
   seeds.
2. **GA vs random search** over the same table, with the same number of
   evaluations: the GA runs as many whole generations as fit in ``--budget``
   evaluations (60: 10 + 6 x 8 = 58 with population 10 and 2 elites), and
   random search gets as many distinct genomes of ``space.sample`` as the
   GA trained. Each picks its best validation score from the table
   (tabular, as in part 1); only the picked genomes are then
   trained for real, by :func:`skevonas.training.candidate.fit_final` on the whole
   training part for the genome's best epoch count (the estimator's refit;
   one fixed refit seed, so a genome's test accuracy depends on the genome
   alone and refits are cached by genome key), and scored on the test
   part. Reported: test accuracy mean and std over the seeds.
3. **skevonas vs sklearn-genetic-opt** (``GASearchCV``, version 0.12.0, a
   bench-only dependency: ``pip install sklearn-genetic-opt==0.12.0``)
   tuning an equivalent skorch MLP on the digits training part: hidden
   layers 1-4, width {64, 128, 256, 512, 768, 1024}, activation {relu, elu,
   tanh, sigmoid}, optimizer (the same Keras-default PyTorch twins as the
   preset, :func:`skevonas.training.recipe.optimizer_for`), dropout 0.2 after every
   hidden layer, Glorot-uniform weights, batch size 128, standardised
   inputs, the same ``--max-epochs`` and early stopping with the same
   ``--patience`` on a 20 % stratified validation part of each training
   fold (skorch's ``ValidSplit`` and ``EarlyStopping(load_best=True)``).
   skevonas is ``EvolutionaryNASClassifier(search_space="keras_mlp")``.
   Population and generations are set so that both train about the same
   number of configurations; the table shows the actual counts (skevonas's
   ``n_evaluations_``, GASearchCV's distinct configurations in
   ``cv_results_``). GASearchCV runs twice: with its default ``cv=3``
   (3-fold ``StratifiedKFold``: 3 fits per configuration) and with a single
   80/20 holdout (``ShuffleSplit(n_splits=1, test_size=0.2,
   random_state=0)``), whose cost per configuration is comparable to
   skevonas's. GASearchCV has no ``random_state``: the script seeds Python's
   and NumPy's global generators before its fit. Both use ``--n-jobs``
   (GASearchCV parallelises over the CV folds of one configuration only, so
   with the holdout it trains one configuration at a time). A throw-away
   1-epoch search first starts the joblib workers, which both then share.
   Measured: wall time of the whole ``fit`` (search and refit) and test
   accuracy. Target: skevonas at
   most 1/3 of GASearchCV's wall time at equal or better test accuracy.
4. **Fashion-MNIST end to end** (:func:`skevonas.datasets.load_fashion_mnist`,
   60,000 / 10,000 images) with ``--fm-space`` (default
   ``"naturalselection"``, the seed package's MLP space; ``"cnn2d"`` for
   the 2-D CNN space) on the CPU with ``--n-jobs`` workers, ``max_time``
   ``--fm-max-time`` seconds for the whole fit and a per-candidate limit
   ``--fm-candidate-time-limit``; ``--fm-cv`` folds re-score the finalists
   (0: none, the holdout picks). Reported: test accuracy, search, final
   stage and total time. Targets: MLP spaces at least 90.3 % test accuracy
   within 15 minutes in all (the seed package naturalselection reported
   90.29 % after about 92 minutes on a laptop); ``cnn2d`` at least 92.5 %
   within 30 minutes. ``--min-epochs`` is passed to the estimator only when
   given (multi-fidelity successive halving).

``--quick`` is a smoke test of every part in a few minutes: a 40-genome
sub-grid (2 widths, 1-2 layers, 2 activations, 5 optimizers) with 5 epochs,
2 seeds, tiny populations, 2,000 / 1,000 Fashion-MNIST images and 1 epoch.
Its numbers mean nothing. ``--time-grid N`` trains N genomes spread over
the grid (not cached) and estimates the full grid's time, then stops.

    python bench/search_efficiency.py --quick
    python bench/search_efficiency.py --time-grid 10
    python bench/search_efficiency.py --parts 1 2          # grid once (cached), 10 seeds
    python bench/search_efficiency.py --parts 3 4 --json results.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.model_selection import ShuffleSplit, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from torch import nn

from skevonas import EvolutionaryNASClassifier, __version__
from skevonas.evolution import GASettings, SearchCallback, SearchState, SerialRunner, evolve
from skevonas.prepare import prepare_data
from skevonas.spaces.builders.layers import channel_stats
from skevonas.spaces.domains import Choice
from skevonas.spaces.genome import Genome
from skevonas.spaces.networks import estimate_macs
from skevonas.spaces.presets import KERAS_MLP_CHOICES, keras_mlp_grid, keras_mlp_space
from skevonas.spaces.space import SearchSpace
from skevonas.training.candidate import (
    CandidateData,
    candidate_seed,
    evaluate_candidate,
    fit_final,
)
from skevonas.training.recipe import Recipe, optimizer_for

# Settings of a full run and of the --quick smoke test; a CLI flag overrides them.
PRESETS: dict[str, dict[str, Any]] = {
    "full": {
        "seeds": list(range(10)),
        "max_epochs": 30,  # the estimator's defaults
        "patience": 5,
        "population": 10,
        "max_evals": 300,
        "budget": 60,  # at most: 10 + 6 x 8 = 58 evaluations
        "p3_generations": 6,  # skevonas: 10 + 5 x 8 = 50 evaluations
        "gacv_population": 10,  # GASearchCV: 10 + 2 x 20 = 50 calls, minus repeats
        "gacv_generations": 2,
        "fm_n_train": None,
        "fm_n_test": None,
        "fm_population": 10,
        "fm_generations": 100,  # the time budget ends the search
        "fm_max_epochs": 15,
        "fm_patience": 3,
        "fm_max_time": 600.0,
        "fm_candidate_time_limit": 200.0,
        "fm_cv": 3,
    },
    "quick": {
        "seeds": [0, 1],
        "max_epochs": 5,
        "patience": 2,
        "population": 6,
        "max_evals": 30,
        "budget": 12,
        "p3_generations": 2,
        "gacv_population": 3,
        "gacv_generations": 1,
        "fm_n_train": 2000,
        "fm_n_test": 1000,
        "fm_population": 4,
        "fm_generations": 2,
        "fm_max_epochs": 1,
        "fm_patience": 1,
        "fm_max_time": 60.0,
        "fm_candidate_time_limit": 30.0,
        "fm_cv": 0,
    },
}
# The 40-genome sub-grid of --quick.
QUICK_CHOICES: dict[str, tuple[Any, ...]] = {
    "nb_neurons": (64, 256),
    "nb_layers": (1, 2),
    "activation": ("relu", "tanh"),
    "optimizer": ("rmsprop", "adam", "sgd", "adadelta", "nadam"),
}
DATA_SEED = 0  # the outer split, the internal split and the candidates' seeds
TOLERANCE = 0.005  # "within 0.5 points of the grid's best"
GRID_FRACTION = 9  # target: at most 1/9 of the grid ...
SEEDS_NEEDED = 0.8  # ... in at least 8 of 10 seeds
SPEED_TARGET = 3.0  # skevonas at most 1/3 of GASearchCV's wall time
# Fashion-MNIST targets (test accuracy, seconds of the whole fit): MLP spaces, the 2-D CNN space
FM_TARGETS = {"mlp": (0.903, 15 * 60), "cnn2d": (0.925, 30 * 60)}
ROW_FIELDS = ("score", "peak_score", "status", "epochs", "best_epoch", "stopped_by", "fit_time")


# --------------------------------------------------------------------------- digits
@dataclass(frozen=True)
class Digits:
    """Digits split once; ``data`` is the estimator's internal split of the train part."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    data: CandidateData
    entropy: int  # candidate_seed(entropy, genome) seeds each grid training
    refit_seed: int


def load_digits_setup() -> Digits:
    """The outer 75/25 split and the internal split ``random_state=0`` would make."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X.astype(np.float32), y, test_size=0.25, stratify=y, random_state=DATA_SEED
    )
    # The estimator's own data preparation, so the grid sees exactly the parts
    # and seeds a search with random_state=DATA_SEED would.
    prepared = prepare_data(X_train, y_train, random_state=DATA_SEED)
    seeds = prepared.seeds
    return Digits(
        prepared.X,
        prepared.y,
        X_test,
        y_test.astype(np.int64),
        prepared.parts,
        seeds.entropy,
        seeds.refit,
    )


def grid_space(quick: bool) -> tuple[SearchSpace, list[Genome]]:
    """The bound Keras MLP space and every genome of it (or the 40-genome sub-grid)."""
    grid = keras_mlp_grid()
    space = keras_mlp_space()
    if quick:
        grid = [
            g
            for g in grid
            if g["units"] in QUICK_CHOICES["nb_neurons"]
            and g["depth"] in QUICK_CHOICES["nb_layers"]
            and g["activation"] in QUICK_CHOICES["activation"]
            and g["optimizer"] in {f"keras_{o}" for o in QUICK_CHOICES["optimizer"]}
        ]
        globals_ = dict(space.globals)
        globals_["units"] = Choice(QUICK_CHOICES["nb_neurons"])
        globals_["depth"] = Choice(QUICK_CHOICES["nb_layers"])
        globals_["activation"] = Choice(QUICK_CHOICES["activation"])
        globals_["optimizer"] = Choice(tuple(f"keras_{o}" for o in QUICK_CHOICES["optimizer"]))
        space = SearchSpace(
            "mlp", space.layers, globals_, min_layers=0, max_layers=0, name="keras_mlp_quick"
        )
    space = space.bind((64,))
    assert all(space.contains(g) for g in grid) and len({g.key() for g in grid}) == len(grid)
    return space, grid


# --------------------------------------------------------------------------- grid table
def _grid_worker(
    genome: Genome, data: CandidateData, settings: Recipe, seed: int
) -> tuple[str, dict[str, Any]]:
    result = evaluate_candidate(genome, data, settings, seed, device="cpu", n_threads=1)
    row = {k: result.get(k) for k in ROW_FIELDS}
    if row["status"] != "ok":
        row["error"] = result.get("error")
    return genome.key(), row


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    # NaN is not JSON: store None, read it back as NaN
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()
    }


def _load_cache(path: Path, meta: Mapping[str, Any]) -> dict[str, Any]:
    empty = {"meta": dict(meta), "grid": {}, "refits": {}}
    if not path.is_file():
        return empty
    cache = json.loads(path.read_text())
    if cache.get("meta") != meta:
        print(f"  cache {path} was made with other settings: starting anew", flush=True)
        return empty
    return cache


def _save_cache(path: Path, cache: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache))
    tmp.replace(path)  # atomic: an interrupted run keeps what it had


def run_grid(
    genomes: Sequence[Genome],
    digits: Digits,
    settings: Recipe,
    n_jobs: int,
    cache: dict[str, Any],
    path: Path | None,
) -> dict[str, dict[str, Any]]:
    """Train every genome not yet in ``cache["grid"]``; return the table by genome key."""
    table = cache["grid"]
    todo = [g for g in genomes if g.key() not in table]
    if todo:
        print(f"  training {len(todo)} of {len(genomes)} grid genomes ...", flush=True)
        # most expensive first, as the estimator orders a generation
        todo.sort(key=lambda g: -estimate_macs(g, (64,), 10))
        start = time.perf_counter()
        tasks = (
            delayed(_grid_worker)(g, digits.data, settings, candidate_seed(digits.entropy, g))
            for g in todo
        )
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for done, (key, row) in enumerate(parallel(tasks), 1):
            table[key] = _json_row(row)
            if path is not None and (done % 25 == 0 or done == len(todo)):
                _save_cache(path, cache)
            if done % 50 == 0 or done == len(todo):
                print(f"    {done}/{len(todo)} in {time.perf_counter() - start:.0f} s", flush=True)
    rows = {}
    for g in genomes:
        row = dict(table[g.key()])
        row["score"] = math.nan if row["score"] is None else float(row["score"])
        rows[g.key()] = row
    return rows


def time_grid(n: int, quick: bool, n_jobs: int, settings: Recipe) -> None:
    """Train ``n`` genomes spread over the grid and estimate the whole grid's time."""
    _, grid = grid_space(quick)
    digits = load_digits_setup()
    picked = [grid[i] for i in np.random.default_rng(0).choice(len(grid), n, replace=False)]
    start = time.perf_counter()
    rows = run_grid(picked, digits, settings, n_jobs, {"grid": {}}, None)
    wall = time.perf_counter() - start
    fit = np.array([r["fit_time"] for r in rows.values()], dtype=float)
    epochs = np.array([r["epochs"] or 0 for r in rows.values()], dtype=float)
    print(
        f"{n} genomes, n_jobs={n_jobs}: wall {wall:.1f} s, fit time per genome mean "
        f"{fit.mean():.2f} s (min {fit.min():.2f}, max {fit.max():.2f}), epochs mean "
        f"{epochs.mean():.1f}\nestimated grid of {len(grid)}: {wall / n * len(grid) / 60:.1f} "
        f"min wall ({fit.mean() * len(grid) / n_jobs / 60:.1f} min from fit times / n_jobs)"
    )


# --------------------------------------------------------------------------- GA on the table
class StopAfter(SearchCallback):
    """End the search after the generation that reaches ``n`` evaluations."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_generation_end(self, state: SearchState) -> bool:
        return len(state.records) >= self.n


def ga_settings(population: int, n_generations: int = 1) -> GASettings:
    """The estimator's default operators and rates, for ``population`` and ``n_generations``."""
    defaults = EvolutionaryNASClassifier().get_params()
    names = ("elite_size", "selection", "tournament_size", "crossover", "crossover_rate")
    return GASettings(
        population,
        n_generations,
        **{k: defaults[k] for k in (*names, "mutation_rate")},
    )


def tabular_settings(max_epochs: int, patience: int | None) -> Recipe:
    """The recipe of the brute-force table: a constant learning rate, early stopping."""
    return Recipe(max_epochs, patience, lr_schedule="constant", reshuffle=False)


def run_tabular_ga(
    space: SearchSpace,
    table: Mapping[str, Mapping[str, Any]],
    seed: int,
    population: int,
    evaluations: int,
    *,
    at_most: bool = False,
) -> SearchState:
    """The library's GA loop with fitness looked up in the grid table.

    It runs whole generations: the fewest that reach ``evaluations``, or with
    ``at_most`` the most that stay within them (the first generation trains
    ``population`` genomes, each later one ``population - elite_size``).
    """
    per_generation = max(1, population - ga_settings(population).n_elites)
    more = max(0, evaluations - population) / per_generation
    n_generations = 1 + (math.floor(more) if at_most else math.ceil(more))
    return evolve(
        space,
        SerialRunner(lambda ticket, snapshot: dict(table[ticket.genome.key()])),
        ga_settings(population, n_generations),
        rng=np.random.default_rng(seed),
        callbacks=[] if at_most else [StopAfter(evaluations)],
    )


def evaluations_to(state: SearchState, threshold: float) -> tuple[int | None, float]:
    """Evaluations (at the end of a generation) until one scored >= ``threshold``.

    Returns ``(count, sum of their fit times)``; count None if never.
    """
    for generation in range(state.generation + 1):
        done = [r for r in state.records if r.generation <= generation]
        if any(r.ok and r.score >= threshold for r in done):
            return len(done), float(sum(r.info.get("fit_time") or 0.0 for r in done))
    return None, float(sum(r.info.get("fit_time") or 0.0 for r in state.records))


def random_pick(
    space: SearchSpace, table: Mapping[str, Mapping[str, Any]], seed: int, n: int
) -> tuple[Genome, int]:
    """Best of ``n`` distinct ``space.sample`` genomes by table score (earlier wins ties)."""
    rng = np.random.default_rng([1, seed])
    picked: dict[str, Genome] = {}
    for _ in range(100 * n):
        if len(picked) >= min(n, len(table)):
            break
        genome = space.sample(rng)
        picked.setdefault(genome.key(), genome)
    scores = [table[k]["score"] for k in picked]
    best = int(np.nanargmax(scores))
    return list(picked.values())[best], len(picked)


# --------------------------------------------------------------------------- refits
def _refit_worker(
    genome: Genome, digits: Digits, epochs: int, settings: Recipe
) -> dict[str, float]:
    start = time.perf_counter()
    net = fit_final(
        genome,
        digits.X_train,
        digits.y_train,
        10,
        epochs=epochs,
        input_stats=channel_stats(digits.X_train),
        settings=settings,
        seed=digits.refit_seed,
        device="cpu",
        n_threads=1,
    )
    accuracy = float(np.mean(net.predict(digits.X_test) == digits.y_test))
    return {"test_accuracy": accuracy, "refit_time": time.perf_counter() - start}


def refit_all(
    picks: Sequence[Genome],
    table: Mapping[str, Mapping[str, Any]],
    digits: Digits,
    settings: Recipe,
    n_jobs: int,
    cache: dict[str, Any],
    path: Path | None,
) -> dict[str, dict[str, float]]:
    """Test accuracy of each picked genome refitted for its best epoch count (cached)."""
    refits = cache["refits"]

    def name(g: Genome) -> str:
        return f"{g.key()}|epochs={table[g.key()]['best_epoch']}|seed={digits.refit_seed}"

    todo = list({name(g): g for g in picks if name(g) not in refits}.values())
    if todo:
        print(f"  refitting {len(todo)} picked genomes on the whole train part ...", flush=True)
        results = Parallel(n_jobs=n_jobs)(
            delayed(_refit_worker)(g, digits, int(table[g.key()]["best_epoch"]), settings)
            for g in todo
        )
        for g, result in zip(todo, results, strict=True):
            refits[name(g)] = result
        if path is not None:
            _save_cache(path, cache)
    return {g.key(): refits[name(g)] for g in picks}


# --------------------------------------------------------------------------- parts 1 and 2
@dataclass
class Tabular:
    """What parts 1 and 2 share: the data, space, grid table and cache."""

    digits: Digits
    space: SearchSpace
    grid: list[Genome]
    table: dict[str, dict[str, Any]]
    settings: Recipe
    cache: dict[str, Any]
    path: Path | None


def prepare_tabular(args: argparse.Namespace) -> Tabular:
    digits = load_digits_setup()
    space, grid = grid_space(args.quick)
    settings = tabular_settings(args.max_epochs, args.patience)
    sha = hashlib.sha256(digits.data.X_train.tobytes()).hexdigest()[:16]
    meta = {
        "space": space.name,
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "data_seed": DATA_SEED,
        "entropy": digits.entropy,
        "train_sha": sha,
        "skevonas": __version__,
        "torch": torch.__version__,
    }
    path = Path(args.cache) if args.cache else default_cache(space.name, args)
    print(f"  grid table cache: {path}", flush=True)
    cache = _load_cache(path, meta)
    table = run_grid(grid, digits, settings, args.n_jobs, cache, path)
    return Tabular(digits, space, grid, table, settings, cache, path)


def default_cache(space_name: str, args: argparse.Namespace) -> Path:
    # bench/results is not git-ignored, so the cache lives in the temp folder
    folder = Path(tempfile.gettempdir()) / "skevonas-bench"
    return folder / f"{space_name}_digits_e{args.max_epochs}_p{args.patience}.json"


def part1(tab: Tabular, args: argparse.Namespace) -> list[tuple[str, str, str, str, str]]:
    n_grid = len(tab.grid)
    scores = np.array([tab.table[g.key()]["score"] for g in tab.grid], dtype=float)
    best = float(np.nanmax(scores))
    threshold = best - TOLERANCE - 1e-12
    n_near = int(np.sum(scores >= threshold))
    total_fit = float(sum(r["fit_time"] or 0.0 for r in tab.table.values()))
    limit = n_grid // GRID_FRACTION
    needed = math.ceil(SEEDS_NEEDED * len(args.seeds))
    print(
        f"  grid: {n_grid} genomes, best validation score {best:.4f}, {n_near} genomes within "
        f"{TOLERANCE}, {int(np.sum(np.isnan(scores)))} failed, total fit time {total_fit:.0f} s; "
        f"GA: population {args.population}, {ga_settings(args.population)}, up to "
        f"{args.max_evals} evaluations; fitness = the grid's score (tabular)",
        flush=True,
    )
    rows, met = [], 0
    for seed in args.seeds:
        state = run_tabular_ga(tab.space, tab.table, seed, args.population, args.max_evals)
        count, fit = evaluations_to(state, threshold)
        ok = count is not None and count <= limit
        met += ok
        if count is None:
            result = f"miss after {len(state.records)} ({fit / total_fit:.1%} of grid fit time)"
        else:
            result = (
                f"{count} evals ({count / n_grid:.1%} of grid), "
                f"fit time {fit:.0f} s ({fit / total_fit:.1%} of grid)"
            )
        print(f"  seed {seed}: {result}", flush=True)
        measure = f"GA evals to within {TOLERANCE} of best, seed {seed}"
        rows.append(("1", measure, result, f"<= {limit}", "yes" if ok else "no"))
    rows.append(
        (
            "1",
            f"seeds reaching it in <= 1/{GRID_FRACTION} of the grid",
            f"{met}/{len(args.seeds)}",
            f">= {needed}/{len(args.seeds)}",
            "yes" if met >= needed else "no",
        )
    )
    return rows


def part2(tab: Tabular, args: argparse.Namespace) -> list[tuple[str, str, str, str, str]]:
    print(
        f"  budget {args.budget} evaluations (GA: the most whole generations within it, "
        f"population {args.population}; random search: as many distinct genomes as the GA "
        "trained); validation scores from the grid table (tabular), picks refitted for real",
        flush=True,
    )
    picks: dict[str, list[tuple[Genome, int]]] = {"GA": [], "random": []}
    for seed in args.seeds:
        state = run_tabular_ga(
            tab.space, tab.table, seed, args.population, args.budget, at_most=True
        )
        assert state.best is not None
        n = len(state.records)
        picks["GA"].append((state.best.genome, n))
        picks["random"].append(random_pick(tab.space, tab.table, seed, n))
    grid_best = max(tab.grid, key=lambda g: np.nan_to_num(tab.table[g.key()]["score"], nan=-1))
    every = [g for rows in picks.values() for g, _ in rows] + [grid_best]
    tests = refit_all(every, tab.table, tab.digits, tab.settings, args.n_jobs, tab.cache, tab.path)
    rows = []
    means = {}
    for method, chosen in picks.items():
        acc = np.array([tests[g.key()]["test_accuracy"] for g, _ in chosen])
        val = np.array([tab.table[g.key()]["score"] for g, _ in chosen])
        evals = np.mean([n for _, n in chosen])
        means[method] = acc.mean()
        print(
            f"  {method:<6} test {acc.mean():.4f} +- {acc.std():.4f} (min {acc.min():.4f}), "
            f"validation {val.mean():.4f}, {evals:.1f} evaluations; per seed "
            f"{[round(float(a), 4) for a in acc]}",
            flush=True,
        )
        measure = f"{method} test acc. ({evals:.0f} evals, {len(chosen)} seeds)"
        result = f"{acc.mean():.4f} +- {acc.std():.4f} (val. {val.mean():.4f})"
        rows.append(("2", measure, result, "", ""))
    rows.append(
        (
            "2",
            "GA minus random, mean test acc.",
            f"{means['GA'] - means['random']:+.4f}",
            ">= 0",
            "yes" if means["GA"] >= means["random"] else "no",
        )
    )
    best_test = tests[grid_best.key()]["test_accuracy"]
    rows.append(("2", "grid's best validation genome, test acc.", f"{best_test:.4f}", "", ""))
    return rows


# --------------------------------------------------------------------------- part 3
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class KerasMLP(nn.Module):
    """The Keras MLP GA's network: ``n_layers`` equal dense layers, dropout 0.2, logits."""

    def __init__(
        self,
        n_features: int = 64,
        n_classes: int = 10,
        n_layers: int = 1,
        width: int = 64,
        activation: str = "relu",
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        size = int(n_features)
        for _ in range(int(n_layers)):
            layers += [
                nn.Linear(size, int(width)),
                ACTIVATIONS[str(activation)](),
                nn.Dropout(dropout),
            ]
            size = int(width)
        layers.append(nn.Linear(size, int(n_classes)))
        self.net = nn.Sequential(*layers)
        for layer in self.net:
            if isinstance(layer, nn.Linear):  # Keras: Glorot-uniform weights, zero biases
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)


class KerasOptimizerNet(NeuralNetClassifier):
    """skorch classifier whose ``optimizer_name`` picks a Keras-default optimizer twin.

    The Keras twins the presets use (``"keras_<name>"``,
    :func:`skevonas.training.recipe.optimizer_for`), with their own learning
    rates, as the ``keras_mlp`` preset trains them.
    """

    def __init__(self, module: Any, *, optimizer_name: str = "adam", **kwargs: Any) -> None:
        super().__init__(module, **kwargs)
        self.optimizer_name = optimizer_name

    def initialize_optimizer(self, triggered_directly: Any = None) -> KerasOptimizerNet:
        cls, defaults = optimizer_for(f"keras_{self.optimizer_name}")  # lr included
        params = [p for _, p in self.get_all_learnable_params()]
        self.optimizer_ = cls(params, **defaults)
        return self


def keras_pipeline(max_epochs: int, patience: int) -> Pipeline:
    """Standardisation, then the Keras MLP with early stopping on 20 % of the data it gets."""
    net = KerasOptimizerNet(
        KerasMLP,
        criterion=nn.CrossEntropyLoss,
        batch_size=128,
        max_epochs=max_epochs,
        train_split=ValidSplit(0.2, stratified=True, random_state=0),
        callbacks=[
            (
                "early",
                EarlyStopping(
                    monitor="valid_acc", lower_is_better=False, patience=patience, load_best=True
                ),
            )
        ],
        iterator_train__shuffle=True,
        verbose=0,
    )
    return Pipeline([("scale", StandardScaler()), ("net", net)])


def warm_up(digits: Digits, n_jobs: int) -> None:
    """A throw-away 1-epoch search: starts joblib's workers (loky keeps them) and torch.

    Whichever method runs first would otherwise pay alone for starting the
    worker processes and for torch's first steps there and in this process.
    """
    EvolutionaryNASClassifier(
        search_space="keras_mlp",
        population_size=2 * max(1, n_jobs),
        n_generations=1,
        max_epochs=1,
        n_jobs=n_jobs,
        random_state=0,
    ).fit(digits.X_train, digits.y_train)


def run_gasearchcv(digits: Digits, cv: Any, seed: int, args: argparse.Namespace) -> dict:
    from sklearn_genetic import GASearchCV
    from sklearn_genetic.space import Categorical, Integer

    pipe = keras_pipeline(args.max_epochs, args.patience)
    grid = {
        "net__module__n_layers": Integer(1, 4),
        "net__module__width": Categorical(list(KERAS_MLP_CHOICES["nb_neurons"])),
        "net__module__activation": Categorical(list(KERAS_MLP_CHOICES["activation"])),
        "net__optimizer_name": Categorical(list(KERAS_MLP_CHOICES["optimizer"])),
    }
    search = GASearchCV(
        pipe,
        cv=cv,
        param_grid=grid,
        scoring="accuracy",
        population_size=args.gacv_population,
        generations=args.gacv_generations,
        n_jobs=args.n_jobs,
        verbose=False,
    )
    random.seed(seed)  # GASearchCV (DEAP) draws from the global generators
    np.random.seed(seed)  # noqa: NPY002
    torch.manual_seed(seed)
    start = time.perf_counter()
    search.fit(digits.X_train, digits.y_train)
    wall = time.perf_counter() - start
    distinct = {tuple(sorted(p.items())) for p in search.cv_results_["params"]}
    return {
        "wall": wall,
        "refit": float(search.refit_time_),
        "evaluations": len(distinct),
        "fits": len(distinct) * int(search.n_splits_),
        "calls": len(search.cv_results_["params"]),
        "test": float(np.mean(search.predict(digits.X_test) == digits.y_test)),
        "best": str(search.best_params_),
    }


def run_skevonas_digits(digits: Digits, seed: int, args: argparse.Namespace) -> dict:
    clf = EvolutionaryNASClassifier(
        search_space="keras_mlp",
        population_size=args.population,
        n_generations=args.p3_generations,
        max_epochs=args.max_epochs,
        patience=args.patience,
        n_jobs=args.n_jobs,
        random_state=seed,
    )
    start = time.perf_counter()
    clf.fit(digits.X_train, digits.y_train)
    wall = time.perf_counter() - start
    return {
        "wall": wall,
        "refit": clf.refit_time_,
        "evaluations": clf.n_evaluations_,
        "fits": clf.n_evaluations_,
        "calls": clf.n_evaluations_,
        "test": float(np.mean(clf.predict(digits.X_test) == digits.y_test)),
        "best": str(clf.best_genome_),
    }


def part3(args: argparse.Namespace) -> list[tuple[str, str, str, str, str]]:
    try:
        import sklearn_genetic
    except ImportError:
        print(
            "  sklearn-genetic-opt is not installed: part 3 needs it (a bench-only "
            "dependency): pip install sklearn-genetic-opt==0.12.0",
            flush=True,
        )
        return [("3", "GASearchCV comparison", "skipped: sklearn-genetic-opt missing", "", "")]
    digits = load_digits_setup()
    seed = args.p3_seed
    print(
        f"  sklearn-genetic-opt {sklearn_genetic.__version__}; train {digits.X_train.shape}, "
        f"test {digits.X_test.shape}; max_epochs {args.max_epochs}, patience {args.patience}, "
        f"n_jobs={args.n_jobs}, seed {seed}; skevonas population {args.population} x "
        f"{args.p3_generations} generations; GASearchCV population {args.gacv_population}, "
        f"{args.gacv_generations} generations (eaMuPlusLambda: {2 * args.gacv_population} "
        "offspring per generation)",
        flush=True,
    )
    warm_up(digits, args.n_jobs)
    runs = {
        "skevonas": lambda: run_skevonas_digits(digits, seed, args),
        "GASearchCV cv=3": lambda: run_gasearchcv(digits, 3, seed, args),
        "GASearchCV holdout": lambda: run_gasearchcv(
            digits, ShuffleSplit(n_splits=1, test_size=0.2, random_state=0), seed, args
        ),
    }
    results = {}
    for name, run in runs.items():
        results[name] = r = run()
        print(
            f"  {name:<19} {r['evaluations']:>3} configs ({r['fits']} fits, {r['calls']} "
            "evaluate calls), "
            f"wall {r['wall']:.1f} s (refit {r['refit']:.1f} s, "
            f"{r['wall'] / r['evaluations']:.2f} s per config), "
            f"test {r['test']:.4f}  {r['best'][:120]}",
            flush=True,
        )
    rows = []
    for name, r in results.items():
        rows.append(
            (
                "3",
                f"{name}: wall s / test acc.",
                f"{r['wall']:.1f} s / {r['test']:.4f} ({r['evaluations']} configs, "
                f"{r['fits']} fits)",
                "",
                "",
            )
        )
    ours = results["skevonas"]
    for name in ("GASearchCV cv=3", "GASearchCV holdout"):
        theirs = results[name]
        ratio = ours["wall"] / theirs["wall"]
        ok = ratio <= 1 / SPEED_TARGET and ours["test"] >= theirs["test"]
        rows.append(
            (
                "3",
                f"skevonas / {name} wall time",
                f"{ratio:.2f} (test {ours['test'] - theirs['test']:+.4f})",
                f"<= {1 / SPEED_TARGET:.2f}, test >= theirs",
                "yes" if ok else "no",
            )
        )
    return rows


# --------------------------------------------------------------------------- part 4
def part4(args: argparse.Namespace) -> list[tuple[str, str, str, str, str]]:
    from skevonas.datasets.fashion_mnist import load_fashion_mnist

    X_train, X_test, y_train, y_test = load_fashion_mnist(
        n_train=args.fm_n_train, n_test=args.fm_n_test, return_X_y=True
    )
    if args.fm_space == "cnn2d":  # images: (n, channels, height, width)
        X_train, X_test = X_train.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28)
    params: dict[str, Any] = {
        "search_space": args.fm_space,
        # "auto": the space's standard network(s), where it has any
        # (skevonas.spaces.families.Family.seeds_for); --fm-no-seeds starts at random
        "initial_genomes": None if args.fm_no_seeds else "auto",
        "population_size": args.fm_population,
        "n_generations": args.fm_generations,
        "max_epochs": args.fm_max_epochs,
        "patience": args.fm_patience or None,
        "max_time": args.fm_max_time,
        "cv": args.fm_cv or None,
        "candidate_time_limit": args.fm_candidate_time_limit or None,
        "n_jobs": args.n_jobs,
        # one thread per worker in the search, all the cores for the refit
        "torch_threads": None,
        "random_state": args.fm_seed,
    }
    if args.min_epochs is not None:
        if "min_epochs" not in EvolutionaryNASClassifier().get_params():
            raise SystemExit("--min-epochs: this skevonas has no min_epochs setting")
        params["min_epochs"] = args.min_epochs
    print(f"  train {X_train.shape}, test {X_test.shape}; {params}", flush=True)
    clf = EvolutionaryNASClassifier(**params)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    total = time.perf_counter() - start
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    print(
        f"  test {accuracy:.4f}; search {clf.search_time_:.0f} s, refit {clf.refit_time_:.0f} s, "
        f"total {total:.0f} s; {clf.n_evaluations_} candidates, {len(clf.history_)} "
        f"generations, {clf.stop_reason_}; best {clf.best_genome_} (validation "
        f"{clf.best_score_:.4f})",
        flush=True,
    )
    target, seconds = FM_TARGETS["cnn2d" if args.fm_space == "cnn2d" else "mlp"]
    ok = accuracy >= target and total <= seconds
    return [
        (
            "4",
            f"Fashion-MNIST ({args.fm_space}) test acc., search + final stage = total "
            f"({clf.n_evaluations_} candidates)",
            f"{accuracy:.4f}, {clf.search_time_:.0f} + {clf.refit_time_:.0f} = {total:.0f} s",
            f">= {target}, <= {seconds} s",
            "yes" if ok else "no",
        )
    ]


# --------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--parts", type=int, nargs="+", default=[1, 2, 3, 4], choices=[1, 2, 3, 4])
    add("--quick", action="store_true", help="smoke test: tiny settings, meaningless numbers")
    add("--time-grid", type=int, metavar="N", help="time N grid genomes, estimate the grid, stop")
    add("--n-jobs", type=int, default=2)
    add("--cache", help="grid table JSON (default: in the temp folder)")
    add("--json", help="also write the results here")
    add("--seeds", type=int, nargs="+", help="GA seeds, parts 1-2 (default 0-9)")
    add("--max-epochs", type=int, help="digits, parts 1-3 (default 30)")
    add("--patience", type=int, help="digits, parts 1-3 (default 5)")
    add("--population", type=int, help="GA population, parts 1-3 (default 10)")
    add("--max-evals", type=int, help="part 1: evaluations before a miss (default 300)")
    add("--budget", type=int, help="part 2: most evaluations of GA and random (default 60)")
    add("--p3-seed", type=int, default=0)
    add("--p3-generations", type=int, help="part 3: skevonas generations (default 6)")
    add("--gacv-population", type=int, help="part 3: GASearchCV population (default 10)")
    add("--gacv-generations", type=int, help="part 3: GASearchCV generations (default 2)")
    add("--fm-n-train", type=int, help="part 4: training subset (default: all 60,000)")
    add("--fm-n-test", type=int, help="part 4: test subset (default: all 10,000)")
    add("--fm-population", type=int, help="part 4 (default 10)")
    add("--fm-generations", type=int, help="part 4 (default 100: max time ends it)")
    add("--fm-max-epochs", type=int, help="part 4 (default 15)")
    add("--fm-patience", type=int, help="part 4, 0: no early stopping (default 3)")
    add("--fm-max-time", type=float, help="part 4: max_time, the whole fit (default 600)")
    add("--fm-space", default="naturalselection", help="part 4: search space")
    add("--fm-cv", type=int, help="part 4: finalists' folds, 0: none (default 3)")
    add(
        "--fm-candidate-time-limit", type=float, help="part 4: seconds per candidate, 0: none (200)"
    )
    add("--fm-seed", type=int, default=0)
    add(
        "--fm-no-seeds",
        action="store_true",
        help="part 4: initial_genomes=None (default: 'auto', the space's standard networks)",
    )
    add("--min-epochs", type=int, help="part 4: passed as min_epochs= only if given")
    args = parser.parse_args()
    for name, value in PRESETS["quick" if args.quick else "full"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def print_table(rows: Sequence[tuple[str, str, str, str, str]]) -> None:
    header = ("part", "measure", "result", "target", "met")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for i, row in enumerate([header, *rows]):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> None:
    args = parse_args()
    print(
        f"skevonas {__version__}, torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"n_jobs={args.n_jobs}{', QUICK smoke test' if args.quick else ''}",
        flush=True,
    )
    if args.time_grid:
        settings = tabular_settings(args.max_epochs, args.patience)
        time_grid(args.time_grid, args.quick, args.n_jobs, settings)
        return
    rows: list[tuple[str, str, str, str, str]] = []
    tab = None
    titles = {
        1: "GA vs brute force (tabular, digits)",
        2: "GA vs random search (tabular selection, real refits)",
        3: "skevonas vs GASearchCV (digits)",
        4: "Fashion-MNIST end to end",
    }
    for part in sorted(set(args.parts)):
        print(f"\n## Part {part}: {titles[part]}", flush=True)
        start = time.perf_counter()
        if part in (1, 2):
            tab = tab or prepare_tabular(args)
            rows += part1(tab, args) if part == 1 else part2(tab, args)
        elif part == 3:
            rows += part3(args)
        else:
            rows += part4(args)
        print(f"  part {part} took {time.perf_counter() - start:.0f} s", flush=True)
    print()
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
