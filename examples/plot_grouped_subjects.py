"""
Keep subjects apart: a search whose estimate holds on new subjects
==================================================================

Trials of one subject (or session, or recording) resemble each other more
than trials of two subjects do. A search that scores its candidates on a
random holdout has seen other trials of the very subjects it is scored on,
so its estimate (``best_score_``) overstates what the network does on a
subject it has never seen. Passing the subject of every trial as ``groups``
makes every internal split of the search (the candidates' holdouts and the
finalists' cross-validation folds) keep each subject on one side.

The data is simulated (:func:`skevonas.datasets.make_subjects`): each subject
has an offset of its own, a class pattern of its own, and a weaker class
pattern that all subjects share. Only the shared pattern helps on a new
subject.
"""

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.model_selection import GroupKFold, cross_validate

from skevonas import EvolutionaryNASClassifier
from skevonas.datasets import make_subjects

X, y, subjects = make_subjects(n_subjects=18, n_trials=40, random_state=0)
search, new = subjects < 12, subjects >= 12  # 6 subjects the search never sees
print(f"{len(y)} trials of {len(np.unique(subjects))} subjects, {X.shape[1]} features each")


def make_search():
    return EvolutionaryNASClassifier(
        population_size=4, n_generations=2, max_epochs=10, cv=3, random_state=0
    )


# %%
# The same search twice on the first 12 subjects: once with a random
# holdout, once with ``groups``. Each estimate is the finalists'
# cross-validated score; the truth is the score on the 6 new subjects.
results = {}
for name, groups in (("random holdout", None), ("groups=subjects", subjects[search])):
    clf = make_search().fit(X[search], y[search], groups=groups)
    results[name] = (clf.best_score_, clf.score(X[new], y[new]))
    print(f"{name:>16}: estimate {results[name][0]:.3f}, new subjects {results[name][1]:.3f}")

# %%
# The random holdout's estimate is far above what the network does on new
# subjects; the grouped estimate is close to it.
fig, ax = plt.subplots(figsize=(6, 3.5))
names = list(results)
positions = np.arange(len(names))
ax.bar(positions - 0.2, [results[n][0] for n in names], 0.4, label="search's estimate")
ax.bar(positions + 0.2, [results[n][1] for n in names], 0.4, label="new subjects")
ax.set_xticks(positions, names)
ax.set_ylim(0.4, 1.0)
ax.set_ylabel("accuracy")
ax.legend(loc="upper right")
fig.tight_layout()

# %%
# Cross-validation by subject, with scikit-learn's metadata routing: the
# splitter and the search both get ``groups`` from ``params`` (the search
# asks for them by default), so the inner estimate of every outer fold is
# made on whole subjects as well. Without routing, pass
# ``groups=subjects`` to ``cross_validate`` itself, beside ``params``.
with sklearn.config_context(enable_metadata_routing=True):
    outer = cross_validate(
        make_search().set_params(population_size=2, n_generations=1),
        X,
        y,
        cv=GroupKFold(3),
        params={"groups": subjects},
        return_estimator=True,
    )
for fold, (est, score) in enumerate(zip(outer["estimator"], outer["test_score"], strict=True)):
    print(f"outer fold {fold}: inner estimate {est.best_score_:.3f}, new subjects {score:.3f}")
