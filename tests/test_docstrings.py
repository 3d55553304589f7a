"""Every public class, function and method has a numpydoc docstring with Examples.

"Public" means: each name in the ``__all__`` of :mod:`skevonas` and of the
public modules below (the modules of the API reference), and the public
methods of each public class, including those it inherits from other
skevonas classes (``predict``, ``to_onnx``... of the classifiers, the hooks of
:class:`~skevonas.SearchCallback`).

Exempt, and why:

- data constants in ``__all__`` (``SPACES``, ``FAMILIES``, ``EEG_BANDS``, ``__version__``...):
  a dict or a str cannot carry a docstring of its own;
- properties and dataclass fields: they are attributes, described in one
  line (or in the class's Parameters / Attributes), with nothing to call;
- private (``_name``) and special (``__name__``) members;
- members a class inherits from scikit-learn, torch or Python itself
  (``get_params``, ``score``, ``nn.Module.forward``'s API, ``Exception``'s):
  their docstrings are not ours.

A method that overrides a documented skevonas method without a docstring of
its own is checked with the docstring it inherits (:func:`inspect.getdoc`),
which is also what the API reference shows.

The Examples themselves run as doctests (``--doctest-modules``). The plain
check below needs nothing beyond pytest; the stricter one, which parses each
docstring with numpydoc, runs where numpydoc is installed (the ``test`` and
``docs`` extras).
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import pytest

PUBLIC_MODULES = (
    "skevonas",
    "skevonas.spaces.domains",
    "skevonas.spaces.shapes",
    "skevonas.spaces.space",
    "skevonas.spaces.catalogue",
    "skevonas.spaces.families",
    "skevonas.spaces.eeg_space",
    "skevonas.training.augment",
    "skevonas.spaces.presets",
    "skevonas.spaces.presets.keras",
    "skevonas.evolution.operators",
    "skevonas.evolution.records",
    "skevonas.evolution.ga",
    "skevonas.evolution.runner",
    "skevonas.evolution.fidelity",
    "skevonas.evolution.generational",
    "skevonas.evolution.asynchronous",
    "skevonas.evolution.callbacks",
    "skevonas.store.checkpoint",
    "skevonas.store.weights",
    "skevonas.store.export",
    "skevonas.store.standalone",
    "skevonas.store.pytorch_source",
    "skevonas.store.model_card",
    "skevonas.store.modelfile",
    "skevonas.saving",
    "skevonas.store.model_document",
    "skevonas.cli.files",
    "skevonas.epochs",
    "skevonas.plots",
    "skevonas.datasets",
    "skevonas.datasets.fashion_mnist",
    "skevonas.spaces.builders",
    "skevonas.spaces.networks",
    "skevonas.training.candidate",
    "skevonas.training.inherit",
    "skevonas.training.groups",
    "skevonas.datasets.subjects",
    "skevonas.training.runtime",
    "skevonas.search.pipeline",
    "skevonas.search.pool",
    "skevonas.search.budget",
    "skevonas.search.display",
    "skevonas.search.strategies",
    "skevonas.training.recipe",
    "skevonas.training.calibration",
    "skevonas.training.devices",
    "skevonas.training.tasks",
    "skevonas.search.final",
    "skevonas.training.ensemble",
    "skevonas.store.ensemble_entry",
    "skevonas.prepare",
    "skevonas.settings",
    "skevonas.store.resume",
    "skevonas.store.journal",
    "skevonas.store.checkpoint_checks",
    "skevonas.store.folderlock",
)

# numpydoc's section names, in the order of its style guide (a class's
# Attributes and Methods come right after its Parameters).
SECTIONS = (
    "Parameters",
    "Attributes",
    "Methods",
    "Returns",
    "Yields",
    "Receives",
    "Other Parameters",
    "Raises",
    "Warns",
    "Warnings",
    "See Also",
    "Notes",
    "References",
    "Examples",
)
_HEADING = re.compile(r"^(?P<name>[A-Z][A-Za-z ]+)\n-{3,}[ \t]*$", re.MULTILINE)


def _is_ours(obj: object) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "skevonas"


def _methods(cls: type) -> dict[str, object]:
    """Public methods of ``cls`` defined in skevonas classes (its own or inherited)."""
    methods: dict[str, object] = {}
    for klass in reversed(cls.__mro__):  # subclasses last, so overrides win
        if not _is_ours(klass):
            continue
        for name, attr in vars(klass).items():
            if name.startswith("_"):
                continue
            if isinstance(attr, (staticmethod, classmethod)) or inspect.isfunction(attr):
                methods[name] = getattr(cls, name)
    return methods


def _public_objects() -> dict[str, object]:
    """Qualified name -> object, for every public class, function and method."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue  # a data constant, or an object already met under skevonas
            seen.add(id(obj))
            found[f"{module_name}.{name}"] = obj
            if inspect.isclass(obj):
                for method_name, method in sorted(_methods(obj).items()):
                    found[f"{module_name}.{name}.{method_name}"] = method
    return found


