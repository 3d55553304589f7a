"""The paired bake-off: every method on the same stratified resamples, every test prediction kept.

Issue 29, item 1. The archive's one train/test split cannot resolve the
differences that matter (on SelfRegulationSCP1's 293 test trials one trial is
0.34 points), so every method here learns on the same K stratified
resamples of train and test pooled, and every row keeps its test
predictions and probabilities: the comparisons are paired.

**Resamples** (:func:`stratified_resample`): resample 0 is the archive's
split unchanged; resample k > 0 pools train and test and draws, class by
class and without replacement (``numpy.random.default_rng(k)``), as many
training trials of each class as the archive's train split holds; the rest
is the test part. Every resample has the archive's train and test sizes and
its per-class counts in both parts (what aeon's ``stratified_resample_data``
does). The EEG sets (``skevonas.datasets.load_eeg``) run ``--resamples``
resamples (default 5); Fashion-MNIST (``load_fashion_mnist``, Debian's
``dataset-fashion-mnist`` files) runs only its own split (60,000 / 10,000
images), once flattened (``FashionMNIST-mlp``: 784 features, the MLP space)
and once as images (``FashionMNIST-cnn2d``: ``(1, 28, 28)``, the 2-D CNN
space), as ``bench/search_efficiency.py`` passes them.

**Methods** (``--methods``), each fitted on the resample's training part only
and scored once on its test part; labels are coded 0..C-1 over the pooled
data, so every model's probabilities are aligned to the same classes:

- ``skevonas``: ``EvolutionaryNASClassifier(n_jobs=-1, random_state=seed)``,
  nothing else set (the library's defaults of the day; ``bench/eeg.py``'s
  :func:`search_estimator`);
- ``inherit``: the same with ``inherit_weights=True`` (issue 29: children
  start from their parents' trained weights and train the whole schedule);
  ``inherit-third``: with ``inherit_weights=1/3``, a short schedule of a
  third of ``max_epochs`` (its rows of 2026-12-07 ran on ``70c9cd9``, where
  ``True`` meant a third, and their settings say ``True``);
- ``local``: the same with ``local_rate=0.5`` (issue 29, item 3: half the
  children are one small step from an elite genome, and half the first
  generation's non-seed genomes one small step from a seed);
  ``local-inherit``: both ``local_rate=0.5`` and ``inherit_weights=True``;
- ``lowdata``: the defaults with ``min_data_fraction=1/3`` (issue 29, item
  3: the lowest rung of successive halving trains on a third of each
  candidate's training part; a third, like the halving factor, chosen
  before any row ran);
- ``calibrated``: the same as ``skevonas`` with ``calibrate=True`` (issue 30:
  temperature scaling of ``predict_proba`` on the finalists' out-of-fold
  probabilities). Calibration trains nothing, so with the same seed its
  network and test predictions are the ``skevonas`` row's (same accuracy);
  only the probabilities differ. Its rows also keep ``temperature`` and the
  network's own (uncalibrated) ``uncalibrated_log_loss`` and
  ``uncalibrated_ece``, recovered exactly as ``softmax(T * log p)``;
- ``contiguous``: the defaults with ``net_params={"memory_format":
  "contiguous"}``: the networks train in torch's own layout, as every
  network trained before 2-D convolutions trained in ``channels_last`` by
  default (issue 29, item 4; bit for bit the earlier code's arithmetic);
- ``async``: the defaults with ``strategy="asynchronous"`` (no generation
  barrier: while the protected seeds train their long rungs, the other
  workers go on breeding and training; its path depends on the order in
  which results arrive, so a rerun on a busier machine may differ);
- ``seed:<name>``: one seed genome of that search trained alone: the genome
  exactly as the search's first generation holds it
  (``skevonas.evolution.seed_genomes`` of ``initial_genomes("auto", space)``
  over the search's own space, repaired into it), trained by
  ``GenomeClassifier`` as the search's refit trains its final model: the whole
  training part (``validation_fraction=None``), the search's ``max_epochs``,
  ``lr_schedule``, ``label_smoothing``, ``augment``, ``standardize``,
  ``net_params`` and ``torch_threads``, ``random_state=seed``, the data
  decimated as the search decimates it (``skevonas.settings.decimation``,
  ``skevonas.prepare.decimate_data``). Names: ``shallow``, ``eegnet``,
  ``eegnex`` (ShallowConvNet, EEGNet-8,2 and EEGNeX: the EEG space's seeds),
  ``mlp`` (2 x 512 MLP) and ``cnn`` (the VGG-style image CNN); a seed that
  the data set's space does not hold is skipped;
- ``seed-cv``: what a user without the search would do: each seed genome
  scored by stratified k-fold cross-validation of the training part only
  (``sklearn.model_selection.cross_val_score``, the search's ``cv`` folds,
  shuffled with ``random_state=seed``, its ``scoring``, ``n_jobs=-1``), the
  best mean (the first on ties) refitted on the whole training part as its
  ``seed:<name>`` row (a space with one seed, as the MLP and 2-D CNN spaces,
  has nothing to choose: no cross-validation, its seed's row); that refit is
  the ``seed:<name>`` row's model itself (same data, recipe and seed: CPU
  training is reproducible), so its predictions are reused when that row
  exists, and the row's wall time is the cross-validation's plus the refit's;
- ``random``: random search at the same number of evaluations: one
  generation of ``n_evaluations_`` random genomes (``initial_genomes=None``)
  of the ``skevonas`` row of that data set, resample and seed, its other
  settings the defaults (``bench/eeg.py``'s ``random``);
- ``minirocket``: aeon's ``MiniRocketClassifier`` (``bench/peers.py``);
  ``multirockethydra``: aeon's ``MultiRocketHydraClassifier`` at its defaults
  (``n_kernels=8``, ``n_groups=64``), ``n_jobs=1``, ``random_state=seed``, on
  float64 data; ``eegnet``, ``eegnex``: braindecode's ``EEGNet`` and
  ``EEGNeX`` with the field's standard recipe (``bench/peers.py``, ``--epochs``).
  EEG sets only; they need ``pip install -e ".[bench]"`` (aeon, braindecode)
  in an environment of their own, see ``bench/peers.py`` for the torchaudio
  stub. Both ridge classifiers give hard (one-hot) probabilities, so their
  log loss is about ``-ln(1e-7) = 16.1`` times their error rate: read it as
  such, not as a calibration.

**Rows** (JSON lines, ``--results``, default ``bench/results/bakeoff.jsonl``):
one per (method, data set, resample, seed), appended as soon as it is done;
rows already in the file are skipped unless ``--rerun``. Each holds the test
accuracy, the log loss (probabilities clipped to [1e-7, 1] and renormalised),
the expected calibration error (:func:`expected_calibration_error`; rows
written before it existed get it from their stored probabilities),
wall seconds of ``fit``, the test labels, predictions and probabilities
(float16, base64: :func:`decode_proba`), a hash of the test indices
(:func:`index_hash`: rows pair only where it matches), the run's
configuration, the method's settings, versions and machine; the search rows
also hold ``n_evaluations``, ``search_s``, ``final_s``, the final genomes and
``unchanged_seed`` (whether every genome of the final model is one of the
search's seed genomes, unchanged: its key equals a seed's key) and
``model_trainings`` (the best genome's records in the search: epochs
trained, why training stopped, status).

**Report** (Markdown, ready for ``docs/benchmarks.md``), per data set: each
method's test accuracy mean and std (ddof 0) over the (resample, seed)
blocks, mean log loss, mean ECE, mean wall seconds, mean rank (rank 1 best, ties
averaged, within each block, over the methods that have every block) and how
often the final model is a seed genome unchanged; then each method against
``--reference`` (default ``skevonas``): the accuracy difference per block and
its mean, and the exact McNemar test over all test trials of all blocks
pooled (two-sided binomial test of the discordant pairs, ``scipy.stats.binomtest``;
a trial drawn into several resamples' test parts counts once per resample).
Over all selected (data set, resample, seed) blocks and the methods that have
every one: Friedman's test (with Iman and Davenport's F) on the ranks, and
the Nemenyi critical difference at alpha 0.05 (Demšar, 2006), printed as a
text diagram and, with ``--diagram PATH``, drawn (SVG or PNG, matplotlib).
The ``seed:<name>`` rows and the peers exist on some data sets only: to rank
them, select data sets of one kind (``--datasets``). Rows of different
configurations or settings are never tabulated together. Wall times are as
each method is run by its users: the searches and ``seed-cv``'s
cross-validation on all cores (``n_jobs=-1``), the rest on one job or thread.

``--max-time SECONDS`` gives the searches (``skevonas``, its variants and
``random``) that ``max_time``, as a user with a time budget would; it is in
their rows' settings, so those rows tabulate only with rows of the same
budget (keep them in a ``--results`` file of their own).

``--only R...`` runs those resamples alone (of the first ``--resamples``),
e.g. to time two methods side by side on one of them.

``--quick`` is for smoke tests only: a tiny search (population 4,
2 generations, 2 epochs, 2 finalists, 2 folds), 2 epochs for the seed
genomes and braindecode's networks, 1,000 / 500 Fashion-MNIST images; its
rows go to ``bench/results/bakeoff_quick.jsonl`` and a file holds rows of
one configuration only.

    python bench/bakeoff.py --methods skevonas seed:shallow seed:eegnet seed:eegnex \\
        seed:mlp seed:cnn seed-cv random                       # in the project's venv
    python bench/bakeoff.py --datasets SelfRegulationSCP1 \\
        --methods minirocket multirockethydra eegnet eegnex     # in a venv with [bench]
    python bench/bakeoff.py --table-only --diagram docs/images/bakeoff_cd.svg
    python bench/bakeoff.py --table-only --over bench/results/bakeoff_final_code.jsonl

``--over`` tabulates the rows of ``--results`` with those of later files in
their place (same method, data set, resample and seed): the rows of the
search methods rerun on later code over the rest. ``--before FILE...`` adds
the rows of those files (earlier code; a later file's rows replace an
earlier one's, as with ``--over``) as ``<method> (before)``, beside and
paired with the others.

    nice -n 10 python bench/bakeoff.py --quick --datasets SelfRegulationSCP1 --resamples 2
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from eeg import DEFAULT_EPOCHS, append_row, jsonable, machine, print_machines, search_estimator
from numpy.typing import ArrayLike
from scipy.stats import binomtest, chi2, rankdata, studentized_range
from scipy.stats import f as f_distribution
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.preprocessing import LabelEncoder

from skevonas import (
    EvolutionaryNASClassifier,
    Genome,
    GenomeClassifier,
    SearchCallback,
    SearchSpace,
    eegnet_genome,
    eegnex_genome,
    get_space,
    shallow_convnet_genome,
    standard_image_cnn_genome,
    standard_mlp_genome,
)
from skevonas.datasets import EEG_DATASETS, list_eeg_datasets, load_eeg, load_fashion_mnist
from skevonas.evolution import seed_genomes
from skevonas.prepare import decimate_data
from skevonas.settings import decimation, initial_genomes
from skevonas.training.calibration import apply_temperature

RESULTS = Path(__file__).parent / "results" / "bakeoff.jsonl"
QUICK_RESULTS = Path(__file__).parent / "results" / "bakeoff_quick.jsonl"
FASHION = {"FashionMNIST-mlp": "flat", "FashionMNIST-cnn2d": "images"}
DATASETS = (*list_eeg_datasets(), *FASHION)
DEFAULT_DATASETS = ("SelfRegulationSCP1", *FASHION)
SEED_GENOMES = {
    "shallow": shallow_convnet_genome,
    "eegnet": eegnet_genome,
    "eegnex": eegnex_genome,
    "mlp": standard_mlp_genome,
    "cnn": standard_image_cnn_genome,
}
SEED_METHODS = tuple(f"seed:{name}" for name in SEED_GENOMES)
PEERS = ("minirocket", "multirockethydra", "eegnet", "eegnex")  # EEG sets only
# random after skevonas (it needs that row), seed-cv after the seeds (it reuses their refits)
VARIANTS = (
    "inherit",
    "inherit-third",
    "local",
    "local-inherit",
    "lowdata",
    "calibrated",
    "contiguous",
    "async",
)
METHODS = ("skevonas", *VARIANTS, *SEED_METHODS, "seed-cv", "random", *PEERS)
SEARCH_METHODS = ("skevonas", *VARIANTS, "random")
LOCAL_RATE = 0.5  # the local variants' local_rate
# Settings added to the estimator after rows were first written, with their defaults:
# rows without them were made with these values, so they tabulate together.
# min_data_fraction of the lowdata method
LOW_DATA = 1 / 3
# inherit_weights of the inheriting methods
INHERIT: dict[str, bool | float] = {"inherit": True, "inherit-third": 1 / 3, "local-inherit": True}
ADDED_SETTINGS: dict[str, Any] = {
    "calibrate": False,
    "class_weight": None,
    "local_rate": 0.0,
    "min_data_fraction": 1.0,
}
# What the peers import (bench/peers.py imports braindecode, MiniRocket included)
NEEDS = {
    "minirocket": ("aeon", "braindecode"),
    "multirockethydra": ("aeon",),
    "eegnet": ("braindecode",),
    "eegnex": ("braindecode",),
}
QUICK = {"population_size": 4, "n_generations": 2, "max_epochs": 2, "n_finalists": 2, "cv": 2}
QUICK_PEER_EPOCHS = 2
QUICK_FASHION = (1000, 500)
PROBA_FLOOR = 1e-7
ECE_BINS = 15
ALPHA = 0.05
# q_alpha of the Nemenyi test at alpha = 0.05 for k = 2..10 methods: Demšar, J. (2006),
# "Statistical comparisons of classifiers over multiple data sets", JMLR 7:1-30,
# Table 5(a) (studentized range statistic divided by sqrt(2)). Beyond k = 10, the same
# quantity from scipy.stats.studentized_range with infinite degrees of freedom (which
# agrees with this table within 0.001; tests/test_bench_bakeoff.py checks it).
Q_ALPHA_05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102}
Q_ALPHA_05[10] = 3.164


class PairingError(ValueError):
    """Rows that cannot be compared trial by trial: their test parts differ."""


# --------------------------------------------------------------------------- resamples
def stratified_resample(y: ArrayLike, n_train: int, resample: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and test indices of one stratified resample of pooled data.

    Parameters
    ----------
    y : sequence of labels
        The archive's training labels followed by its test labels.
    n_train : int
        The size of the archive's training split (the first ``n_train`` of ``y``).
    resample : int
        0 gives the archive's split unchanged; k > 0 draws, for each class,
        as many training indices as the archive's training split holds of
        it, without replacement, from the pooled indices of that class
        (``numpy.random.default_rng(k)``), and the rest are the test part.

    Returns
    -------
    train, test : ndarray of int64
        Sorted indices into the pooled data: every resample has the archive's
        train and test sizes and its per-class counts in both parts, and the
        same ``resample`` always gives the same indices.

    Raises
    ------
    ValueError
        If ``n_train`` does not leave both parts non-empty, or ``resample`` is negative.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 0, 1])
    >>> stratified_resample(y, 4, 0)
    (array([0, 1, 2, 3]), array([4, 5]))
    >>> train, test = stratified_resample(y, 4, 1)
    >>> sorted(y[train].tolist()), sorted(y[test].tolist())
    ([0, 0, 1, 1], [0, 1])
    """
    y = np.asarray(y)
    if not 0 < n_train < len(y):
        raise ValueError(f"n_train must be in [1, {len(y) - 1}], got {n_train!r} instead")
    if resample < 0:
        raise ValueError(f"resample must be an int >= 0, got {resample!r} instead")
    if resample == 0:
        return np.arange(n_train, dtype=np.int64), np.arange(n_train, len(y), dtype=np.int64)
    rng = np.random.default_rng(resample)
    chosen = [
        rng.choice(
            np.flatnonzero(y == label), size=int(np.sum(y[:n_train] == label)), replace=False
        )
        for label in np.unique(y)
    ]
    train = np.sort(np.concatenate(chosen)).astype(np.int64)
    return train, np.setdiff1d(np.arange(len(y), dtype=np.int64), train)


