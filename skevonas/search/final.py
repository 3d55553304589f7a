"""From a finished search to the final model: finalists, cross-validation, ensemble, refit.

The search ranks candidates by one holdout score each, which is noisy on
small data and, once many candidates are compared, optimistic. So the
final model is chosen in three steps after the search (:func:`final_model`):

1. the ``n_finalists`` best distinct genomes by holdout score are re-scored
   by stratified ``cv``-fold cross-validation on all the search's samples,
   every finalist on the same folds; their mean fold score is their
   ``cv_score``, and their out-of-fold class probabilities are kept;
2. greedy ensemble selection (Caruana et al., 2004:
   :func:`~skevonas.training.ensemble.greedy_selection`) on those out-of-fold
   probabilities picks up to ``ensemble_size`` members and their weights;
3. each member is refitted on all the data, in parallel, and the members
   become one :class:`~skevonas.training.ensemble.EnsembleModule` (behind a
   :class:`~skevonas.spaces.builders.layers.Decimate` front when the search ran on
   decimated data).

With several CPU workers, the refit of the best holdout finalist starts in
step 1, beside the folds (a speculative refit, the search's own guess at
the winner: :meth:`~skevonas.search.pipeline.CandidatePipeline.can_refit_alongside`). It
is kept when that finalist leads the final model and thrown away otherwise;
either way the final model is the one a refit after step 2 would give.

The ensemble's out-of-fold score is the search's estimate of its accuracy.

Data flows one way: ``SearchState`` and the pipeline in, a :class:`FinalModel` out.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import get_scorer

from ..evolution.records import EvaluationRecord, SearchState
from ..spaces.builders.layers import Decimate
from ..spaces.genome import Genome
from ..store.weights import WeightsError, unpack_weights
from ..training.calibration import fit_temperature
from ..training.candidate import net_from_weights
from ..training.ensemble import EnsembleModule, accuracy, ensemble_net, greedy_selection
from .budget import FinalStage
from .display import Display
from .pipeline import CandidatePipeline, RefitPlan

__all__ = [
    "FinalModel",
    "calibration_temperature",
    "SearchFailedError",
    "final_model",
    "finalists",
    "proba_scorer",
    "shorter_schedule",
    "winner",
    "SHORTEST_REFIT",
    "SHORT_REFIT_MARGIN",
]

logger = logging.getLogger(__name__)


class SearchFailedError(RuntimeError):
    """Every candidate of a search failed, so there is no model to refit.

    A :class:`RuntimeError`. Its message gives the errors the candidates
    reported, or says that the time ran out before any candidate finished.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skevonas import EvolutionaryNASClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = EvolutionaryNASClassifier(population_size=2, n_generations=1, max_time=1e-6)
    >>> try:
    ...     clf.fit(X, y)  # the time is up before the first candidate starts
    ... except SearchFailedError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    no candidate finished training (...); raise max_time or lower the budget per candidate
    """


def winner(state: SearchState) -> EvaluationRecord:
    """The search's best record: the best full-budget one, else the best partial one.

    ``fit`` calls it to fail clearly when there is nothing to refit.

    Parameters
    ----------
    state : SearchState
        The finished search.

    Returns
    -------
    record : EvaluationRecord

    Raises
    ------
    SearchFailedError
        If no candidate finished training, or all of them failed.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evolution.records import EvaluationRecord, SearchState
    >>> state = SearchState("mlp", population_size=2, n_generations=1)
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> state.add(EvaluationRecord(g, float("nan"), 0, 0, status="failed", info={"error": "x"}))
    >>> winner(state)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    skevonas.search.final.SearchFailedError: all 1 candidates failed, ... Errors seen: x
    """
    best = state.best
    if best is None and (best := state.best_partial()) is not None:
        warnings.warn(
            f"no candidate trained for its full budget before the search ended "
            f"({state.stop_reason}); refitting the best partial one, scored after "
            f"{best.info.get('epochs')} epochs",
            RuntimeWarning,
            stacklevel=3,
        )
    if best is not None:
        return best
    if not state.records:
        raise SearchFailedError(
            f"no candidate finished training ({state.stop_reason}); "
            "raise max_time or lower the budget per candidate"
        )
    errors = sorted({str(r.info.get("error")) for r in state.records})
    raise SearchFailedError(
        f"all {len(state.records)} candidates failed, so there is no model to "
        f"refit. Errors seen: {'; '.join(errors[:5])}"
    )


class _Predictions(ClassifierMixin, BaseEstimator):
    """Stands for a model whose class probabilities are known, so sklearn scorers can score them."""

    def __init__(self, proba: Any = None) -> None:
        self.proba = proba

    def fit(self, X: Any, y: Any) -> _Predictions:  # noqa: D102 - never trained
        return self

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: D102
        return self.proba

    def predict(self, X: Any) -> np.ndarray:  # noqa: D102
        return np.argmax(self.proba, axis=1)


def proba_scorer(scoring: Any, n_classes: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """``score(proba, y)``: the search's ``scoring`` applied to known class probabilities.

    Accuracy is computed directly; any other scikit-learn scorer (name or
    callable) scores a stand-in estimator that returns ``proba``.

    Examples
    --------
    >>> import numpy as np
    >>> proba, y = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]), np.array([0, 1, 1])
    >>> proba_scorer("accuracy", 2)(proba, y)
    0.6666666666666666
    >>> round(proba_scorer("neg_log_loss", 2)(proba, y), 4)
    -0.4987
    """
    if scoring == "accuracy":
        return accuracy
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    classes = np.arange(n_classes)

    def score(proba: np.ndarray, y: np.ndarray) -> float:
        # float32 probabilities sum to 1 only within rounding; scorers check
        proba = proba / proba.sum(axis=1, keepdims=True)
        stand_in = _Predictions(proba)
        stand_in.classes_ = classes
        return float(scorer(stand_in, np.zeros((len(y), 1)), y))

    return score


@dataclass
class FinalModel:
    """What :func:`final_model` returns.

    Parameters
    ----------
    genomes : list of Genome
        The members, best cross-validated first.
    weights : list of float
        Their weights (positive, summing to 1).
    score : float
        The ensemble's out-of-fold score (or, without cross-validation, the
        best holdout score).
    net : skorch.NeuralNetClassifier
        The refitted model: one member's net, or an ensemble's.
    finalists : list of dict
        One row per finalist: ``genome``, ``holdout_score``, ``cv_score``,
        ``cv_scores`` and ``weight``.
    epochs : list of int
        Epochs each member was refitted for.
    trained : list of int
        Epochs each member's refit trained (fewer when the time ran out).
    losses : list of list of float
        Each member's training loss per epoch of its refit.
    note : str or None, default=None
        Why the final model is not what the plan said (``max_time`` left no
        time to refit: the best candidate as the search trained it), or None.
    temperature : float, default=1.0
        The temperature that calibrates the final model's probabilities
        (:func:`calibration_temperature`); 1.0 when not asked for or
        without out-of-fold probabilities.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> g = Genome("mlp", [LayerGene("dense", {"units": 8})])
    >>> FinalModel([g], [1.0], 0.9, net=None).weights
    [1.0]
    """

    genomes: list[Genome]
    weights: list[float]
    score: float
    net: Any
    finalists: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    trained: list[int] = field(default_factory=list)
    losses: list[list[float]] = field(default_factory=list)
    note: str | None = None
    temperature: float = 1.0


def finalists(state: SearchState, k: int) -> list[EvaluationRecord]:
    """The ``k`` best distinct genomes that trained their full budget, best first.

    Falls back to the best partial record when none trained its full budget.

    Examples
    --------
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.evolution.records import EvaluationRecord, SearchState
    >>> state = SearchState("mlp", population_size=3, n_generations=1)
    >>> genomes = [Genome("mlp", [LayerGene("dense", {"units": n})]) for n in (4, 8, 16)]
    >>> for i, (g, s) in enumerate(zip(genomes, (0.7, 0.9, 0.8))):
    ...     state.add(EvaluationRecord(g, s, 0, i))
    >>> [r.score for r in finalists(state, 2)]
    [0.9, 0.8]
    """
    done = sorted((r for r in state.records if r.ok), key=lambda r: (-r.score, r.index))
    out: list[EvaluationRecord] = []
    seen: set[str] = set()
    for record in done:
        key = record.genome.key()
        if key not in seen:
            seen.add(key)
            out.append(record)
        if len(out) == k:
            break
    if not out and (partial := state.best_partial()) is not None:
        out = [partial]
    return out


def _refit_epochs(record: EvaluationRecord, refit_epochs: int | None) -> int:
    """Epochs of the refit of ``record``'s genome: ``refit_epochs``, else its peak epoch."""
    return int(refit_epochs or record.info.get("best_epoch") or record.info.get("epochs", 1))


