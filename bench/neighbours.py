"""Is there a better network one small step from the best seed, and could a search tell?

Issue 29's search-gain targets ask the search to beat its best seed genome by
0.5 points on Fashion-MNIST (MLP space, 15 minutes) and by 1 point on
SelfRegulationSCP1 (5 resamples, p < 0.05). This script measures the two
things those targets rest on, with the bake-off's own data, resamples and
recipe (``bench/bakeoff.py``):

1. **What lies next to the seed.** ``--neighbours N`` distinct genomes, each
   one small step from the seed (``skevonas.evolution.operators.nudge``, the
   step of ``local_rate``: one ordered gene moved a notch, so a layer wider or
   narrower, a dropout rate, learning rate, batch size or weight decay
   nudged), drawn with ``numpy.random.default_rng(resample)`` and not chosen
   by hand, are each trained alone exactly as the bake-off's ``seed:<name>``
   rows train the seed (``bakeoff.genome_classifier``: the whole training
   part, the search's recipe, ``random_state=0``) and scored on the same test
   part. Each row keeps its test predictions, so every neighbour is paired
   with the seed row of ``--seed-results``, trial by trial. The report gives
   each neighbour's difference from the seed and, as an upper bound on what a
   generation of such steps could give, the best neighbour **picked on the
   test part** (an oracle: no search could pick it that way; on 10,000 test
   images the winner's curse of picking the best of a few is a few tenths of a
   point).
2. **What a selection on the training part can resolve.** The share ``d`` of
   test trials on which a neighbour and the seed disagree in correctness is
   measured above. Two networks scored on the same ``n`` trials differ in
   accuracy by ``delta`` with a standard error of about
   ``sqrt((d - delta**2) / n)`` (the paired, McNemar-style error). For the
   targets' ``delta`` the report gives the probability that the better of the
   two also scores higher on ``n`` trials (the search's holdout, and the
   finalists' cross-validation over the whole training part), and the
   trials a one-sided 5 % test with 80 % power would need,
   ``d * (1.645 + 0.842)**2 / delta**2``. The test parts follow the same
   rule, so the report also gives the power of the bake-off's own paired test
   for that ``delta``.

Rows go to ``bench/results/neighbours.jsonl`` (JSON lines, one per neighbour
and resample, the bake-off's row format; a rerun skips rows already there).
``--memory-format`` is the layout the neighbours train in; pair them with
seed rows trained in the same one (the bake-off's ``seed:<name>`` rows of
EEG networks predate ``channels_last`` and are ``contiguous``).
``--jobs 2`` trains two neighbours at once (one thread each, as the seed rows trained).

    python bench/neighbours.py --dataset FashionMNIST-mlp --seed mlp --neighbours 6 --jobs 2
    python bench/neighbours.py --dataset SelfRegulationSCP1 --seed eegnex --neighbours 4 \\
        --resamples 5 --jobs 2 --memory-format contiguous
    python bench/neighbours.py --dataset SelfRegulationSCP1 --seed eegnex --table-only
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import bakeoff
import numpy as np
from eeg import append_row, jsonable, machine
from joblib import Parallel, delayed
from scipy.stats import norm

from skevonas import Genome, get_space
from skevonas.evolution.operators import nudge
from skevonas.training.net import MEMORY_FORMATS

NEIGHBOURS = Path(__file__).parent / "results" / "neighbours.jsonl"
FASHION_SEEDS = Path(__file__).parent / "results" / "bakeoff_fashion.jsonl"
Z_ALPHA, Z_POWER = 1.645, 0.842  # one-sided 5 %, 80 % power
DELTAS = (0.005, 0.01)  # the targets' gains: 0.5 point (Fashion-MNIST), 1 point (SCP1)
MAX_DRAWS = 200


def neighbours(seed: Genome, space: Any, n: int, rng: np.random.Generator) -> list[Genome]:
    """``n`` distinct genomes one :func:`nudge` from ``seed`` (never ``seed`` itself).

    Raises
    ------
    RuntimeError
        If :data:`MAX_DRAWS` draws give fewer than ``n`` distinct neighbours.
    """
    found: dict[str, Genome] = {}
    for _ in range(MAX_DRAWS):
        child = nudge(seed, space, rng)
        if child.key() != seed.key():
            found.setdefault(child.key(), child)
        if len(found) == n:
            return list(found.values())
    raise RuntimeError(f"only {len(found)} distinct neighbours of the seed in {MAX_DRAWS} draws")


def step(seed: Genome, child: Genome) -> str:
    """The genes in which ``child`` differs from ``seed``, as ``gene: old -> new``.

    >>> from skevonas import LayerGene
    >>> a = Genome("mlp", [LayerGene("dense", {"units": 8})], {"lr": 0.01})
    >>> step(a, Genome("mlp", [LayerGene("dense", {"units": 16})], {"lr": 0.01}))
    'layer 1 units: 8 -> 16'
    """
    parts = [
        f"{name}: {value} -> {dict(child.globals).get(name)}"
        for name, value in seed.globals
        if dict(child.globals).get(name) != value
    ]
    if len(seed.layers) != len(child.layers):
        return "; ".join([*parts, f"layers: {len(seed.layers)} -> {len(child.layers)}"])
    for i, (old, new) in enumerate(zip(seed.layers, child.layers, strict=True), start=1):
        mine, theirs = dict(old.params), dict(new.params)
        parts += [
            f"layer {i} {name}: {mine.get(name)} -> {theirs.get(name)}"
            for name in sorted(set(mine) | set(theirs))
            if mine.get(name) != theirs.get(name)
        ]
    return "; ".join(parts)


def power(d: float, delta: float, n: int) -> dict[str, float]:
    """What ``n`` paired trials resolve of an accuracy gain ``delta`` at disagreement ``d``.

    Returns the standard error of the paired difference, the probability that
    the better network also scores higher, the one-sided 5 % test's power, and
    the trials that test needs for 80 % power.

    >>> p = power(0.06, 0.01, 268)
    >>> round(p["se"], 4), round(p["right_order"], 2), round(p["needed"])
    (0.015, 0.75, 3711)
    """
    se = math.sqrt(max(d - delta**2, 1e-12) / n)
    return {
        "se": se,
        "right_order": float(norm.cdf(delta / se)),
        "power": float(norm.cdf(delta / se - Z_ALPHA)),
        "needed": d * (Z_ALPHA + Z_POWER) ** 2 / delta**2,
    }


def train_one(
    problem: bakeoff.Problem,
    resample: int,
    index: int,
    genome: Genome,
    seed_genome: Genome,
    memory_format: str = "auto",
) -> dict[str, Any]:
    """One neighbour trained as the ``seed:<name>`` rows train the seed, as a bake-off row."""
    warnings.filterwarnings("ignore", message="Using padding='same'")  # EEGNeX, harmless
    train, test = bakeoff.stratified_resample(problem.y, problem.n_train, resample)
    X, factor, _ = bakeoff.search_input(problem, False)
    clf = bakeoff.genome_classifier(genome, False, 0)  # one thread, as the seed rows trained
    clf.set_params(net_params={**(clf.net_params or {}), "memory_format": memory_format})
    start = time.perf_counter()
    clf.fit(X[train], problem.y[train])
    wall = time.perf_counter() - start
    kept = bakeoff.predictions(clf, X[test], len(problem.classes))
    y_test = problem.y[test]
    return {
        "method": f"near:{index}",
        "dataset": problem.name,
        "resample": resample,
        "seed": 0,
        "test_accuracy": float(np.mean(kept["predictions"] == y_test)),
        "log_loss": bakeoff.log_loss(y_test, kept["proba"]),
        "ece": bakeoff.expected_calibration_error(y_test, kept["proba"]),
        "wall_s": wall,
        "step": step(seed_genome, genome),
        "genome": genome.to_dict(),
        "model": genome.short_key(),
        "n_params": int(clf.n_params_),
        "decimation": factor,
        "settings": jsonable(clf.get_params()),
        "n_train": len(train),
        "n_test": len(test),
        "test_hash": bakeoff.index_hash(test),
        "y_test": y_test.tolist(),
        "predictions": kept["predictions"].tolist(),
        "proba": bakeoff.encode_proba(kept["proba"]),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
    }


def report(rows: Sequence[dict[str, Any]], seeds: dict[tuple[int, int], dict[str, Any]]) -> None:
    """Each neighbour against its seed row, the oracle, and what the data can resolve."""
    if not rows:
        print("\nNo neighbour rows to tabulate (run without --table-only first).")
        return
    print("\n| resample | neighbour | step | test acc. | seed's | difference | wall s |")
    print("|---|---|---|---|---|---|---|")
    mine: list[np.ndarray] = []
    theirs: list[np.ndarray] = []
    best: dict[int, float] = {}
    for row in sorted(rows, key=lambda r: (r["resample"], r["method"])):
        seed_row = seeds[row["resample"], 0]
        a, b = bakeoff.paired_correct(row, seed_row)
        mine.append(a)
        theirs.append(b)
        gain = row["test_accuracy"] - seed_row["test_accuracy"]
        best[row["resample"]] = max(best.get(row["resample"], -1.0), gain)
        print(
            f"| r{row['resample']} | {row['method']} | {row['step']} | "
            f"{row['test_accuracy']:.4f} | {seed_row['test_accuracy']:.4f} | "
            f"{gain * 100:+.2f} | {row['wall_s']:.0f} |"
        )
    a, b = np.concatenate(mine), np.concatenate(theirs)
    only_near, only_seed, p = bakeoff.mcnemar_exact(a, b)
    d = float(np.mean(a != b))
    print(
        f"\n- every neighbour against the seed, all trials pooled: mean difference "
        f"{(a.mean() - b.mean()) * 100:+.2f} points; {only_near} trials only a neighbour got "
        f"right, {only_seed} only the seed; McNemar p = {p:.3g}"
    )
    print(
        "- the best neighbour per resample, picked on the test part (an oracle): "
        + ", ".join(f"r{r} {g * 100:+.2f}" for r, g in sorted(best.items()))
        + f"; mean {np.mean(list(best.values())) * 100:+.2f} points"
    )
    print(f"- disagreement in correctness between a neighbour and the seed: d = {d:.4f}")
    first = rows[0]
    n_train, n_test, k = first["n_train"], first["n_test"], len(best)
    holdout = round(n_train * bakeoff.skevonas_estimator(False, 0).validation_fraction)
    print(
        "\n| gain | trials | what | SE of the difference | better scores higher | "
        "power (one-sided 5 %) |"
    )
    print("|---|---|---|---|---|---|")
    for delta in DELTAS:
        for n, what in (
            (holdout, "the search's holdout (its validation_fraction of the training part)"),
            (n_train, "the finalists' cross-validation (the whole training part)"),
            (n_test * k, f"the bake-off's test parts ({k} resample(s) pooled)"),
        ):
            p_ = power(d, delta, n)
            print(
                f"| {delta * 100:.1f} | {n} | {what} | {p_['se'] * 100:.2f} points | "
                f"{p_['right_order']:.2f} | {p_['power']:.2f} |"
            )
        print(
            f"| {delta * 100:.1f} | {power(d, delta, 1)['needed']:.0f} | trials needed for 80 % "
            "power | | | 0.80 |"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=bakeoff.DATASETS, default="SelfRegulationSCP1")
    parser.add_argument("--seed", default="eegnex", help="the seed genome's name (bake-off's)")
    parser.add_argument("--neighbours", type=int, default=4)
    parser.add_argument("--resamples", type=int, default=5, help="EEG sets only (default 5)")
    parser.add_argument("--jobs", type=int, default=1, help="neighbours trained at once")
    parser.add_argument("--results", type=Path, default=NEIGHBOURS)
    parser.add_argument("--seed-results", type=Path, help="the seed:<name> rows to pair with")
    parser.add_argument(
        "--memory-format",
        choices=MEMORY_FORMATS,
        default="auto",
        help="the layout the neighbours train in: the seed rows' (rows of 2-D convolution "
        "networks written before channels_last was the default: contiguous)",
    )
    parser.add_argument("--table-only", action="store_true", help="tabulate, train nothing")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    seed_path = args.seed_results or (
        FASHION_SEEDS if args.dataset.startswith("Fashion") else bakeoff.RESULTS
    )
    seeds = {
        (key[2], key[3]): row
        for key, row in bakeoff.read_rows(seed_path).items()
        if key[0] == f"seed:{args.seed}" and key[1] == args.dataset
    }
    problem = bakeoff.load_problem(args.dataset, False)
    k = bakeoff.n_resamples(problem, args.resamples)
    missing = [r for r in range(k) if (r, 0) not in seeds]
    if missing:
        raise SystemExit(f"{seed_path} has no seed:{args.seed} row of {args.dataset} for {missing}")
    rows = {
        key: row
        for key, row in bakeoff.read_rows(args.results).items()
        if key[1] == args.dataset and key[2] < k and row.get("seed_name") == args.seed
    }
    if not args.table_only:
        print("## Machine\n\n" + "\n".join(f"- {key}: {value}" for key, value in machine().items()))
        X, _, named = bakeoff.search_input(problem, False)
        space = get_space(bakeoff.skevonas_estimator(False, 0).search_space, X.shape[1:])
        todo = [
            (resample, i, genome)
            for resample in range(k)
            for i, genome in enumerate(
                neighbours(
                    named[args.seed], space, args.neighbours, np.random.default_rng(resample)
                ),
                start=1,
            )
            if (f"near:{i}", args.dataset, resample, 0) not in rows
        ]
        jobs = Parallel(n_jobs=args.jobs, return_as="generator")(
            delayed(train_one)(problem, r, i, g, named[args.seed], args.memory_format)
            for r, i, g in todo
        )
        for row in jobs:
            row["seed_name"] = args.seed
            append_row(args.results, row)
            rows[(row["method"], row["dataset"], row["resample"], 0)] = row
            print(
                f"  r{row['resample']} {row['method']} {row['step']}: {row['test_accuracy']:.4f} "
                f"in {row['wall_s']:.0f} s",
                flush=True,
            )
    print(f"\n## {args.dataset}: neighbours of seed:{args.seed} ({seed_path.name} for the seed)")
    report(list(rows.values()), seeds)


if __name__ == "__main__":
    main()