def index_hash(indices: ArrayLike) -> str:
    """A short fingerprint of a resample's test indices (rows pair only where it matches).

    Examples
    --------
    >>> index_hash([4, 5]) == index_hash(np.array([4, 5])), index_hash([4, 5]) == index_hash([5])
    (True, False)
    """
    return hashlib.sha256(np.asarray(indices, dtype="<i8").tobytes()).hexdigest()[:16]


# --------------------------------------------------------------------------- probabilities
def aligned_proba(proba: np.ndarray, model_classes: Sequence[int], n_classes: int) -> np.ndarray:
    """Class probabilities in the columns of the pooled codes 0..n_classes-1.

    Examples
    --------
    >>> aligned_proba(np.array([[0.25, 0.75]]), [0, 2], 3)
    array([[0.25, 0.  , 0.75]])
    """
    out = np.zeros((len(proba), n_classes))
    out[:, np.asarray(model_classes, dtype=int)] = np.asarray(proba, dtype=float)
    return out


def log_loss(y: Sequence[int], proba: np.ndarray, floor: float = PROBA_FLOOR) -> float:
    """Mean negative log probability of the true class, clipped to [floor, 1] and renormalised.

    Examples
    --------
    >>> round(log_loss([0, 1], np.array([[0.5, 0.5], [0.0, 1.0]])), 4)  # -ln(0.5) / 2
    0.3466
    """
    p = np.clip(np.asarray(proba, dtype=float), floor, 1.0)
    p /= p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(p)), np.asarray(y, dtype=int)])))


