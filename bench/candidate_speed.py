"""Where one candidate's time goes on the CPU, and which knobs make it faster.

A candidate is trained the way the search trains it: through
:func:`skevonas.training.candidate.evaluate_candidate` (skorch, ``SearchNet``'s
lean epoch loop, ``SliceBatches``, the validation pass, ``ValidScore``,
``BestEpoch`` and the cosine schedule), on its reshuffled holdout
(``Split(seed)``), one torch thread (the default ``torch_threads=1``).

Workloads (``--workloads``):

- ``shallow``, ``eegnet``, ``eegnex``: the SCP1 seed genomes
  (``shallow_convnet_genome``, ``eegnet_genome``, ``eegnex_genome`` at the
  decimated rate, repaired into ``get_space("auto", ...)``) on the bundled
  SelfRegulationSCP1 training set, decimated as the default search decimates
  it (256 Hz -> 128 Hz), split 80/20 as the default search splits it;
- ``mlp``: the seed MLP (``standard_mlp_genome``: 2 x 512, batch 128) on
  10,000 Fashion-MNIST images (784 features), split 80/20;
- ``cnn``: the seed image CNN (``standard_image_cnn_genome``) on 2,000
  Fashion-MNIST images as ``(1, 28, 28)``, split 80/20.

Part 1 breaks one epoch down with manual timers inside a copy of the lean
training loop (process CPU time, one thread): slicing the batch, forward
(with the loss), backward, optimizer step, the validation pass (skorch's
own epoch over ``SliceBatches``), and the rest of each epoch (skorch's
callbacks, history, the schedule: the epoch's time minus the parts).
Building and initialising the network is once per candidate and shown apart.

Part 2 measures knobs side by side: every variant of a workload runs
``--repeats`` times, interleaved with the others, after one warm-up; the
tables show the median wall time and process CPU time of one candidate of
``epochs`` epochs and their ratio to the baseline. Knobs that change the
arithmetic (batch size, oneDNN off, fused or foreach optimizers, compile)
may change results; the last column says whether the trained weights and the
learning curves match the baseline's bit for bit. ``torch.compile`` compiles
each candidate afresh (every candidate of a search is a new network); its
own table shows the compile time with a cold and a warm inductor cache, and
the later epochs against the baseline's. ``--quick`` leaves it out.

Part 3 runs two candidates at once: one after the other with one thread,
one after the other with two threads each, and side by side in two
1-thread worker processes (what ``n_jobs=2`` does).

Part 4 (``--parts 4``, not run by default) trains whole candidates
(``--epochs``, default 100) with the knobs that pay but change the
arithmetic, and shows the score each gets.

No timing is asserted. On a loaded machine wall times swing; rely on the
CPU times and on the ratios of variants run side by side.

    python bench/candidate_speed.py              # about 10 minutes on 2 idle cores
    python bench/candidate_speed.py --quick      # a smoke run, under a minute
    python bench/candidate_speed.py --workloads eegnex mlp
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import math
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from skevonas import (
    __version__,
    eegnet_genome,
    eegnex_genome,
    get_space,
    settings,
    shallow_convnet_genome,
    standard_image_cnn_genome,
    standard_mlp_genome,
)
from skevonas.datasets import load_eeg, load_fashion_mnist
from skevonas.prepare import decimate_data, split_data
from skevonas.spaces.genome import Genome
from skevonas.training.candidate import CandidateData, Split, evaluate_candidate
from skevonas.training.net import SearchNet, ValidScore
from skevonas.training.recipe import Recipe, make_net
from skevonas.training.runtime import BestEpoch, torch_context

WORKLOADS = ("shallow", "eegnet", "eegnex", "mlp", "cnn")
SEED = 0


@dataclass(frozen=True)
class Workload:
    """One candidate to time: a genome, its data and the epochs of one timed run."""

    name: str
    genome: Genome
    data: CandidateData
    epochs: int


def scp1_data() -> tuple[CandidateData, float | None]:
    """SCP1's training set as the default search sees it, and the rate after decimation."""
    eeg = load_eeg("SelfRegulationSCP1")
    factor = settings.decimation("auto", eeg.X_train.shape[1:], eeg.sfreq)
    X = decimate_data(eeg.X_train, factor)
    classes, y = np.unique(eeg.y_train, return_inverse=True)
    data = split_data(X, y, classes, validation_fraction=0.2, seed=SEED)
    return data, settings.seed_sfreq(eeg.sfreq, factor)


