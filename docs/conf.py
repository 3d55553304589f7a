"""Sphinx configuration for the skevonas documentation.

Build (from the repository root, with ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

That runs the gallery examples in ``examples/`` (about 2 minutes on 2 CPU
cores); add ``-D plot_gallery=0`` to build the pages without running them.
The API pages under ``docs/generated/`` and the gallery under
``docs/auto_examples/`` are written by the build and are not tracked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The checkout's package, even when another skevonas is installed (also for
# the processes the examples start); and the helper module named in
# sphinx_gallery_conf below.
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(DOCS.parent), os.environ.get("PYTHONPATH")) if p
)
# No tqdm progress bars (verbose=1) in the gallery: sphinx-gallery captures
# stderr too, and every redraw of a bar would become a line of the page.
os.environ.setdefault("TQDM_DISABLE", "1")

import skevonas  # noqa: E402

# -- Project -------------------------------------------------------------------
project = "skevonas"
author = "The skevonas developers"
copyright = "The skevonas developers"
release = skevonas.__version__
version = release

# -- General -------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True  # stub pages go to docs/generated/ (not tracked)
autosummary_imported_members = False
# Members are listed by the class template (_templates/autosummary/class.rst),
# so that module pages show the module docstring only.
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types
autodoc_class_signature = "mixed"
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Links into other projects' docs need their inventories from the internet,
# which CI machines may not reach: opt in with SKEVONAS_DOCS_INTERSPHINX=1.
intersphinx_mapping = {}
if os.environ.get("SKEVONAS_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# -- MyST (the Markdown pages: design, benchmarks, watch / resume / export) ----
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- sphinx-gallery --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    # plot_watch_resume_export.py takes an output folder as its argument.
    "reset_argv": "gallery_argv.reset_argv",
    "doc_module": ("skevonas",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": False,
    "min_reported_time": 1,
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skevonas {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"changelog": [], "benchmarks": [], "getting_started": []}


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out class members that scikit-learn adds to every estimator.

    (``get_metadata_routing``, ``set_score_request``...: their docstrings
    refer to scikit-learn's own glossary.)
    """
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and callable(obj) and module.startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
