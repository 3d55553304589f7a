"""
Cross-validate a Pipeline on EEG band-power features
=====================================================

Turn EEG epochs into log band-power features (one per channel and band),
scale them, and let skevonas evolve an MLP on them inside a scikit-learn
``Pipeline``, scored with ``cross_val_score``.
"""

from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skevonas import EvolutionaryNASClassifier
from skevonas.datasets import band_power, load_eeg

data = load_eeg("SelfRegulationSCP1")
features = band_power(data.X_train, data.sfreq)
print("features:", features.shape)

pipe = make_pipeline(
    StandardScaler(),
    EvolutionaryNASClassifier(
        population_size=6,
        n_generations=3,
        max_epochs=30,
        standardize=False,
        n_jobs=-1,
        random_state=0,
    ),
)
scores = cross_val_score(pipe, features, data.y_train, cv=5)
print(f"5-fold accuracy: {scores.mean():.3f} +/- {scores.std():.3f}")
