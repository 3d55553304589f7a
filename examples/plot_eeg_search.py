"""
Evolve an EEG network and compare it with ShallowConvNet and EEGNet
===================================================================

Search the EEG search space for the SelfRegulationSCP1 slow-cortical-potential
data bundled with skevonas, then score the result once on the archive's test
split, which the search never sees. The first generation is seeded with
ShallowConvNet and EEGNet-8,2 at the data's sampling rate, and the same two
networks, trained the same way, are the baselines. The budget is small so the
example runs in a couple of minutes on 2 CPU cores; ``bench/eeg.py`` runs the
full comparison.
"""

import pandas as pd

from skevonas import EvolutionaryNASClassifier, GenomeClassifier
from skevonas.datasets import load_eeg
from skevonas.spaces.eeg_space import eegnet_genome, shallow_convnet_genome

# Slow cortical potentials need no 256 Hz: decimate (anti-aliased) to 64 Hz.
data = load_eeg("SelfRegulationSCP1", max_sfreq=64)
print(data.origin)
print(f"train {data.X_train.shape}, test {data.X_test.shape}, {data.sfreq:g} Hz")

standard = [shallow_convnet_genome(sfreq=data.sfreq), eegnet_genome(sfreq=data.sfreq)]
clf = EvolutionaryNASClassifier(
    population_size=8,
    n_generations=3,
    max_epochs=30,
    patience=6,
    initial_genomes=standard,
    n_jobs=-1,
    random_state=0,
    verbose=1,
)
clf.fit(data.X_train, data.y_train)

# %%
# The final model (one network, or a weighted ensemble of the best few), its
# cross-validated accuracy estimate and its test accuracy.
print(clf.describe())
print(f"evolved network: test accuracy {clf.score(data.X_test, data.y_test):.3f}")

# %%
# The two standard networks, each alone, trained as the search trains a
# candidate: same epochs and early stopping on a validation part of the
# training data, then a refit.
space = clf.search_space_
for name, genome in zip(["ShallowConvNet", "EEGNet-8,2"], standard, strict=True):
    fixed = GenomeClassifier(space.repair(genome), max_epochs=30, patience=6, random_state=0)
    fixed.fit(data.X_train, data.y_train)
    print(f"{name}: test accuracy {fixed.score(data.X_test, data.y_test):.3f}")

# %%
# Every generation and every trained candidate load into pandas.
history = pd.DataFrame(clf.history_)
print(history[["generation", "best", "mean", "std", "n_evaluated", "cache_hits", "elapsed"]])
evaluations = pd.DataFrame(clf.evaluations_)
print(evaluations[["generation", "key", "score", "best_epoch", "n_params", "fit_time"]].head())

# %%
# The best genome (the final model's first member) is plain JSON: store it
# and rebuild it later.
print(clf.best_genome_.to_json(indent=1))