def final_model(
    pipeline: CandidatePipeline,
    records: Sequence[EvaluationRecord],
    X: np.ndarray,
    y: np.ndarray,
    *,
    stage: FinalStage,
    refit_epochs: int | None,
    standardize: bool,
    seed: int,
    decimation: int = 1,
    stop_at: float | None = None,
    display: Display | None = None,
) -> FinalModel:
    """Cross-validate the finalists, select an ensemble, refit its members.

    The pipeline's budget plans the cross-validation from the finalists'
    measured training times
    (:meth:`~skevonas.search.budget.SearchBudget.plan_final`): with
    ``max_time``, it runs only when its folds and then the refit fit in the
    time left, and its folds must end in time for the refit. A
    cross-validation planned away is said once, as information (through
    ``display``); one that ran and produced no score (its trainings failed
    or were cut) is a warning.

    Parameters
    ----------
    pipeline : CandidatePipeline
        The search's pipeline, still open (its workers run the folds and refits).
    records : sequence of EvaluationRecord
        The finalists, best holdout score first (:func:`finalists`).
    X, y : ndarray
        All the training data the search saw (decimated), labels encoded.
    stage : FinalStage
        ``folds``: folds of the finalists' cross-validation (None, or a
        single finalist, skips it: the best holdout score wins alone);
        ``members``: selection steps of the greedy ensemble (1: the best
        finalist alone); ``calibrate``: fit the final model's temperature
        on its out-of-fold probabilities (:func:`calibration_temperature`).
    refit_epochs : int or None
        Epochs of every refit; None refits each member for the epoch at
        which its search training peaked (early stopping).
    standardize : bool
        Whether the networks standardise their input with the statistics of ``X``.
    seed : int
        The fit's refit seed (the folds' seed is derived from it).
    decimation : int, default=1
        The factor ``X`` was decimated by; above 1, the final module
        decimates its input first.
    stop_at : float or None, default=None
        A :func:`time.time` value: refits stop after the epoch during which
        it passes (the folds end earlier, as planned).
    display : Display or None, default=None
        Shows the plan's notes and the progress of the folds and refits.

    Returns
    -------
    final : FinalModel

    Examples
    --------
    >>> import numpy as np
    >>> from skevonas import Genome, LayerGene
    >>> from skevonas.search.pipeline import CandidatePipeline
    >>> from skevonas.training.candidate import CandidateData
    >>> from skevonas.training.recipe import Recipe
    >>> from skevonas.evolution.records import EvaluationRecord
    >>> X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> records = [
    ...     EvaluationRecord(Genome("mlp", [LayerGene("dense", {"units": n, "activation": "relu"})],
    ...                             {"lr": 0.01}), 0.9, 0, i)
    ...     for i, n in enumerate((4, 16))
    ... ]
    >>> pipeline = CandidatePipeline(CandidateData(X[:48], y[:48], X[48:], y[48:], 2),
    ...                              Recipe(max_epochs=5), entropy=0)
    >>> with pipeline:
    ...     final = final_model(pipeline, records, X, y, stage=FinalStage(2, folds=3, members=2),
    ...                         refit_epochs=5, standardize=True, seed=0)
    >>> sorted(final.finalists[0]), round(sum(final.weights), 6)
    (['cv_score', 'cv_scores', 'genome', 'holdout_score', 'weight'], 1.0)
    >>> final.net.predict_proba(X[:2]).shape
    (2, 2)
    """
    seeds = np.random.SeedSequence(seed).generate_state(len(records) + 1)
    rows: list[dict[str, Any]] = [
        {"genome": r.genome, "holdout_score": float(r.score)} for r in records
    ]
    weights = np.zeros(len(records))
    weights[0] = 1.0
    score = float(records[0].score)
    guess = 0  # the best holdout finalist, refitted beside the folds as if it will lead
    guessed: Any = None
    oof: list[np.ndarray | None] = [None] * len(records)  # out-of-fold probabilities
    ensemble_size = stage.members
    show = display if display is not None else Display(0)
    plan = pipeline.budget.plan_final(len(records), stage)
    folds = plan.folds
    if plan.note is not None:
        show.note(plan.note)
    if folds:
        plan_refit = RefitPlan(
            X, y, _refit_epochs(records[guess], refit_epochs), standardize, seed, stop_at
        )
        alongside = {guess: plan_refit} if pipeline.can_refit_alongside() else None
        what = f"cross-validating {len(records)} finalists, {folds} folds each" + (
            " (and the likeliest winner's refit, alongside)" if alongside else ""
        )
        n = len(records) * folds + len(alongside or ())
        with show.step(what, n, plan.seconds[0] if plan.seconds else None) as advance:
            results = pipeline.cross_validate(
                [r.genome for r in records],
                folds,
                int(seeds[-1]),
                alongside=alongside,
                deadline=plan.fold_end,
                progress=advance,
            )
        guessed = results[guess].get("net")
        oof = [result["oof_proba"] for result in results]
        for row, result in zip(rows, results, strict=True):
            row["cv_score"], row["cv_scores"] = result["cv_score"], result["cv_scores"]
        # out-of-fold probabilities follow the pipeline's sample order, not X's
        y_oof = pipeline.data.labels()
        usable = [i for i, result in enumerate(results) if result["oof_proba"] is not None]
        if usable:
            # best cross-validated first: the greedy selection breaks ties by order
            usable.sort(key=lambda i: -results[i]["cv_score"])
            score_of = proba_scorer(pipeline.recipe.scoring, pipeline.data.n_classes)
            chosen = greedy_selection(
                [results[i]["oof_proba"] for i in usable], y_oof, ensemble_size, score_of
            )
            weights = np.zeros(len(records))
            weights[usable] = chosen
            mixed = sum(w * results[i]["oof_proba"] for i, w in zip(usable, chosen, strict=True))
            score = score_of(mixed, y_oof)
        else:
            errors = sorted({e for result in results for e in result["errors"]})
            warnings.warn(
                "no finalist finished its cross-validation (its trainings failed or "
                f"max_time cut them: {'; '.join(errors[:3]) or 'no error given'}); the best "
                "holdout score picks the final model alone",
                RuntimeWarning,
                stacklevel=3,
            )
    members = sorted(
        (i for i in range(len(records)) if weights[i] > 0),
        key=lambda i: (-weights[i], -float(rows[i].get("cv_score", -math.inf)), i),
    )
    # the speculative refit counts only where it is what refit_all would train
    done = [guessed] if guessed is not None and members[0] == guess else []
    best = records[members[0]]
    short = (
        None
        if done
        else shorter_schedule(pipeline, best, _refit_epochs(best, refit_epochs), stop_at)
    )
    kept = None if done or short else _kept_network(pipeline, best, stop_at)
    note = None
    if kept is not None:  # no time to refit: the best member alone, as the search trained it
        done, note = [kept[0]], kept[1]
    elif short is not None:  # time for a shorter whole schedule: the best member alone
        note = short[1]
    if note is not None:
        warnings.warn(note, RuntimeWarning, stacklevel=3)
        members = members[:1]
        weights = np.zeros(len(records))
        weights[members[0]] = 1.0
    for i, row in enumerate(rows):
        row["weight"] = float(weights[i])
    epochs = [_refit_epochs(records[i], refit_epochs) for i in members]
    if kept is not None:
        epochs = [int(best.info.get("epochs") or 1)]  # as the search trained it
    elif short is not None:
        epochs = [short[0]]
    member_seeds = [seed] + [int(s) for s in seeds[1 : len(members)]]
    start = time.perf_counter()
    nets = list(done)
    if len(members) > len(done):
        todo = [records[i].genome for i in members[len(done) :]]
        what = (
            f"refitting {len(todo)}{' more' if done else ''} "
            f"{'member' if len(todo) == 1 else 'members'} on all {len(y)} samples"
        )
        with show.step(what, len(todo), pipeline.budget.refit_seconds(todo)) as advance:
            nets += pipeline.refit_all(
                todo,
                X,
                y,
                epochs=epochs[len(done) :],
                standardize=standardize,
                seeds=member_seeds[len(done) :],
                stop_at=stop_at,
                progress=advance,
                # a shorter whole schedule: the learning rate anneals over the epochs it can afford
                schedule=None if short is None else short[0],
            )
    logger.info(
        "refitted %d member(s) on all %d samples in %.1f s%s",
        len(members),
        len(y),
        time.perf_counter() - start,
        ", the first one alongside the cross-validation" if done else "",
    )
    member_weights = [float(weights[i]) for i in members]
    temperature = 1.0
    if stage.calibrate:
        temperature = calibration_temperature(
            [oof[i] for i in members], member_weights, pipeline.data.labels()
        )
    trained = [len(n.history) for n in nets] if kept is None else epochs
    for genome_index, planned, got in zip(members, epochs, trained, strict=True):
        if got < planned and stop_at is not None:
            warnings.warn(
                f"max_time was up during the refit: {records[genome_index].genome.short_key()} "
                f"was refitted for {got} of its {planned} epochs",
                RuntimeWarning,
                stacklevel=3,
            )
    if len(nets) == 1 and decimation == 1:
        net = nets[0]
    else:
        module = EnsembleModule(
            [n.module_ for n in nets],
            member_weights,
            Decimate(decimation) if decimation > 1 else None,
        )
        net = ensemble_net(module, pipeline.data.n_classes, device=pipeline.devices.main)
        net.module_.eval()
    return FinalModel(
        genomes=[records[i].genome for i in members],
        weights=member_weights,
        score=score,
        net=net,
        finalists=rows,
        epochs=epochs,
        trained=trained,
        losses=[[float(v) for v in n.history[:, "train_loss"]] if n.history else [] for n in nets],
        note=note,
        temperature=temperature,
    )