def make_workloads(names: list[str], quick: bool) -> list[Workload]:
    """The workloads named, with epochs per timed run (about a second or two each)."""
    found = []
    if any(name not in ("mlp", "cnn") for name in names):
        data, rate = scp1_data()
        space = get_space("auto", data.X_train.shape[1:])
        seeds = {
            "shallow": (shallow_convnet_genome, 6),
            "eegnet": (eegnet_genome, 12),
            "eegnex": (eegnex_genome, 2),
        }
        for name in names:
            if name in seeds:
                build, epochs = seeds[name]
                genome = space.repair(build(sfreq=rate))
                found.append(Workload(name, genome, data, 1 if quick else epochs))
    if "mlp" in names:
        data = fashion_data(2_000 if quick else 10_000, (-1,))
        found.append(Workload("mlp", standard_mlp_genome(), data, 1 if quick else 3))
    if "cnn" in names:
        data = fashion_data(500 if quick else 2_000, (1, 28, 28))
        found.append(Workload("cnn", standard_image_cnn_genome(), data, 1 if quick else 2))
    return found


def fashion_data(n: int, shape: tuple[int, ...]) -> CandidateData:
    """``n`` Fashion-MNIST training images, each reshaped to ``shape``, split 80/20."""
    X, _, y, _ = load_fashion_mnist(n_train=n, n_test=10, return_X_y=True)
    X = X.reshape(len(X), *shape).astype(np.float32)
    classes, y = np.unique(y, return_inverse=True)
    return split_data(X, y, classes, validation_fraction=0.2, seed=SEED)


# ---------------------------------------------------------------- part 1


class _Clock:
    """Process CPU seconds per named phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.process_time()

    def lap(self, phase: str) -> None:
        now = time.process_time()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self.start
        self.start = now


class TimedNet(SearchNet):
    """``SearchNet`` whose lean training epoch and validation epoch are timed phase by phase."""

    clock: _Clock

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):  # noqa: D102
        clock = self.clock
        if not training:
            clock.lap("(skorch, callbacks)")
            out = super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
            clock.lap("validation pass")
            return out
        # the callbacks of timed_epochs have no batch hooks: SearchNet's lean loop
        clock.lap("(skorch, callbacks)")
        self.module_.train(True)
        self.criterion_.train(True)
        optimizers = [self.optimizer_]  # make_net gives one
        losses, sizes = [], []
        batches = iter(iterator)
        clock.lap("batch slicing")
        for Xi, yi in batches:
            clock.lap("batch slicing")
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            clock.lap("forward + loss")
            loss.backward()
            clock.lap("backward")
            for optimizer in optimizers:
                optimizer.step()
            clock.lap("optimizer step")
            losses.append(loss.detach())
            sizes.append(len(Xi))
        clock.lap("batch slicing")
        weights = torch.tensor(sizes, dtype=torch.float32)
        mean_loss = float((torch.stack(losses) * weights).sum() / sum(sizes))
        self.history.new_batch()
        self.history.record_batch(prefix + "_loss", mean_loss)
        self.history.record_batch(prefix + "_batch_size", sum(sizes))
        self.history.record(prefix + "_batch_count", len(sizes))
        return None


def timed_epochs(work: Workload, epochs: int) -> tuple[dict[str, float], float]:
    """CPU seconds per phase over ``epochs`` epochs, and the build's (as ``evaluate_candidate``)."""
    data = work.data.resplit(Split(SEED))
    recipe = Recipe(max_epochs=epochs)
    with torch_context(SEED, 1):
        built = time.process_time()
        net = make_net(
            work.genome,
            tuple(data.X_train.shape[1:]),
            data.n_classes,
            max_epochs=epochs,
            input_stats=data.input_stats,
            device="cpu",
            net_params={},
            train_split=predefined_split(Dataset(torch.from_numpy(data.X_valid), data.y_valid)),
            callbacks=[("valid_score", ValidScore("accuracy")), ("best_epoch", BestEpoch(None))],
            recipe=recipe,
        )
        net.__class__ = TimedNet
        net.initialize()
        build = time.process_time() - built
        net.clock = _Clock()
        net.partial_fit(torch.from_numpy(data.X_train), data.y_train)
        net.clock.lap("(skorch, callbacks)")
    return {k: v / epochs for k, v in net.clock.seconds.items()}, build


