"""
Watch, kill, resume and export a search
=======================================

A search runs in a separate process with a checkpoint folder, and is killed
with SIGKILL in the middle of its third generation, as a crash or a cluster's
pre-emption would. ``warm_start=True`` then resumes it from the checkpoint:
the generations already finished and the candidates journaled before the
kill are not trained again. The result is plotted, exported to TorchScript
(and ONNX when ``skevonas[onnx]`` is installed), checked against the
estimator, and the best genome is retrained from its JSON on other data.

Run from anywhere: ``python examples/plot_watch_resume_export.py [OUT]``
writes its files to ``OUT`` (default ``skevonas-example-output``). On 2 CPU
cores it takes under a minute.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skevonas import EarlyStopping, EvolutionaryNASClassifier, GenomeClassifier
from skevonas.datasets import load_eeg
from skevonas.store.checkpoint import load_checkpoint, load_journal

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skevonas-example-output")
folder = out / "checkpoint"
out.mkdir(parents=True, exist_ok=True)

# The thesis's plain 1-D CNN space: cheap candidates, so the example runs in
# under a minute (docs/watch_resume_export.md is a recorded run of it).
SETTINGS = dict(
    search_space="cnn1d",
    population_size=8,
    n_generations=5,
    max_epochs=25,
    patience=5,
    random_state=0,
)

# %%
# Start the search in its own process (``verbose=2``: a progress bar and a
# line per generation), and kill it once generation 2 has begun and two of
# its candidates are journaled.
script = textwrap.dedent(
    f"""
    from skevonas import EvolutionaryNASClassifier
    from skevonas.datasets import load_eeg
    data = load_eeg("SelfRegulationSCP1")
    X = data.X_train[:, :, ::4]  # 64 Hz is plenty for slow cortical potentials
    EvolutionaryNASClassifier(**{SETTINGS!r}, checkpoint_dir={str(folder)!r},
                              verbose=2).fit(X, data.y_train)
    """
)
search = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def relay(lines):
    """Print the search's lines here (so that the docs' gallery shows them too)."""
    for line in lines:
        print(line, end="", flush=True)


relay_thread = threading.Thread(target=relay, args=(search.stdout,), daemon=True)
relay_thread.start()
while True:
    time.sleep(0.5)
    if search.poll() is not None:
        raise SystemExit("the search ended before it could be killed")
    try:
        state = load_checkpoint(folder)
    except Exception:  # not written yet
        continue
    journaled = set(load_journal(folder)) - {r.key for r in state.records}
    if state.generation >= 1 and len(journaled) >= 2:
        break
os.kill(search.pid, signal.SIGKILL)
search.wait()
relay_thread.join()
print(
    f"\nkilled with SIGKILL (exit status {search.returncode}) during generation "
    f"{state.generation + 1}: {len(state.records)} evaluations checkpointed, "
    f"{len(journaled)} more journaled"
)

# %%
# Resume. ``EarlyStopping`` could end it early; here it lets all 5 generations run.
data = load_eeg("SelfRegulationSCP1")
X, X_test = data.X_train[:, :, ::4], data.X_test[:, :, ::4]
clf = EvolutionaryNASClassifier(
    **SETTINGS,
    checkpoint_dir=folder,
    warm_start=True,
    callbacks=[EarlyStopping(patience=3)],
    verbose=2,
)
clf.fit(X, data.y_train)
history = pd.DataFrame(clf.history_)
print(history[["generation", "best", "mean", "std", "n_evaluated", "cache_hits", "n_failed"]])
trained_after = clf.n_evaluations_ - len(state.records) - len(journaled)
print(
    f"resumed: {trained_after} candidates trained after the kill, "
    f"{clf.n_evaluations_} in all; stop reason: {clf.stop_reason_}"
)
print(clf.describe())
print(f"test accuracy: {clf.score(X_test, data.y_test):.3f}")

# %%
# The plots: fitness per generation, score against size, learning curves.
try:
    from skevonas.plots import plot_search
except ImportError:  # pragma: no cover
    plot_search = None
else:
    figure = plot_search(clf)
    figure.savefig(out / "search.png", dpi=110)
    print(f"plots written to {out / 'search.png'}")

# %%
# Export the final model (every member of an ensemble) and check the exports
# against the estimator.
proba = clf.predict_proba(X_test)
clf.to_torchscript(out / "best.pt")
scripted = torch.jit.load(out / "best.pt")
with torch.no_grad():
    exported = scripted(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
print("TorchScript max |difference| from predict_proba:", np.abs(exported - proba).max())
try:
    import onnxruntime

    clf.to_onnx(out / "best.onnx")
    session = onnxruntime.InferenceSession(str(out / "best.onnx"))
    (onnx_proba,) = session.run(None, {session.get_inputs()[0].name: X_test.astype(np.float32)})
    print("ONNX max |difference| from predict_proba:", np.abs(onnx_proba - proba).max())
except ImportError:
    print('ONNX export skipped: pip install "skevonas[onnx]"')

# %%
# The best genome (the final model's first member) as JSON, rebuilt into a
# classifier and trained on another data set with the same sample shape (no
# new search).
(out / "best_genome.json").write_text(clf.best_genome_.to_json(indent=1))
genome = json.loads((out / "best_genome.json").read_text())
other = load_eeg("SelfRegulationSCP2")
X2, X2_test = other.X_train[:, :6, ::4], other.X_test[:, :6, ::4]
reuse = GenomeClassifier(genome, max_epochs=25, patience=5, random_state=0)
print(
    f"same architecture on SelfRegulationSCP2 (first 6 channels, as SCP1 has 6): "
    f"test accuracy {reuse.fit(X2, other.y_train).score(X2_test, other.y_test):.3f}"
)