def calibration_temperature(
    oof: Sequence[np.ndarray | None], weights: Sequence[float], y: np.ndarray
) -> float:
    """The temperature of the final model, from its members' out-of-fold probabilities.

    The final model's out-of-fold probabilities are its members' weighted
    mean (one member: its own); the temperature minimises their log loss
    (:func:`~skevonas.training.calibration.fit_temperature`). The rule
    when there is nothing to fit it on: 1.0 (no calibration) when a
    member has no out-of-fold probabilities, i.e. when the cross-validation
    did not run (``cv=None``, a single finalist, no time for it under
    ``max_time``) or that member's folds failed.

    Parameters
    ----------
    oof : sequence of ndarray or None
        Each member's out-of-fold class probabilities, in the order of ``y``.
    weights : sequence of float
        The members' weights.
    y : ndarray
        The labels, encoded.

    Returns
    -------
    temperature : float

    Examples
    --------
    >>> import numpy as np
    >>> oof = [np.array([[0.99, 0.01]] * 4), np.array([[0.9, 0.1]] * 4)]
    >>> t = calibration_temperature(oof, [0.5, 0.5], np.array([0, 0, 0, 1]))
    >>> t > 1, calibration_temperature([None], [1.0], np.array([0, 1]))
    (True, 1.0)
    """
    if not oof or any(p is None for p in oof):
        return 1.0
    mixed = np.sum(
        [w * np.asarray(p, dtype=np.float64) for p, w in zip(oof, weights, strict=True)], axis=0
    )
    return fit_temperature(mixed / mixed.sum(axis=1, keepdims=True), y)