def top_ops(work: Workload, n: int = 6) -> list[tuple[str, float]]:
    """The ``n`` torch operators with the most self CPU time over one epoch, and their share."""
    from torch.profiler import ProfilerActivity, profile

    data = work.data
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        evaluate_candidate(work.genome, data, Recipe(max_epochs=1), SEED, "cpu", 1)
    events = [e for e in prof.key_averages() if not e.key.startswith("ProfilerStep")]
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [(e.key, e.self_cpu_time_total / total) for e in events[:n]]


def part1(workloads: list[Workload], quick: bool) -> None:
    print("\n#### One epoch, phase by phase (process CPU time, one thread)\n")
    phases = [
        "batch slicing",
        "forward + loss",
        "backward",
        "optimizer step",
        "validation pass",
        "(skorch, callbacks)",
    ]
    print("| workload | train / valid | batches | epoch | " + " | ".join(phases) + " | build |")
    print("|---|---:|---:|---:|" + "---:|" * len(phases) + "---:|")
    for work in workloads:
        epochs = max(2, work.epochs)
        timed_epochs(work, 1)  # warm-up
        runs = [timed_epochs(work, epochs) for _ in range(1 if quick else 3)]
        per = {p: statistics.median(r[0].get(p, 0.0) for r in runs) for p in phases}
        build = statistics.median(r[1] for r in runs)
        total = sum(per.values())
        batch = int(work.genome.get("batch_size", 32))
        n_train, n_valid = len(work.data.y_train), len(work.data.y_valid)
        cells = [f"{1e3 * per[p]:.1f} ms ({100 * per[p] / total:.0f}%)" for p in phases]
        print(
            f"| {work.name} | {n_train} / {n_valid} | {math.ceil(n_train / batch)} x {batch} | "
            f"{1e3 * total:.1f} ms | " + " | ".join(cells) + f" | {1e3 * build:.1f} ms |",
            flush=True,
        )
    print("\n#### The operators that take the time (torch.profiler, one epoch, self CPU time)\n")
    print("| workload | top operators (share of the epoch's operator time) |")
    print("|---|---|")
    for work in workloads:
        ops = ", ".join(f"`{name}` {100 * share:.0f}%" for name, share in top_ops(work))
        print(f"| {work.name} | {ops} |", flush=True)


# ---------------------------------------------------------------- part 2


class _Module(Callback):
    """Changes (or replaces) the module when training begins, after ``initialize``."""

    def __init__(self, change: Callable[[torch.nn.Module], torch.nn.Module | None]) -> None:
        self.change = change

    def on_train_begin(self, net, X=None, y=None, **kwargs):  # noqa: D102
        net.module_ = self.change(net.module_) or net.module_


class _EpochClock(Callback):
    """Wall seconds of each epoch (training and validation) of the last run."""

    def __init__(self) -> None:
        self.epochs: list[float] = []

    def on_train_begin(self, net, X=None, y=None, **kwargs):  # noqa: D102
        self.epochs = []

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):  # noqa: D102
        self.start = time.perf_counter()

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):  # noqa: D102
        self.epochs.append(time.perf_counter() - self.start)


