"""class_weight (issue 30, part 5): weighted cross-entropy for candidates and refits.

``"balanced"`` weights come from the labels each network trains on
(scikit-learn's ``compute_class_weight``), a dict sets them by label; the
scores stay unweighted; ``search_meta`` records the setting, so a resume
with another one is refused.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight
from skorch.callbacks import Callback

from skevonas import EvolutionaryNASClassifier, Genome, GenomeClassifier, LayerGene
from skevonas.store.checkpoint import CheckpointError
from skevonas.training.recipe import Recipe, make_net

MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 16, "activation": "relu", "dropout": 0.0})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)
TINY_SEARCH = {
    "population_size": 2,
    "n_generations": 1,
    "max_epochs": 2,
    "n_finalists": 2,
    "cv": 2,
    "initial_genomes": None,
    "random_state": 0,
}
SEEN: list[tuple[np.ndarray | None, np.ndarray]] = []  # (loss weights, labels) per training


class RecordLossWeights(Callback):
    """Keeps the loss's class weights and the labels of every training it sees."""

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        weight = net.criterion_.weight
        labels = y if isinstance(y, np.ndarray) else np.asarray(y.cpu())
        SEEN.append((None if weight is None else weight.cpu().numpy(), labels))


@pytest.fixture
def imbalanced():
    """Two overlapping classes, 10 % of them "rare", with string labels."""
    rng = np.random.default_rng(0)
    y = np.where(np.arange(200) % 10 == 0, "rare", "common")
    X = rng.normal(size=(200, 4)) + (y == "rare")[:, None] * 0.8
    return X, y


# --------------------------------------------------------------------------- the weights
def test_balanced_weights_are_scikit_learns():
    y = np.array([0, 0, 0, 0, 1, 2, 2])
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    np.testing.assert_allclose(Recipe(class_weight="balanced").loss_weights(y, 3), expected)
    net = make_net(
        MLP,
        (4,),
        3,
        max_epochs=1,
        input_stats=None,
        device="cpu",
        net_params={},
        class_weights=expected,
    ).initialize()
    np.testing.assert_allclose(net.criterion_.weight.numpy(), expected, rtol=1e-6)
    plain = make_net(MLP, (4,), 3, max_epochs=1, input_stats=None, device="cpu", net_params={})
    assert plain.initialize().criterion_.weight is None


@pytest.mark.parametrize("estimator", ["genome", "search"])
def test_every_network_weighs_the_labels_it_trains_on(imbalanced, estimator):
    X, y = imbalanced
    SEEN.clear()
    net_params = {"callbacks": [("record", RecordLossWeights())]}
    if estimator == "genome":
        GenomeClassifier(
            MLP, max_epochs=1, class_weight="balanced", net_params=net_params, random_state=0
        ).fit(X, y)
        assert len(SEEN) == 2  # the internal training part, then all of X
    else:
        EvolutionaryNASClassifier(
            **TINY_SEARCH, class_weight="balanced", net_params=net_params
        ).fit(X, y)
        assert len(SEEN) >= 2 + 2 * 2 + 1  # candidates, folds, refit
    sizes = set()
    for weight, labels in SEEN:
        expected = compute_class_weight("balanced", classes=np.arange(2), y=labels)
        np.testing.assert_allclose(weight, expected, rtol=1e-6)
        sizes.add(len(labels))
    assert len(X) in sizes and len(sizes) > 1  # parts and all of X, each its own weights


def test_a_dict_sets_the_weights_by_label_and_missing_labels_weigh_one(imbalanced):
    X, y = imbalanced
    SEEN.clear()
    net_params = {"callbacks": [("record", RecordLossWeights())]}
    GenomeClassifier(
        MLP,
        max_epochs=1,
        validation_fraction=None,
        class_weight={"rare": 4.0},
        net_params=net_params,
    ).fit(X, y)
    ((weight, _),) = SEEN
    np.testing.assert_allclose(weight, [1.0, 4.0])  # classes_ == ["common", "rare"]


def test_balanced_weights_make_the_rare_class_predicted(imbalanced):
    X, y = imbalanced
    settings = {"max_epochs": 20, "validation_fraction": None, "random_state": 0}
    plain = GenomeClassifier(MLP, **settings).fit(X, y)
    weighted = GenomeClassifier(MLP, class_weight="balanced", **settings).fit(X, y)
    rare_plain = (plain.predict(X) == "rare").sum()
    rare_weighted = (weighted.predict(X) == "rare").sum()
    assert rare_weighted > rare_plain + 10


def test_the_scores_stay_unweighted(imbalanced):
    # class_weight changes the loss, not the scoring: the holdout scores are accuracies
    X, y = imbalanced
    clf = GenomeClassifier(MLP, max_epochs=1, class_weight="balanced", random_state=0).fit(X, y)
    n_valid = int(np.ceil(0.2 * len(y)))
    assert clf.validation_score_ * n_valid == pytest.approx(
        round(clf.validation_score_ * n_valid), abs=1e-6
    )


# --------------------------------------------------------------------------- bad values
@pytest.mark.parametrize(
    "value", ["auto", {"rare": -1.0}, {"rare": "2"}, {"rare": float("nan")}, [1.0, 2.0]]
)
@pytest.mark.parametrize("clf", [EvolutionaryNASClassifier(), GenomeClassifier(MLP)])
def test_bad_class_weights_are_refused_with_the_others(clf, value):
    clf.set_params(class_weight=value, max_epochs=0)
    with pytest.raises(ValueError) as refused:
        clf.check_settings()
    message = str(refused.value)
    assert 'class_weight must be None, "balanced" or a dict {label: weight}' in message
    assert f"got {value!r} instead" in message
    assert "max_epochs must be an int >= 1" in message  # all in one message


def test_a_dict_with_an_unknown_label_is_refused_and_changes_nothing(imbalanced):
    X, y = imbalanced
    clf = GenomeClassifier(MLP, max_epochs=1, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(class_weight={"rare": 2.0, "other": 1.0})
    with pytest.raises(ValueError, match=r"class_weight has labels that are not classes.*other"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    with pytest.raises(ValueError, match="not classes"):
        EvolutionaryNASClassifier(**TINY_SEARCH, class_weight={"nope": 1.0}).fit(X, y)


# --------------------------------------------------------------------------- resume
def test_search_meta_records_class_weight_and_a_resume_with_another_is_refused(imbalanced):
    X, y = imbalanced
    clf = EvolutionaryNASClassifier(**TINY_SEARCH, class_weight="balanced").fit(X, y)
    assert clf.search_state_.meta["settings"]["class_weight"] == "balanced"
    clf.set_params(warm_start=True, n_generations=2, class_weight=None)
    with pytest.raises(CheckpointError, match="class_weight"):
        clf.fit(X, y)