#: The shortest refit :func:`shorter_schedule` plans, as a share of the planned epochs.
SHORTEST_REFIT = 0.5
#: The margin on the estimated time of a shorter refit. Smaller than the
#: budget's: a refit that runs over stops at ``max_time`` in its last epochs,
#: where the cosine schedule's rate is near zero.
SHORT_REFIT_MARGIN = 1.1


def shorter_schedule(
    pipeline: CandidatePipeline, record: EvaluationRecord, epochs: int, stop_at: float | None
) -> tuple[int, str] | None:
    """Fewer refit epochs that ``max_time`` can afford, as a whole schedule, and a note; or None.

    When the refit of ``record``'s genome for its ``epochs`` (estimated from
    its own training, times the budget's margin) would not end by
    ``stop_at``, but at least :data:`SHORTEST_REFIT` of them would (times
    :data:`SHORT_REFIT_MARGIN`), the
    refit trains on all the data for as many epochs as fit, with the
    learning-rate schedule laid over those epochs (a whole, shorter
    schedule, not one cut off). None when the full refit fits, when even
    that share does not (then :func:`_kept_network` may keep the search's
    network), or without ``max_time`` or a measured cost.

    Examples
    --------
    >>> import time
    >>> from types import SimpleNamespace
    >>> from skevonas import Genome
    >>> from skevonas.evolution import EvaluationRecord
    >>> from skevonas.search.budget import SearchBudget
    >>> budget = SearchBudget(None, margin=1.0)
    >>> record = EvaluationRecord(Genome("mlp", []), 0.9, 0, 0)
    >>> budget.keep_for_final(record.genome, {"score": 0.9, "fit_time": 100.0, "epochs": 100})
    >>> pipeline = SimpleNamespace(budget=budget)
    >>> epochs, note = shorter_schedule(pipeline, record, 100, time.time() + 77.5)
    >>> epochs
    70
    >>> shorter_schedule(pipeline, record, 100, time.time() + 50) is None  # under half
    True
    >>> shorter_schedule(pipeline, record, 100, time.time() + 200) is None  # the whole fits
    True
    """
    need = pipeline.budget.refit_seconds([record.genome])
    if stop_at is None or need is None or need <= 0 or epochs < 2:
        return None
    left = stop_at - time.time()
    if need * pipeline.budget.margin <= left:
        return None
    affordable = int(left / (SHORT_REFIT_MARGIN * need / epochs))
    if affordable < math.ceil(SHORTEST_REFIT * epochs):
        return None
    note = (
        f"max_time leaves {max(0.0, left):.0f} s and the refit of {record.genome.short_key()} "
        f"for its {epochs} epochs would take about {need:.0f} s: it is refitted on all the data "
        f"for {affordable} epochs, with its learning-rate schedule laid over those {affordable}"
    )
    return affordable, note