def _compile(module: torch.nn.Module) -> torch.nn.Module:
    # the whole network as one graph (``module.compile()`` would leave torch's
    # own layers, all of them here, to run eagerly)
    return torch.compile(module, dynamic=False)


@contextlib.contextmanager
def _fresh_compiler() -> Iterator[None]:
    # every candidate is a new network: it pays for its own compilation
    torch._dynamo.reset()
    yield


@dataclass(frozen=True)
class Variant:
    """One way to train a workload's candidate."""

    name: str
    net_params: dict[str, Any] = field(default_factory=dict)
    n_threads: int = 1
    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    fortran: bool = False  # feed a Fortran-ordered (non-contiguous) copy of the data
    conv_only: bool = False  # networks with convolutions only (not the MLP)


@contextlib.contextmanager
def _mkldnn_off() -> Iterator[None]:
    with warnings.catch_warnings():  # "TF32 acceleration ... for Intel GPUs"
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=False):
            yield


@contextlib.contextmanager
def _flush_denormal() -> Iterator[None]:
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def variants(work: Workload, quick: bool = False) -> list[Variant]:
    batch = int(work.genome.get("batch_size", 32))
    found = [
        Variant("baseline (as the search trains)", {"callbacks": [_EpochClock()]}),
        Variant("2 torch threads", n_threads=2),
        Variant(f"batch {2 * batch}", {"batch_size": 2 * batch}),
        Variant(f"batch {4 * batch}", {"batch_size": 4 * batch}),
        Variant("validation batch 64", {"iterator_valid__batch_size": 64}),
        Variant("validation batch 4096", {"iterator_valid__batch_size": 4096}),
        Variant("input not contiguous (Fortran order)", fortran=True),
        # networks with 2-D convolutions train in channels_last by default (SearchNet's
        # memory_format): this is the layout they trained in before
        Variant("torch's own layout (contiguous)", {"memory_format": "contiguous"}, conv_only=True),
        Variant("oneDNN (mkldnn) off", context=_mkldnn_off),
        Variant("flush denormals", context=_flush_denormal),
        Variant("Adam foreach=True", {"optimizer__foreach": True}),
        Variant("Adam fused=True", {"optimizer__fused": True}),
        Variant(
            "torch.compile (compiled per candidate)",
            {"callbacks": [_Module(_compile), _EpochClock()]},
            context=_fresh_compiler,
        ),
    ]
    if quick:  # a cold compile alone takes half a minute
        found = found[:-1]
    return [v for v in found if not (v.conv_only and work.data.X_train.ndim == 2)]