def expected_calibration_error(
    y: Sequence[int], proba: np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """Expected calibration error (ECE) of the top-class probability, in equal-width bins.

    Each test trial's confidence is its largest class probability and it is
    right when that class is its label. The confidences are put in
    ``n_bins`` equal-width bins of [0, 1] (bin ``b`` holds ``(b / n_bins,
    (b + 1) / n_bins]``, the first one 0 too); ECE is the mean over trials
    of ``|accuracy(bin) - mean confidence(bin)|`` of each trial's bin, i.e.
    ``sum_b (n_b / n) |acc_b - conf_b|`` (Guo et al., ICML 2017, with 15
    bins as there). 0 is perfectly calibrated; a classifier that is always
    sure (confidence 1) has its error rate as ECE.

    Examples
    --------
    >>> y = [0, 1, 1, 0]
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.55, 0.45]])
    >>> round(expected_calibration_error(y, proba), 4)  # bins of 0.9, 0.8, 0.7 and 0.55
    0.3625
    >>> expected_calibration_error([0, 1], np.array([[1.0, 0.0], [0.0, 1.0]]))
    0.0
    """
    p = np.asarray(proba, dtype=float)
    confidence = p.max(axis=1)
    right = p.argmax(axis=1) == np.asarray(y, dtype=int)
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total / len(p))


def row_ece(row: dict[str, Any]) -> float:
    """A row's ECE: as stored, else from its test probabilities (rows older than ECE).

    Examples
    --------
    >>> row_ece({"ece": 0.25}), row_ece({"y_test": [0], "proba": encode_proba(np.eye(2)[:1])})
    (0.25, 0.0)
    """
    if "ece" in row:
        return float(row["ece"])
    if "proba" in row:
        return expected_calibration_error(row["y_test"], decode_proba(row["proba"]))
    return float("nan")


def encode_proba(proba: np.ndarray) -> dict[str, Any]:
    """Probabilities as float16 in base64: compact, about 3 significant digits."""
    array = np.ascontiguousarray(proba, dtype="<f2")
    return {
        "dtype": "<f2",
        "shape": list(array.shape),
        "base64": base64.b64encode(array.tobytes()).decode(),
    }


def decode_proba(stored: dict[str, Any]) -> np.ndarray:
    """The probabilities :func:`encode_proba` stored, as float64.

    Examples
    --------
    >>> decode_proba(encode_proba(np.array([[0.25, 0.75]])))
    array([[0.25, 0.75]])
    """
    raw = np.frombuffer(base64.b64decode(stored["base64"]), dtype=stored["dtype"])
    return raw.reshape(stored["shape"]).astype(float)


# --------------------------------------------------------------------------- statistics
def average_ranks(scores: np.ndarray) -> np.ndarray:
    """Each method's rank averaged over blocks: rank 1 is the highest score, ties share ranks.

    Parameters
    ----------
    scores : array of shape (n_blocks, n_methods)
        One row per block (data set, resample), higher is better.

    Examples
    --------
    >>> average_ranks(np.array([[0.9, 0.8, 0.7], [0.8, 0.8, 0.9]]))
    array([1.75, 2.25, 2.  ])
    """
    return np.mean([rankdata(-np.asarray(row, dtype=float)) for row in scores], axis=0)


def friedman(scores: np.ndarray) -> dict[str, float]:
    """Friedman's test on the ranks of k methods over N blocks, with Iman and Davenport's F.

    ``chi2 = 12 N / (k (k + 1)) * (sum_j R_j^2 - k (k + 1)^2 / 4)`` with
    ``R_j`` the average ranks (Demšar, 2006, eq. before Table 5; no
    correction for ties), ``k - 1`` degrees of freedom;
    ``F = (N - 1) chi2 / (N (k - 1) - chi2)`` with ``k - 1`` and
    ``(k - 1)(N - 1)`` degrees of freedom.

    Parameters
    ----------
    scores : array of shape (n_blocks, n_methods)
        Higher is better.

    Returns
    -------
    result : dict
        ``n_blocks``, ``n_methods``, ``chi2``, ``p`` (chi-squared), ``F`` and ``p_F``.

    Examples
    --------
    >>> result = friedman(np.array([[0.9, 0.8, 0.7], [0.8, 0.9, 0.7]]))
    >>> result["chi2"], round(result["p"], 4), result["F"], result["p_F"]
    (3.0, 0.2231, 3.0, 0.25)
    """
    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    ranks = average_ranks(scores)
    statistic = 12 * n / (k * (k + 1)) * (np.sum(ranks**2) - k * (k + 1) ** 2 / 4)
    denominator = n * (k - 1) - statistic
    ff = (n - 1) * statistic / denominator if denominator > 0 else np.inf
    p_ff = float(f_distribution.sf(ff, k - 1, (k - 1) * (n - 1))) if n > 1 else 1.0
    return {
        "n_blocks": n,
        "n_methods": k,
        "chi2": float(statistic),
        "p": float(chi2.sf(statistic, k - 1)),
        "F": float(ff),
        "p_F": p_ff,
    }


