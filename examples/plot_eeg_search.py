"""
Evolve a CNN for EEG epochs
===========================

Search a 1-D CNN for the SelfRegulationSCP1 slow-cortical-potential data
bundled with skevonas, then score it once on the archive's test split, which
the search never sees. The budget here is small so the example runs in about
a minute on 2 CPU cores; ``skevonas demo`` runs the full default budget.
"""

import pandas as pd

from skevonas import EvolutionaryNASClassifier
from skevonas.datasets import load_eeg

data = load_eeg("SelfRegulationSCP1")
print(data.origin)
print("train", data.X_train.shape, "test", data.X_test.shape)

clf = EvolutionaryNASClassifier(
    population_size=8,
    n_generations=4,
    max_epochs=30,
    patience=6,
    n_jobs=-1,
    random_state=0,
    verbose=1,
)
clf.fit(data.X_train, data.y_train)

# %%
# The best architecture, its validation score and its test accuracy.
print(clf.describe())
print(f"test accuracy: {clf.score(data.X_test, data.y_test):.3f}")

# %%
# Every generation and every trained candidate load into pandas.
history = pd.DataFrame(clf.history_)
print(history[["generation", "best", "mean", "std", "n_evaluated", "cache_hits", "elapsed"]])
evaluations = pd.DataFrame(clf.evaluations_)
print(evaluations[["generation", "key", "score", "best_epoch", "n_params", "fit_time"]].head())

# %%
# The genome is plain JSON: store it and rebuild it later.
print(clf.best_genome_.to_json(indent=1))