def _kept_network(
    pipeline: CandidatePipeline, record: EvaluationRecord, stop_at: float | None
) -> tuple[Any, str] | None:
    """``record``'s network as the search trained it, if ``max_time`` leaves no time to refit it.

    With ``max_time`` the search keeps its population's trained weights
    (:class:`~skevonas.search.lineage.Lineage`). When the refit of the best
    member on all the data (estimated from its own training, times the
    budget's margin) would not end by ``stop_at``, not even as the shorter
    schedule of :func:`shorter_schedule`, its kept network, trained on the
    training part, is the final model instead of a refit cut to a sliver of
    its schedule. None otherwise (time enough, or nothing kept).
    """
    lineage, genome = pipeline.lineage, record.genome
    need = pipeline.budget.refit_seconds([genome])
    if stop_at is None or lineage is None or need is None:
        return None
    left = stop_at - time.time()
    blob = lineage.store.get(genome.short_key())
    if need * pipeline.budget.margin <= left or blob is None:
        return None
    try:
        kept, state, _ = unpack_weights(blob)
    except WeightsError:
        return None
    if kept != genome:
        return None
    data = pipeline.data
    net = net_from_weights(
        genome,
        state,
        tuple(data.X_train.shape[1:]),
        data.n_classes,
        input_stats=data.input_stats,
        recipe=pipeline.recipe,
        device=pipeline.devices.main,
    )
    note = (
        f"max_time leaves {max(0.0, left):.0f} s and the refit of {genome.short_key()} on all "
        f"the data would take about {need:.0f} s: the final model is that candidate as the "
        f"search trained it, on its training part ({len(data.y_train)} of "
        f"{len(data.y_train) + len(data.y_valid)} samples; holdout score {record.score:.4f})"
    )
    return net, note