def run_variant(work: Workload, variant: Variant) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds of one candidate, and its result (``keep_weights``)."""
    data = work.data
    if variant.fortran:
        data = replace(data, X_train=np.asfortranarray(data.X_train))
    recipe = Recipe(max_epochs=work.epochs, net_params=variant.net_params)
    # a Fortran copy survives only without the reshuffled holdout (resplit copies)
    split = None if variant.fortran else Split(SEED)
    with variant.context():
        wall, cpu = time.perf_counter(), time.process_time()
        result = evaluate_candidate(
            work.genome,
            data,
            recipe,
            SEED,
            "cpu",
            variant.n_threads,
            split=split,
            keep_weights=True,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if result["status"] != "ok":
        raise RuntimeError(f"{work.name}, {variant.name}: {result.get('error')}")
    return wall, cpu, result


def _same(a: dict[str, Any], b: dict[str, Any]) -> str:
    ours = {k.removeprefix("_orig_mod."): v for k, v in a["weights"].items()}
    if not all(torch.equal(ours[k], b["weights"][k]) for k in b["weights"]):
        return "no"
    return "yes" if a["curves"] == b["curves"] else "weights only"


def _clock(variant: Variant) -> _EpochClock | None:
    found = [cb for cb in variant.net_params.get("callbacks", []) if isinstance(cb, _EpochClock)]
    return found[0] if found else None


def part2(
    workloads: list[Workload], repeats: int, quick: bool, only: list[str] | None = None
) -> list[str]:
    """The knobs' table; returns the lines of the compile table, printed after it.

    ``only``: the baseline and the variants whose names hold one of these strings.
    """
    print(f"\n#### Knobs, side by side (median of {repeats} interleaved runs of one candidate)\n")
    print(
        "| workload | variant | epochs | wall | CPU | wall / baseline | CPU / baseline |"
        " same result |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    compiled = []
    for work in workloads:
        found = variants(work, quick)
        if only:
            found = [found[0]] + [v for v in found[1:] if any(part in v.name for part in only)]
        warm, first = {}, {}
        for variant in found:  # warm-up (the compile variant's first compile: a cold cache)
            start = time.perf_counter()
            warm[variant.name] = run_variant(work, variant)[2]
            first[variant.name] = time.perf_counter() - start
            if variant.context is _fresh_compiler:
                run_variant(work, found[0])  # see below
        times: dict[str, list[tuple[float, float]]] = {v.name: [] for v in found}
        epochs: dict[str, list[list[float]]] = {v.name: [] for v in found}
        for _ in range(repeats):
            for variant in found:
                wall, cpu, _ = run_variant(work, variant)
                times[variant.name].append((wall, cpu))
                clock = _clock(variant)
                if clock is not None:
                    epochs[variant.name].append(list(clock.epochs))
                if variant.context is _fresh_compiler:
                    # the run after a compilation appeared slower (5-10% on
                    # ShallowConvNet): let an untimed one take that
                    run_variant(work, found[0])
        base_wall = statistics.median(w for w, _ in times[found[0].name])
        base_cpu = statistics.median(c for _, c in times[found[0].name])
        for variant in found:
            wall = statistics.median(w for w, _ in times[variant.name])
            cpu = statistics.median(c for _, c in times[variant.name])
            # the Fortran variant trains without the reshuffled holdout (see run_variant)
            reference = _fortran_reference(work) if variant.fortran else warm[found[0].name]
            print(
                f"| {work.name} | {variant.name} | {work.epochs} | {wall:.3f} s | {cpu:.3f} s | "
                f"{wall / base_wall:.2f} | {cpu / base_cpu:.2f} | "
                f"{_same(warm[variant.name], reference)} |",
                flush=True,
            )
        if quick or found[-1].context is not _fresh_compiler:
            continue
        base, comp = epochs[found[0].name], epochs[found[-1].name]
        extra = statistics.median(e[0] for e in comp) - statistics.median(e[0] for e in base)
        later = [statistics.median(e[1:]) for e in comp if len(e) > 1]
        base_later = [statistics.median(e[1:]) for e in base if len(e) > 1]
        ratio = statistics.median(later) / statistics.median(base_later) if later else math.nan
        cold = first[found[-1].name] - first[found[0].name]
        compiled.append(f"| {work.name} | {cold:.1f} s | {extra:.2f} s | {ratio:.2f} |")
    return compiled


def _fortran_reference(work: Workload) -> dict[str, Any]:
    """The baseline without the reshuffled holdout, on C-ordered data."""
    recipe = Recipe(max_epochs=work.epochs)
    return evaluate_candidate(work.genome, work.data, recipe, SEED, "cpu", 1, keep_weights=True)


# ---------------------------------------------------------------- part 3

_WORKER: dict[str, Workload] = {}


def _worker_init(names: list[str], quick: bool) -> None:
    torch.set_num_threads(1)
    for work in make_workloads(names, quick):
        _WORKER[work.name] = work


def _worker_run(name: str) -> float:
    work = _WORKER[name]
    start = time.perf_counter()
    evaluate_candidate(work.genome, work.data, Recipe(max_epochs=work.epochs), SEED, "cpu", 1)
    return time.perf_counter() - start


def part3(workloads: list[Workload], repeats: int, quick: bool) -> None:
    print(f"\n#### Two candidates at once (median wall time of {repeats}, interleaved)\n")
    print(
        "| workload | 2 x 1 thread, in turn | 2 x 2 threads, in turn | "
        "2 x 1 thread, side by side (2 processes) | side by side / 1 thread in turn | "
        "side by side / 2 threads in turn |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    names = [w.name for w in workloads]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        2, mp_context=context, initializer=_worker_init, initargs=(names, quick)
    ) as pool:
        list(pool.map(_worker_run, names * 2))  # start both workers, warm them up
        for work in workloads:
            recipe = Recipe(max_epochs=work.epochs)
            times: dict[str, list[float]] = {"one": [], "two": [], "side": []}
            for _ in range(repeats):
                for key, threads in (("one", 1), ("two", 2)):
                    start = time.perf_counter()
                    for _ in range(2):
                        evaluate_candidate(work.genome, work.data, recipe, SEED, "cpu", threads)
                    times[key].append(time.perf_counter() - start)
                start = time.perf_counter()
                list(pool.map(_worker_run, [work.name, work.name]))
                times["side"].append(time.perf_counter() - start)
            med = {key: statistics.median(values) for key, values in times.items()}
            print(
                f"| {work.name} | {med['one']:.2f} s | {med['two']:.2f} s | {med['side']:.2f} s | "
                f"{med['side'] / med['one']:.2f} | {med['side'] / med['two']:.2f} |",
                flush=True,
            )


# ---------------------------------------------------------------- part 4


def part4(workloads: list[Workload], epochs: int) -> None:
    """Knobs that change the arithmetic, over a whole candidate: the score it gets."""
    print(f"\n#### Whole candidates ({epochs} epochs): what the faster kernels change\n")
    print(
        "| workload | variant | CPU | CPU / baseline | score | peak score | "
        "largest weight difference |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for work in workloads:
        work = replace(work, epochs=epochs)
        found = variants(work)
        chosen = [found[0]] + [
            v for v in found if v.name in ("torch's own layout (contiguous)", "Adam fused=True")
        ]
        base = None
        for variant in chosen:
            _, cpu, result = run_variant(work, variant)
            base = base or (cpu, result)
            diff = max(
                float((result["weights"][k] - base[1]["weights"][k]).abs().max())
                for k in base[1]["weights"]
                if base[1]["weights"][k].is_floating_point()
            )
            print(
                f"| {work.name} | {variant.name} | {cpu:.1f} s | {cpu / base[0]:.2f} | "
                f"{result['score']:.4f} | {result['peak_score']:.4f} | {diff:.1e} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (--quick: 1)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 epoch, 1 repeat")
    parser.add_argument(
        "--parts",
        nargs="+",
        type=int,
        choices=(1, 2, 3, 4),
        default=[1, 2, 3],
        help="4 (not run by default): whole candidates with the knobs that change results",
    )
    parser.add_argument("--epochs", type=int, default=100, help="part 4's epochs")
    parser.add_argument(
        "--variants",
        nargs="+",
        help="part 2: only the baseline and the variants whose names hold one of these",
    )
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    # torch.compile's first candidate compiles from scratch, as a new architecture does
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="inductor-"))
    torch.set_num_threads(1)
    print(
        f"skevonas {__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start"
    )
    workloads = make_workloads(args.workloads, args.quick)
    if 1 in args.parts:
        part1(workloads, args.quick)
    if 2 in args.parts:
        compiled = part2(workloads, repeats, args.quick, args.variants)
        if compiled:
            print("\n#### torch.compile per candidate: compile time, and the epochs after it\n")
            print(
                "| workload | extra wall time, first candidate (cold cache) |"
                " extra wall time, later candidates (warm cache) |"
                " later epochs / baseline's (wall) |"
            )
            print("|---|---:|---:|---:|")
            print("\n".join(compiled), flush=True)
    if 3 in args.parts:
        part3(workloads, repeats, args.quick)
    if 4 in args.parts:
        part4(workloads, args.epochs)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
