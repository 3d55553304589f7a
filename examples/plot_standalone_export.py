"""
A model that runs without skevonas
==================================

A small EEG search on SelfRegulationSCP1 (the estimator decimates the epochs
inside the model), then :meth:`~skevonas.EvolutionaryNASClassifier.to_pytorch`
writes a folder that needs only torch, numpy and safetensors: ``model.py``
(readable PyTorch code generated from the genome, and ``load``),
``model.safetensors`` (the weights), ``config.json`` (classes, input shape and
steps, genomes) and ``README.md`` (a model card). A fresh Python interpreter
loads it and predicts the test epochs, with the class labels, as the
estimator does.

Run from anywhere: ``python examples/plot_standalone_export.py [OUT]`` writes
the folder into ``OUT`` (default: a temporary folder). On 2 CPU cores it takes
well under a minute. The same folder comes from the command line:
``skevonas export model.skevonas OUT --format pytorch``.
"""

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skevonas import EvolutionaryNASClassifier
from skevonas.datasets import load_eeg

out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="skevonas-"))

# %%
# A quick search: 64 Hz epochs (every 4th sample), decimated by 2 more inside
# the model, so the exported network must take the data at 64 Hz too.
data = load_eeg("SelfRegulationSCP1")
X_train, X_test = data.X_train[:, :, ::4], data.X_test[:, :, ::4]
clf = EvolutionaryNASClassifier(
    search_space="eeg",
    population_size=4,
    n_generations=2,
    max_epochs=5,
    cv=None,
    decimate=2,
    random_state=0,
).fit(X_train, data.y_train)
print(clf.describe())

# %%
# Export. ``overwrite=True`` replaces an earlier export in the same folder.
folder = clf.to_pytorch(out / "scp1-pytorch", overwrite=True)
print(sorted(p.name for p in folder.iterdir()))
config = json.loads((folder / "config.json").read_text())
print("input:", config["input"], "classes:", config["classes"]["values"])
print(*config["preprocessing"]["steps"], sep="\n")

# %%
# The network, as ``model.py`` writes it: one class, its layers named after
# the genes they come from, and a plain ``forward``.
source = (folder / "model.py").read_text()
start = (
    source.index("class Member0") if "class Member0" in source else source.index("class Network")
)
print(source[start : source.index("\n\n\n", start)])

# %%
# A fresh interpreter (``-I``: no user site, no environment variables, not
# the current folder) imports ``model.py`` from the folder and predicts.
np.save(out / "X_test.npy", X_test)
script = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import model
    clf = model.load(sys.argv[1])
    X = np.load(sys.argv[2])
    np.save(sys.argv[3], clf.predict_proba(X))
    print(json.dumps(clf.predict(X)[:5].tolist()))
    """
)
result = subprocess.run(
    [
        sys.executable,
        "-I",
        "-B",
        "-c",
        script,
        str(folder),
        str(out / "X_test.npy"),
        str(out / "proba.npy"),
    ],
    capture_output=True,
    text=True,
    check=True,
)
standalone = np.load(out / "proba.npy")
proba = clf.predict_proba(X_test)
print("first labels from the standalone model:", result.stdout.strip())
print("max |difference| from predict_proba:", np.abs(standalone - proba).max())
print(f"test accuracy: {clf.score(X_test, data.y_test):.3f}")

# %%
# The two sets of probabilities of the first class, one point per test epoch.
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(proba[:, 0], standalone[:, 0], s=8)
ax.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
ax.set_xlabel(f"estimator: P({clf.classes_[0]})")
ax.set_ylabel(f"standalone model.py: P({clf.classes_[0]})")
fig.tight_layout()
plt.show()
