"""scikit-learn's estimator checks, with a tiny search budget."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from skevonas import EvolutionaryNASClassifier

# Checks that cannot pass by design, each with its reason.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def _estimators():
    return [
        EvolutionaryNASClassifier(
            population_size=2,
            n_generations=1,
            max_epochs=20,
            patience=20,
            random_state=0,
        )
    ]


@parametrize_with_checks(_estimators(), expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
