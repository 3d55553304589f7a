"""Command-line arguments for the gallery examples when the docs build runs them.

sphinx-gallery runs every example in the build's own process, in the
``examples/`` folder, with the arguments this function returns (see
``reset_argv`` in ``docs/conf.py``). ``plot_watch_resume_export.py`` (a
checkpoint folder, exported models and a figure) and
``plot_standalone_export.py`` (a standalone PyTorch export) write their files
into the folder named by their first argument; in the docs build that folder
lies in the temporary directory, so the build writes nothing into the checkout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

OUTPUT_DIR = Path(tempfile.gettempdir()) / "skevonas-gallery-output"


def reset_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    """Arguments (after the script name) for the example in ``script_vars["src_file"]``."""
    name = Path(script_vars["src_file"]).name
    if name == "plot_watch_resume_export.py":
        return [str(OUTPUT_DIR / "watch_resume_export")]
    if name == "plot_standalone_export.py":
        return [str(OUTPUT_DIR / "standalone_export")]
    return []