def nemenyi_q(k: int, alpha: float = ALPHA) -> float:
    """The Nemenyi test's q_alpha for k methods (Demšar 2006, Table 5(a), at alpha 0.05).

    Examples
    --------
    >>> nemenyi_q(4), round(nemenyi_q(12), 3)
    (2.569, 3.268)
    """
    if alpha == ALPHA and k in Q_ALPHA_05:
        return Q_ALPHA_05[k]
    return float(studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def critical_difference(k: int, n_blocks: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of average ranks: ``q_alpha sqrt(k (k + 1) / (6 N))``.

    Examples
    --------
    >>> round(critical_difference(4, 5), 4)  # 2.569 * sqrt(20 / 30)
    2.0976
    """
    return nemenyi_q(k, alpha) * float(np.sqrt(k * (k + 1) / (6 * n_blocks)))


def cd_groups(sorted_ranks: Sequence[float], cd: float) -> list[tuple[int, int]]:
    """Maximal runs of methods (sorted by rank) whose ranks differ by less than ``cd``.

    Returns inclusive (first, last) positions; a method in no run with
    another appears as its own (i, i).

    Examples
    --------
    >>> cd_groups([1.0, 2.0, 3.0, 4.0], 1.5)
    [(0, 1), (1, 2), (2, 3)]
    >>> cd_groups([1.0, 3.0], 1.5)
    [(0, 0), (1, 1)]
    """
    ranks = list(sorted_ranks)
    groups, last = [], -1
    for i, rank in enumerate(ranks):
        j = max(m for m in range(i, len(ranks)) if ranks[m] - rank < cd)
        if j > last:
            groups.append((i, j))
            last = j
    return groups


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar test of two classifiers on the same trials.

    Returns
    -------
    only_a, only_b, p : int, int, float
        Trials only ``a`` got right, trials only ``b`` got right, and the
        two-sided binomial p-value of ``only_a`` among the discordant trials
        at probability 1/2 (1.0 when there are none).

    Examples
    --------
    >>> a = np.array([1, 0, 0, 0, 0, 0, 1], dtype=bool)
    >>> b = np.array([0, 1, 1, 1, 1, 1, 1], dtype=bool)
    >>> mcnemar_exact(a, b)  # (1 + 6 + 6 + 1) / 2**6
    (1, 5, 0.21875)
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise PairingError(f"cannot pair {a.shape[0]} trials with {b.shape[0]}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return only_a, only_b, 1.0
    return only_a, only_b, float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def correct(row: dict[str, Any]) -> np.ndarray:
    """Which test trials a row's model got right."""
    return np.asarray(row["predictions"]) == np.asarray(row["y_test"])


def paired_correct(row_a: dict[str, Any], row_b: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The two rows' per-trial correctness, only if they were scored on the same test trials.

    Raises
    ------
    PairingError
        If the data sets, the test indices' hashes or the test labels differ.
    """
    same = (
        row_a["dataset"] == row_b["dataset"]
        and row_a["test_hash"] == row_b["test_hash"]
        and row_a["y_test"] == row_b["y_test"]
    )
    if not same:
        raise PairingError(
            f"cannot pair {describe(row_a)} (test indices {row_a['test_hash']}) with "
            f"{describe(row_b)} (test indices {row_b['test_hash']}): they were not scored on the "
            "same test trials; were the rows written by different resampling code?"
        )
    return correct(row_a), correct(row_b)


def describe(row: dict[str, Any]) -> str:
    return f"{row['method']} on {row['dataset']} resample {row['resample']} seed {row['seed']}"


# --------------------------------------------------------------------------- data
@dataclass
class Problem:
    """One data set, train and test pooled (the archive's train split first), labels coded."""

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    n_train: int
    sfreq: float | None
    max_resamples: int | None  # None: any; 1: its own split only
    cache: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def decimated(self, factor: int) -> np.ndarray:
        """The pooled X decimated as the search decimates it (each trial on its own)."""
        if factor not in self.cache:
            self.cache[factor] = decimate_data(self.X, factor)
        return self.cache[factor]


def load_problem(name: str, quick: bool) -> Problem:
    """``name`` pooled: an EEG set of ``load_eeg``, or Fashion-MNIST flat or as images."""
    if name in FASHION:
        n_train, n_test = QUICK_FASHION if quick else (None, None)
        X_train, X_test, y_train, y_test = load_fashion_mnist(
            n_train=n_train, n_test=n_test, return_X_y=True
        )
        sfreq, max_resamples = None, 1
    else:
        X_train, X_test, y_train, y_test = load_eeg(name, return_X_y=True)
        sfreq, max_resamples = EEG_DATASETS[name].sfreq, None
    X = np.concatenate([X_train, X_test])
    if FASHION.get(name) == "images":
        X = X.reshape(-1, 1, 28, 28)
    encoder = LabelEncoder().fit(np.concatenate([y_train, y_test]))
    y = encoder.transform(np.concatenate([y_train, y_test])).astype(np.int64)
    classes = tuple(str(label) for label in encoder.classes_)
    return Problem(name, X, y, classes, len(y_train), sfreq, max_resamples)


def n_resamples(problem: Problem, requested: int) -> int:
    return min(requested, problem.max_resamples or requested)


# --------------------------------------------------------------------------- methods
def skevonas_estimator(
    quick: bool,
    seed: int,
    n_evaluations: int = 0,
    inherit: bool | float = False,
    calibrate: bool = False,
    max_time: float | None = None,
    local: bool = False,
    low_data: float = 1.0,
    contiguous: bool = False,
    asynchronous: bool = False,
) -> EvolutionaryNASClassifier:
    """The unfitted ``skevonas`` search (``n_evaluations`` > 0: ``random``), or a variant."""
    clf = search_estimator("skevonas", seed)
    if max_time is not None:
        clf.set_params(max_time=max_time)
    if inherit:
        clf.set_params(inherit_weights=inherit)
    if calibrate:
        clf.set_params(calibrate=True)
    if local:
        clf.set_params(local_rate=LOCAL_RATE)
    if low_data < 1:
        clf.set_params(min_data_fraction=low_data)
    if contiguous:
        clf.set_params(net_params={"memory_format": "contiguous"})
    if asynchronous:
        clf.set_params(strategy="asynchronous")
    if quick:
        clf.set_params(**QUICK)
    if n_evaluations:
        clf.set_params(population_size=max(2, n_evaluations), n_generations=1, initial_genomes=None)
    return clf


def search_seeds(space: SearchSpace) -> dict[str, Genome]:
    """The seed genomes a search over ``space`` starts from (``initial_genomes="auto"``), by name.

    Raises
    ------
    RuntimeError
        If the search holds a seed that :data:`SEED_GENOMES` does not name.
    """
    held = {genome.key(): genome for genome in seed_genomes(space, initial_genomes("auto", space))}
    named = {}
    for name, make in SEED_GENOMES.items():
        genome = make()
        if genome.family == space.family and space.repair(genome).key() in held:
            named[name] = held[space.repair(genome).key()]
    unnamed = set(held) - {genome.key() for genome in named.values()}
    if unnamed:
        raise RuntimeError(f"seed genomes without a name in SEED_GENOMES: {sorted(unnamed)}")
    return named


def search_input(problem: Problem, quick: bool) -> tuple[np.ndarray, int, dict[str, Genome]]:
    """X as the default search trains on it, its decimation factor and the search's seeds."""
    clf = skevonas_estimator(quick, 0)
    factor = decimation(clf.decimate, problem.X.shape[1:])
    X = problem.decimated(factor)
    return X, factor, search_seeds(get_space(clf.search_space, X.shape[1:]))


def genome_classifier(genome: Genome, quick: bool, seed: int) -> GenomeClassifier:
    """``genome`` trained as the default search's refit trains its final model."""
    search = skevonas_estimator(quick, seed)
    return GenomeClassifier(
        genome,
        max_epochs=search.max_epochs,
        patience=search.patience,
        lr_schedule=search.lr_schedule,
        label_smoothing=search.label_smoothing,
        augment=search.augment,
        validation_fraction=None,
        scoring=search.scoring,
        standardize=search.standardize,
        net_params=search.net_params,
        device=str(search.device),
        torch_threads=search.torch_threads,
        random_state=seed,
    )


def predictions(model: Any, X: np.ndarray, n_classes: int) -> dict[str, Any]:
    """A fitted model's test predictions and aligned probabilities."""
    return {
        "predictions": np.asarray(model.predict(X)).astype(np.int64),
        "proba": aligned_proba(model.predict_proba(X), model.classes_, n_classes),
    }


def run_search(
    method: str, problem: Problem, train: np.ndarray, test: np.ndarray, seed: int, ctx: Context
) -> dict[str, Any] | None:
    n_evaluations = 0
    if method == "random":
        default_row = ctx.rows.get(("skevonas", problem.name, ctx.resample, seed))
        if default_row is None:
            return None
        n_evaluations = default_row["n_evaluations"]
    clf = skevonas_estimator(
        ctx.quick,
        seed,
        n_evaluations,
        inherit=INHERIT.get(method, False),
        calibrate=method == "calibrated",
        max_time=ctx.max_time,
        local=method in ("local", "local-inherit"),
        low_data=LOW_DATA if method == "lowdata" else 1.0,
        contiguous=method == "contiguous",
        asynchronous=method == "async",
    )
    arrivals = Arrivals()
    clf.set_params(callbacks=[arrivals])
    start = time.perf_counter()
    clf.fit(problem.X[train], problem.y[train])
    wall = time.perf_counter() - start
    clf.set_params(callbacks=None)  # instrumentation, not a setting of the row
    named = search_seeds(clf.search_space_)
    seeds = {genome.key(): name for name, genome in named.items()}
    short_seeds = {genome.short_key() for genome in named.values()}
    final = [genome.key() for genome in clf.ensemble_genomes_]
    found = predictions(clf, problem.X[test], len(problem.classes))
    calibration = {}
    if method == "calibrated":
        # the network's own probabilities: softmax(T * log p) undoes the temperature
        own = apply_temperature(found["proba"], 1.0 / clf.temperature_)
        calibration = {
            "temperature": float(clf.temperature_),
            "uncalibrated_log_loss": log_loss(problem.y[test], own),
            "uncalibrated_ece": expected_calibration_error(problem.y[test], own),
        }
    return {
        **found,
        **calibration,
        "wall_s": wall,
        "search_s": float(clf.search_time_),
        "final_s": float(clf.refit_time_),
        "n_evaluations": int(clf.n_evaluations_),
        "stop_reason": clf.stop_reason_,
        "validation_score": float(clf.best_score_),
        "final_genomes": [genome.short_key() for genome in clf.ensemble_genomes_],
        "unchanged_seed": all(key in seeds for key in final),
        "seed_name": seeds.get(final[0]),
        "settings": jsonable(clf.get_params()),
        "model": str(clf.best_genome_.short_key()),
        "model_trainings": [
            [row.get("epochs"), row.get("stopped_by"), row.get("status")]
            for row in clf.evaluations_
            if row["key"] == clf.best_genome_.short_key()
        ],
        "arrivals": [[*arrival, arrival[1] in short_seeds] for arrival in arrivals.rows],
    }


class Arrivals(SearchCallback):
    """Every result as it arrives: seconds since the search began, short key, score, status,
    its own fit time and its rung (the trace of "time to the seed's level")."""

    def on_search_begin(self, state: Any) -> None:
        self.start, self.rows = time.perf_counter(), []

    def on_evaluation_end(self, state: Any, genome: Genome, result: Any) -> None:
        self.rows.append(
            [
                round(time.perf_counter() - self.start, 3),
                genome.short_key(),
                float(result.get("score", float("nan"))),
                str(result.get("status")),
                float(result.get("fit_time", float("nan"))),
                result.get("rung"),
            ]
        )


def time_to_seed_level(row: dict[str, Any]) -> tuple[float, float, float | None] | None:
    """From a row's ``arrivals``: the best seed's full-budget holdout score, its own training
    time, and when (seconds into the search) a genome that is no seed first matched that
    score at its full budget (None: never); None for a row without a trace."""
    trace = row.get("arrivals")
    if not trace or len(trace[0]) < 7:
        return None
    seeds = [a for a in trace if a[6] and a[3] == "ok"]
    if not seeds:
        return None
    best = max(seeds, key=lambda a: a[2])
    found = [a[0] for a in trace if not a[6] and a[3] == "ok" and a[2] >= best[2]]
    return best[2], best[4], (min(found) if found else None)


def run_seed(
    name: str, problem: Problem, train: np.ndarray, test: np.ndarray, seed: int, ctx: Context
) -> dict[str, Any] | None:
    X, factor, seeds = search_input(problem, ctx.quick)
    if name not in seeds:
        return None
    clf = genome_classifier(seeds[name], ctx.quick, seed)
    start = time.perf_counter()
    clf.fit(X[train], problem.y[train])
    wall = time.perf_counter() - start
    settings = {**jsonable(clf.get_params()), "genome": seeds[name].to_dict()}
    return {
        **predictions(clf, X[test], len(problem.classes)),
        "wall_s": wall,
        "n_evaluations": 1,
        "decimation": factor,
        "n_params": int(clf.n_params_),
        "settings": settings,
        "model": seeds[name].short_key(),
    }


def run_seed_cv(
    problem: Problem, train: np.ndarray, test: np.ndarray, seed: int, ctx: Context
) -> dict[str, Any]:
    X, factor, seeds = search_input(problem, ctx.quick)
    search = skevonas_estimator(ctx.quick, seed)
    folds = StratifiedKFold(search.cv or 3, shuffle=True, random_state=seed)
    start = time.perf_counter()
    scores = {  # with one seed there is nothing to choose: no cross-validation
        name: cross_val_score(
            genome_classifier(genome, ctx.quick, seed),
            X[train],
            problem.y[train],
            cv=folds,
            scoring=search.scoring,
            n_jobs=-1,
        ).tolist()
        for name, genome in seeds.items()
        if len(seeds) > 1
    }
    cv_s = time.perf_counter() - start
    chosen = max(scores, key=lambda name: float(np.mean(scores[name]))) if scores else [*seeds][0]
    refit = ctx.rows.get((f"seed:{chosen}", problem.name, ctx.resample, seed))
    if refit is None:
        refit = run_seed(chosen, problem, train, test, seed, ctx)
        assert refit is not None  # chosen among the seeds this problem's space holds
        refit_s, reused = refit["wall_s"], False
        kept = {"predictions": refit["predictions"], "proba": refit["proba"]}
    else:
        refit_s, reused = refit["wall_s"], True
        kept = {"predictions": refit["predictions"], "proba": decode_proba(refit["proba"])}
    return {
        **kept,
        "wall_s": cv_s + refit_s,
        "cv_s": cv_s,
        "refit_s": refit_s,
        "refit_reused": reused,
        "n_evaluations": len(scores) * folds.get_n_splits() + 1,
        "cv_scores": scores,
        "chosen": chosen,
        "decimation": factor,
        "settings": {
            "folds": folds.get_n_splits(),
            "shuffle": True,
            "scoring": jsonable(search.scoring),
            "random_state": seed,
            "seeds": {name: genome.to_dict() for name, genome in seeds.items()},
            "refit": "the seed:<chosen> row's GenomeClassifier",
        },
        "model": seeds[chosen].short_key(),
    }


def rocket_settings(method: str) -> dict[str, Any]:
    if method == "minirocket":
        import peers

        return peers.minirocket_settings()
    return {
        "model": "aeon MultiRocketHydraClassifier (defaults: n_kernels 8, n_groups 64)",
        "n_jobs": 1,
        "dtype": "float64",
    }


def fit_rocket(method: str, X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """aeon's MiniRocket (``bench/peers.py``) or MultiRocketHydra, seeded, one job, float64."""
    if method == "minirocket":
        import peers

        return peers.fit_minirocket(X, y, seed)
    from aeon.classification.convolution_based import MultiRocketHydraClassifier

    return MultiRocketHydraClassifier(random_state=seed, n_jobs=1).fit(X.astype(np.float64), y)


def warm_up_rockets(methods: Sequence[str]) -> None:
    """Compile numba's kernels once, before anything is timed."""
    rng = np.random.default_rng(0)
    for method in methods:
        if method in ("minirocket", "multirockethydra"):
            fit_rocket(method, rng.normal(size=(20, 2, 64)), np.repeat([0, 1], 10), 0)


def run_peer(
    method: str, problem: Problem, train: np.ndarray, test: np.ndarray, seed: int, ctx: Context
) -> dict[str, Any] | None:
    if problem.sfreq is None:  # not an EEG set
        return None
    import peers

    X_train, y_train, X_test = problem.X[train], problem.y[train], problem.X[test]
    n_classes = len(problem.classes)
    start = time.perf_counter()
    if method in ("minirocket", "multirockethydra"):
        model = fit_rocket(method, X_train, y_train, seed)
        wall = time.perf_counter() - start
        return {
            **predictions(model, X_test.astype(np.float64), n_classes),
            "wall_s": wall,
            "n_evaluations": 1,
            "settings": rocket_settings(method),
            "model": f"{method} (aeon)",
        }
    model = peers.fit_peer(method, X_train, y_train, problem.sfreq, seed, ctx.peer_epochs)
    wall = time.perf_counter() - start
    with peers.torch_threads(peers.RECIPE["torch_threads"]):
        found = predictions(model, X_test, n_classes)
    return {
        **found,
        "wall_s": wall,
        "n_evaluations": 1,
        "settings": jsonable(peers.peer_settings(method, ctx.peer_epochs, problem.sfreq)),
        "model": peers.describe_peer(model),
    }


@dataclass
class Context:
    """What a row needs besides its data: the run's settings and the rows so far."""

    quick: bool
    peer_epochs: int
    rows: dict[tuple[str, str, int, int], dict[str, Any]]
    config: dict[str, Any]
    resample: int = 0
    max_time: float | None = None


def run_row(
    method: str, problem: Problem, resample: int, seed: int, ctx: Context
) -> dict[str, Any] | None:
    """Fit one method on one resample; ``None`` where it does not apply or cannot run yet."""
    train, test = stratified_resample(problem.y, problem.n_train, resample)
    ctx.resample = resample
    if method in SEARCH_METHODS:
        result = run_search(method, problem, train, test, seed, ctx)
    elif method in SEED_METHODS:
        result = run_seed(method.split(":", 1)[1], problem, train, test, seed, ctx)
    elif method == "seed-cv":
        result = run_seed_cv(problem, train, test, seed, ctx)
    else:
        result = run_peer(method, problem, train, test, seed, ctx)
    if result is None:
        return None
    y_test = problem.y[test]
    predicted, proba = np.asarray(result.pop("predictions")), np.asarray(result.pop("proba"))
    return {
        "method": method,
        "dataset": problem.name,
        "resample": resample,
        "seed": seed,
        "config": ctx.config,
        "test_accuracy": float(np.mean(predicted == y_test)),
        "log_loss": log_loss(y_test, proba),
        "ece": expected_calibration_error(y_test, proba),
        **result,
        "n_train": len(train),
        "n_test": len(test),
        "test_hash": index_hash(test),
        "classes": list(problem.classes),
        "y_test": y_test.tolist(),
        "predictions": predicted.tolist(),
        "proba": encode_proba(proba),
        "sfreq": problem.sfreq,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
    }


# --------------------------------------------------------------------------- results file
Key = tuple[str, str, int, int]


def row_key(row: dict[str, Any]) -> Key:
    return row["method"], row["dataset"], int(row["resample"]), int(row["seed"])


def read_rows(path: Path) -> dict[Key, dict[str, Any]]:
    """The rows of a JSON-lines file by (method, data set, resample, seed); later rows win."""
    rows: dict[Key, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row_key(row)] = row
    return rows


def run_config(quick: bool, peer_epochs: int) -> dict[str, Any]:
    """What all rows of one results file share: a file holds one configuration."""
    return {
        "quick": quick,
        "quick_settings": QUICK if quick else None,
        "peer_epochs": peer_epochs,
        "fashion_subset": list(QUICK_FASHION) if quick else None,
    }


def settings_key(row: dict[str, Any]) -> str:
    """A row's settings without what varies by seed or resample, as a comparable string."""
    settings = dict(row.get("settings", {}))
    settings.pop("random_state", None)
    for name, default in ADDED_SETTINGS.items():
        if settings.get(name, default) == default:
            settings.pop(name, None)
    if row["method"] == "random":
        settings.pop("population_size", None)  # the skevonas row's n_evaluations_
    return json.dumps({"config": row["config"], "settings": settings}, sort_keys=True)


def check_comparable(rows: Sequence[dict[str, Any]]) -> None:
    """Refuse rows of several configurations, or one method run with several settings.

    Raises
    ------
    ValueError
        Naming the configurations, or the data set and method whose settings differ.
    """
    configs = {json.dumps(row["config"], sort_keys=True) for row in rows}
    if len(configs) > 1:
        raise ValueError(
            f"the rows hold {len(configs)} configurations ({sorted(configs)}); "
            "tabulate each results file on its own"
        )
    by_method: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        by_method[row["dataset"], row["method"]].add(settings_key(row))
    mixed = [
        f"{method} on {dataset}" for (dataset, method), keys in by_method.items() if len(keys) > 1
    ]
    if mixed:
        raise ValueError(
            f"rows of {', '.join(sorted(mixed))} were run with different settings; "
            "rerun them (--rerun) or tabulate them apart"
        )


# --------------------------------------------------------------------------- report
Blocks = dict[tuple[int, int], dict[str, dict[str, Any]]]


def blocks_of(rows: Sequence[dict[str, Any]]) -> dict[str, Blocks]:
    """Rows by data set, then by (resample, seed) block, then by method; one test part per block.

    Raises
    ------
    PairingError
        If two rows of one block were scored on different test trials.
    """
    out: dict[str, Blocks] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        out[row["dataset"]][row["resample"], row["seed"]][row["method"]] = row
    for blocks in out.values():
        for block in blocks.values():
            first, *rest = block.values()
            for row in rest:
                paired_correct(first, row)
    return out


def complete_methods(blocks: Blocks, methods: Sequence[str]) -> list[str]:
    return [method for method in methods if all(method in block for block in blocks.values())]


def score_matrix(blocks: Blocks, methods: Sequence[str]) -> np.ndarray:
    keys = sorted(blocks)
    return np.array([[blocks[key][m]["test_accuracy"] for m in methods] for key in keys])


def seed_count(group: Sequence[dict[str, Any]]) -> str:
    if "unchanged_seed" not in group[0]:
        return "-"
    names = Counter(row["seed_name"] for row in group if row["unchanged_seed"])
    detail = ", ".join(f"{name} {count}" for name, count in names.most_common())
    return f"{sum(names.values())}/{len(group)}" + (f" ({detail})" if detail else "")


def summary_table(name: str, blocks: Blocks, methods: Sequence[str]) -> list[str]:
    complete = complete_methods(blocks, methods)
    ranks = {}
    if len(complete) > 1:
        ranks = dict(zip(complete, average_ranks(score_matrix(blocks, complete)), strict=True))
    lines = [
        f"| {name} | blocks | test acc. mean ± std | log loss | ECE | wall s | mean rank "
        "| final = seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in methods:
        group = [block[method] for _, block in sorted(blocks.items()) if method in block]
        if not group:
            continue
        acc = np.array([row["test_accuracy"] for row in group])
        rank = f"{ranks[method]:.2f}" if method in ranks else "-"
        lines.append(
            f"| {method} | {len(group)} | {acc.mean():.4f} ± {acc.std():.4f} "
            f"| {np.mean([row['log_loss'] for row in group]):.3f} "
            f"| {np.mean([row_ece(row) for row in group]):.3f} "
            f"| {np.mean([row['wall_s'] for row in group]):.0f} | {rank} | {seed_count(group)} |"
        )
    return lines


def difference_table(blocks: Blocks, methods: Sequence[str], reference: str) -> list[str]:
    keys = sorted(blocks)
    columns = " | ".join(f"r{resample} s{seed}" for resample, seed in keys)
    lines = [
        f"| method − {reference} | {columns} | mean | only {reference} right "
        "| only method right | McNemar p |",
        "|---|" + "---|" * (len(keys) + 4),
    ]
    for method in methods:
        if method == reference:
            continue
        cells, ours, theirs = [], [], []
        for key in keys:
            block = blocks[key]
            if method in block and reference in block:
                a, b = paired_correct(block[reference], block[method])
                ours.append(a)
                theirs.append(b)
                cells.append(f"{b.mean() - a.mean():+.4f}")
            else:
                cells.append("")
        if not ours:
            continue
        only_ref, only_method, p = mcnemar_exact(np.concatenate(ours), np.concatenate(theirs))
        mean = np.mean([b.mean() - a.mean() for a, b in zip(ours, theirs, strict=True)])
        lines.append(
            f"| {method} | {' | '.join(cells)} | {mean:+.4f} | {only_ref} | {only_method} "
            f"| {p:.3g} |"
        )
    return lines


def friedman_line(scores: np.ndarray) -> str:
    result = friedman(scores)
    return (
        f"Friedman over N = {result['n_blocks']} blocks, k = {result['n_methods']} methods: "
        f"chi2 = {result['chi2']:.2f}, p = {result['p']:.3g}; Iman-Davenport F = "
        f"{result['F']:.2f}, p = {result['p_F']:.3g}"
    )


def cd_text(methods: Sequence[str], ranks: np.ndarray, cd: float, n_blocks: int) -> list[str]:
    """The critical-difference diagram as text: methods by rank, groups as letters."""
    order = np.argsort(ranks, kind="stable")
    sorted_ranks = [float(ranks[i]) for i in order]
    groups = cd_groups(sorted_ranks, cd)
    lines = [
        f"Nemenyi critical difference at alpha {ALPHA} for k = {len(methods)}, N = {n_blocks}: "
        f"CD = {cd:.3f} (q = {nemenyi_q(len(methods)):.3f}); methods that share a letter "
        "differ by less than CD in mean rank",
        "",
        "| mean rank | method | groups |",
        "|---|---|---|",
    ]
    for position, index in enumerate(order):
        letters = "".join(
            chr(ord("A") + g) for g, (lo, hi) in enumerate(groups) if lo <= position <= hi
        )
        lines.append(f"| {sorted_ranks[position]:.2f} | {methods[index]} | {letters} |")
    return lines


def draw_cd_diagram(
    path: Path, methods: Sequence[str], ranks: np.ndarray, cd: float, title: str
) -> None:
    """A critical-difference diagram (Demšar, 2006, Fig. 1) in SVG, PNG or PDF by suffix."""
    from matplotlib.figure import Figure

    k = len(methods)
    order = list(np.argsort(ranks, kind="stable"))
    sorted_ranks = [float(ranks[i]) for i in order]
    half = (k + 1) // 2
    rows_per_side = max(half, k - half)
    span = max(k - 1, 1)
    low, high = 1 - 0.45 * span, k + 0.45 * span
    figure = Figure(figsize=(9, 1.6 + 0.32 * rows_per_side))
    ax = figure.add_axes((0.02, 0.02, 0.96, 0.86))
    ax.set_axis_off()
    ax.set_xlim(low, high)
    ax.set_ylim(-(rows_per_side + 0.4), 1.6)
    ax.plot([1, k], [0, 0], color="black", linewidth=1)
    for tick in range(1, k + 1):
        ax.plot([tick, tick], [0, 0.15], color="black", linewidth=1)
        ax.text(tick, 0.25, str(tick), ha="center", va="bottom", fontsize=9)
    ax.plot([1, 1 + cd], [1.05, 1.05], color="black", linewidth=2)
    ax.text(1 + cd / 2, 1.15, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    for position, index in enumerate(order):
        rank = sorted_ranks[position]
        left = position < half
        depth = -(position + 1) if left else -(k - position)
        end = low + 0.02 * span if left else high - 0.02 * span
        ax.plot([rank, rank, end], [0, depth, depth], color="black", linewidth=0.8)
        label = f"{methods[index]} ({rank:.2f})"
        ax.text(end, depth + 0.08, label, ha="left" if left else "right", va="bottom", fontsize=9)
    for g, (lo, hi) in enumerate(
        group for group in cd_groups(sorted_ranks, cd) if group[0] < group[1]
    ):
        y = -0.35 - 0.25 * g
        ax.plot(
            [sorted_ranks[lo] - 0.05, sorted_ranks[hi] + 0.05], [y, y], color="red", linewidth=3
        )
    ax.set_title(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)


def report(
    rows: Sequence[dict[str, Any]],
    methods: Sequence[str],
    reference: str,
    diagram: Path | None,
) -> None:
    """Print the Markdown report of ``rows`` (and draw the diagram to ``diagram``)."""
    if not rows:
        print("\nNo rows to tabulate.")
        return
    check_comparable(rows)
    data = blocks_of(rows)
    print("\n## Tables\n")
    config = rows[0]["config"]
    print(f"- configuration: {json.dumps(config)}")
    print("- blocks: (resample, seed); std over blocks with ddof 0; wall: seconds of `fit`")
    print("- mean rank: within each block over the methods that have every block, 1 best")
    print(f"- ECE: expected calibration error of the top-class probability, {ECE_BINS} bins")
    print_machines(list(rows))
    for name, blocks in data.items():
        print(f"\n### {name}\n")
        print("\n".join(summary_table(name, blocks, methods)))
        if reference in methods and any(reference in block for block in blocks.values()):
            print(f"\nAgainst {reference}: accuracy difference per block, McNemar pooled:\n")
            print("\n".join(difference_table(blocks, methods, reference)))
        complete = complete_methods(blocks, methods)
        if len(complete) > 1 and len(blocks) > 1 and len(data) > 1:  # else: as below
            print(f"\n{friedman_line(score_matrix(blocks, complete))}")
    overall(data, methods, diagram)
    level = seed_level_table(rows)
    if level:
        print("\n### Time to the seed's level (rows with an arrival trace)\n")
        print("\n".join(level))


def seed_level_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per traced row: when a genome that is no seed matched the best seed's holdout.

    The ratio is that time (from the search's start) over the best seed's own
    training time in the same search; the target is at most 2.
    """
    lines = [
        "| data set | method | block | best seed's holdout | its training s "
        "| a non-seed genome matched it at s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        found = time_to_seed_level(row)
        if found is None:
            continue
        score, seconds, at = found
        when, ratio = ("never", "-") if at is None else (f"{at:.0f}", f"{at / seconds:.2f}")
        lines.append(
            f"| {row['dataset']} | {row['method']} | r{row['resample']} s{row['seed']} "
            f"| {score:.4f} | {seconds:.0f} | {when} | {ratio} |"
        )
    return lines if len(lines) > 2 else []


def overall(data: dict[str, Blocks], methods: Sequence[str], diagram: Path | None) -> None:
    """Friedman and the critical-difference diagram over all (data set, resample, seed) blocks."""
    every = [block for blocks in data.values() for block in blocks.values()]
    common = [method for method in methods if all(method in block for block in every)]
    dropped = [m for m in methods if m not in common and any(m in block for block in every)]
    print(f"\n### All data sets: {len(every)} blocks\n")
    if dropped:
        print(f"- left out (missing in some block): {', '.join(dropped)}")
    if len(common) < 2 or len(every) < 2:
        print("- too few methods or blocks for Friedman's test and the diagram")
        return
    scores = np.array([[block[m]["test_accuracy"] for m in common] for block in every])
    ranks = average_ranks(scores)
    cd = critical_difference(len(common), len(every))
    print(f"- {friedman_line(scores)}\n")
    print("\n".join(cd_text(common, ranks, cd, len(every))))
    if diagram is not None:
        title = f"Mean rank over {len(every)} blocks ({', '.join(data)}); Nemenyi CD {cd:.2f}"
        draw_cd_diagram(diagram, common, ranks, cd, title)
        print(f"\n- diagram written to {diagram}")


# --------------------------------------------------------------------------- main
def row_line(row: dict[str, Any], note: str = "") -> str:
    extra = ""
    if "unchanged_seed" in row:
        extra = f"  {row['n_evaluations']} trained, seed unchanged: {row['unchanged_seed']}"
    if "chosen" in row:
        extra = (
            f"  chose {row['chosen']} (cv {row['cv_s']:.0f} s, refit reused {row['refit_reused']})"
        )
    return (
        f"  r{row['resample']} s{row['seed']} {row['method']:<16} test {row['test_accuracy']:.4f}"
        f"  log loss {row['log_loss']:.3f}  ECE {row_ece(row):.3f}  {row['wall_s']:7.1f} s"
        f"  {row['model'][:60]}"
        f"{extra}{note}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DEFAULT_DATASETS))
    parser.add_argument("--resamples", type=int, default=5, help="K for the EEG sets (default 5)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--only", type=int, nargs="+", help="run only these resamples (of the first --resamples)"
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--reference", choices=METHODS, default="skevonas")
    parser.add_argument(
        "--epochs", type=int, default=None, help=f"braindecode peers' epochs ({DEFAULT_EPOCHS})"
    )
    parser.add_argument("--results", type=Path, help=f"JSON-lines rows (default {RESULTS})")
    parser.add_argument("--rerun", action="store_true", help="rerun rows already in --results")
    parser.add_argument("--table-only", action="store_true", help="tabulate --results, run nothing")
    parser.add_argument(
        "--over",
        type=Path,
        nargs="+",
        default=[],
        help="with --table-only: more results files whose rows replace --results' rows of the "
        "same method, data set, resample and seed (e.g. rows of later code)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        nargs="+",
        default=[],
        help="with --table-only: results files of earlier code (later files' rows replace "
        "earlier ones') whose rows tabulate beside the others as '<method> (before)'",
    )
    parser.add_argument("--diagram", type=Path, help="write the critical-difference diagram here")
    parser.add_argument("--quick", action="store_true", help="smoke test only (see the docstring)")
    parser.add_argument(
        "--max-time", type=float, help="the searches' max_time in seconds (default: none)"
    )
    args = parser.parse_args()
    if args.resamples < 1:
        parser.error(f"--resamples must be at least 1, got {args.resamples!r} instead")
    outside = [r for r in args.only or () if not 0 <= r < args.resamples]
    if outside:
        parser.error(f"--only must name resamples in [0, {args.resamples - 1}], got {outside}")
    args.epochs = args.epochs or (QUICK_PEER_EPOCHS if args.quick else DEFAULT_EPOCHS)
    args.results = args.results or (QUICK_RESULTS if args.quick else RESULTS)
    args.methods = [method for method in METHODS if method in args.methods]
    lacking = {
        method: [name for name in NEEDS.get(method, ()) if find_spec(name) is None]
        for method in args.methods
    }
    missing = sorted({name for names in lacking.values() for name in names})
    if missing and not args.table_only:
        wanting = [method for method, names in lacking.items() if names]
        parser.error(
            f"methods {wanting} need {missing}, which this environment lacks: install "
            "skevonas's bench extra (pip install -e '.[bench]') into an environment of its "
            "own and run them there, or leave them out of --methods"
        )
    return args


def main() -> None:
    args = parse_args()
    rows = read_rows(args.results)
    config = run_config(args.quick, args.epochs)
    if args.table_only:
        for path in args.over:
            rows.update(read_rows(path))
        methods = list(args.methods)
        earlier_rows: dict[Key, dict[str, Any]] = {}
        for path in args.before:
            earlier_rows.update(read_rows(path))
        for key, row in earlier_rows.items():
            if key[0] in args.methods:
                earlier = f"{key[0]} (before)"
                rows[(earlier, *key[1:])] = {**row, "method": earlier}
                if earlier not in methods:
                    methods.insert(methods.index(key[0]) + 1, earlier)
        selected = [
            row
            for row in rows.values()
            if row["dataset"] in args.datasets
            and row["method"] in methods
            and row["seed"] in args.seeds
            and row["resample"] < args.resamples
        ]
        report(selected, methods, args.reference, args.diagram)
        return
    others = {json.dumps(row["config"], sort_keys=True) for row in rows.values()} - {
        json.dumps(config, sort_keys=True)
    }
    if others:
        raise SystemExit(
            f"{args.results} holds rows of another configuration ({sorted(others)}); "
            "write these rows to another --results file"
        )
    ctx = Context(args.quick, args.epochs, rows, config, max_time=args.max_time)
    print("## Machine\n")
    print("\n".join(f"- {key}: {value}" for key, value in machine().items()))
    print(f"\n- configuration: {json.dumps(config)}\n- results: {args.results}")
    warm_up_rockets(args.methods)
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # failed candidates: counted
    warnings.filterwarnings("ignore", message="Using padding='same'")  # EEGNeX, harmless
    done = []
    for name in args.datasets:
        problem = load_problem(name, args.quick)
        k = n_resamples(problem, args.resamples)
        print(
            f"\n## {name}: {problem.n_train} train, {len(problem.y) - problem.n_train} test, "
            f"{k} resample(s), X {problem.X.shape[1:]}",
            flush=True,
        )
        for resample in [r for r in range(k) if args.only is None or r in args.only]:
            for seed in args.seeds:
                for method in args.methods:
                    key = (method, name, resample, seed)
                    if key in rows and not args.rerun:
                        print(row_line(rows[key], " (from the results file)"), flush=True)
                        done.append(rows[key])
                        continue
                    row = run_row(method, problem, resample, seed, ctx)
                    if row is None:  # not for this data set, or random before its skevonas row
                        if method == "random":
                            print(
                                f"  r{resample} s{seed} random           skipped: needs the "
                                "skevonas row first",
                                flush=True,
                            )
                        continue
                    rows[key] = row
                    append_row(args.results, row)
                    done.append(row)
                    print(row_line(row), flush=True)
    report(done, args.methods, args.reference, args.diagram)


if __name__ == "__main__":
    main()