PUBLIC = _public_objects()


def _sections(doc: str) -> dict[str, str]:
    """numpydoc section name -> its text (the summary is under "")."""
    parts: dict[str, str] = {}
    matches = list(_HEADING.finditer(doc))
    parts[""] = doc[: matches[0].start()] if matches else doc
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following is not None else len(doc)
        parts[match["name"]] = doc[match.end() : end]
    return parts


def test_the_walk_finds_the_public_api():
    # A guard against a walk that silently finds nothing.
    for name in (
        "skevonas.EvolutionaryNASClassifier.fit",
        "skevonas.EvolutionaryNASClassifier.predict_proba",
        "skevonas.GenomeClassifier.to_onnx",
        "skevonas.Genome.to_json",
        "skevonas.SearchCallback.on_generation_end",
        "skevonas.EarlyStopping.on_generation_end",
        "skevonas.spaces.domains.Int.sample",
        "skevonas.spaces.shapes.ShapeRule.spatial_shape",
        "skevonas.spaces.families.get_family",
        "skevonas.spaces.networks.build_module",
        "skevonas.evolution.generational.evolve",
        "skevonas.datasets.band_power",
        "skevonas.spaces.builders.Standardize.forward",
    ):
        assert name in PUBLIC, name
    assert "skevonas.EvolutionaryNASClassifier.get_params" not in PUBLIC  # scikit-learn's
    assert not any(name.endswith(".best_module_") for name in PUBLIC)  # a property
    assert len(PUBLIC) > 100


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_has_runnable_examples(name):
    doc = inspect.getdoc(PUBLIC[name])
    assert doc, f"{name} has no docstring"
    summary = doc.strip().splitlines()[0]
    assert summary and not _HEADING.match(doc), f"{name}: the docstring must open with a summary"
    sections = _sections(doc)
    unknown = [s for s in sections if s and s not in SECTIONS]
    assert not unknown, f"{name}: unknown section(s) {unknown}; numpydoc knows {list(SECTIONS)}"
    order = [SECTIONS.index(s) for s in sections if s]
    assert order == sorted(order), f"{name}: sections out of numpydoc's order: {list(sections)}"
    assert "Examples" in sections, f"{name} has no 'Examples' section"
    prompts = [line for line in sections["Examples"].splitlines() if line.startswith(">>> ")]
    assert prompts, f"{name}: its Examples section has no '>>>' line"
    runnable = [line for line in prompts if "doctest: +SKIP" not in line]
    assert runnable, f"{name}: every line of its Examples is skipped, so none runs"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_numpydoc_parses_the_docstring(name):
    docscrape = pytest.importorskip("numpydoc.docscrape")
    obj = PUBLIC[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpydoc warns about what it cannot parse
        parsed = docscrape.NumpyDocString(inspect.getdoc(obj))
    assert parsed["Summary"], f"{name}: numpydoc finds no summary"
    assert any(line.startswith(">>> ") for line in parsed["Examples"]), name
    # Every documented parameter is a real one (e.g. none left after a rename).
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return
    real = {p.name for p in signature.parameters.values()}
    var = [p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    for param in parsed["Parameters"]:
        for documented in param.name.replace("*", "").split(","):
            documented = documented.strip()
            assert documented in real or var, (
                f"{name} documents a parameter {documented!r} that its signature "
                f"{signature} does not have"
            )
