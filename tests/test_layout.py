"""Structural checks of the package: its import graph and the size of its modules.

The import graph is read from the source with :mod:`ast`, without importing
anything: every ``import`` and ``from ... import`` statement of every
module, at module top and inside functions and classes, relative or
absolute. An import of ``skevonas.a.b`` depends on ``skevonas.a.b`` and on
the package ``skevonas.a`` (whose ``__init__`` runs first), unless the
importing module lies inside that package (its package has then started
importing already). Not edges: imports under ``if TYPE_CHECKING:``, which
never run, and :func:`importlib.import_module` calls such as the lazy
``__getattr__`` of ``skevonas/__init__.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skevonas"
MAX_LINES = 700
MAX_CLASSIFIER_IMPORTS = 8


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the package."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: list[ast.AST]) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in or below ``nodes``, but not in ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            found += _import_nodes(list(node.orelse))  # the else branch does run
        else:
            found += _import_nodes(list(ast.iter_child_nodes(node)))
    return found


def imported_names(module: str, path: Path) -> list[str]:
    """Dotted names a module imports (``from P import n`` gives ``P.n``; resolved if relative)."""
    is_package = path.name == "__init__.py"
    names = []
    for node in _import_nodes([ast.parse(path.read_text(encoding="utf-8"))]):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
            continue
        if node.level:
            base = module.split(".")
            drop = node.level - 1 if is_package else node.level
            base = base[: len(base) - drop]
            parent = ".".join(base + ([node.module] if node.module else []))
        else:
            parent = node.module or ""
        names += [f"{parent}.{alias.name}" for alias in node.names]
    return names


def _targets(name: str, modules: dict[str, Path]) -> list[str]:
    """The package modules that importing ``name`` runs (innermost first)."""
    parts = name.split(".")
    found = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
    return [target for target in found if target in modules]


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package modules it imports (see the module docstring)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges = set()
        for name in imported_names(module, path):
            targets = _targets(name, modules)
            if not targets:
                continue  # not ours
            # the module imported (not the module itself), then the packages
            # around it that the importing module is not inside
            edges |= {targets[0]} - {module}
            edges |= {t for t in targets[1:] if not (module + ".").startswith(t + ".")}
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None if the graph has none."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


MODULES = module_files()
GRAPH = import_graph(MODULES)


# --------------------------------------------------------------------------- the tools
def test_find_cycle_finds_a_cycle_in_a_toy_graph():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a"}}) is None


def test_the_graph_reads_every_kind_of_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "import importlib\nimportlib.import_module('.a', __name__)\n",
        "a.py": "from . import b\n",
        "b.py": "def f():\n    from .sub import c\n",
        "sub/__init__.py": "",
        "sub/c.py": (
            "from typing import TYPE_CHECKING\n"
            "import pkg.d\n"
            "if TYPE_CHECKING:\n    from ..a import x\n"
            "from .. import e\n"
        ),
        "d.py": "import os\n",
        "e.py": "from .sub.c import y\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(module_files(package))
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.sub", "pkg.sub.c"},
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg.d", "pkg.e"},
        "pkg.d": set(),
        "pkg.e": {"pkg.sub", "pkg.sub.c"},
    }
    assert find_cycle(graph) == ["pkg.sub.c", "pkg.e", "pkg.sub.c"]


def test_the_graph_sees_the_package():
    # A guard against a walk that silently finds nothing.
    assert {
        "skevonas.spaces.space",
        "skevonas.spaces.families",
        "skevonas.spaces.presets.keras",
    } <= set(MODULES)
    assert "skevonas.spaces.catalogue" in GRAPH["skevonas.spaces.families"]
    assert "skevonas.spaces.shapes" in GRAPH["skevonas.spaces.builders.cnn"]
    assert (
        "skevonas.spaces.presets" in GRAPH["skevonas.spaces.builders.mlp"]
    )  # presets/__init__ runs first
    assert "skevonas.spaces.catalogue" in GRAPH["skevonas.cli.parser"]


# --------------------------------------------------------------------------- the package
def test_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_search_spaces_sit_below_the_family_registry():
    # The registry imports the builders (torch); the spaces and shape rules must not
    # import it back, or searching a space would need torch.
    for module in (
        "skevonas.spaces.domains",
        "skevonas.spaces.shapes",
        "skevonas.spaces.space",
        "skevonas.spaces.catalogue",
    ):
        assert not GRAPH[module] & {"skevonas.spaces.families", "skevonas.spaces.networks"}, module
    assert not GRAPH["skevonas.spaces.builders"] & {
        "skevonas.spaces.families",
        "skevonas.spaces.networks",
    }


def test_no_module_imports_another_ones_private_names():
    # A private helper that another module needs is public API: name it so.
    private = [
        f"{module} imports {name}"
        for module, path in MODULES.items()
        for name in imported_names(module, path)
        if _targets(name, MODULES)
        and name not in MODULES
        and name.rsplit(".", 1)[-1].startswith("_")
        and not name.rsplit(".", 1)[-1].startswith("__")
    ]
    assert not private, private


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_too_long(module):
    with MODULES[module].open(encoding="utf-8") as f:
        n_lines = sum(1 for _ in f)
    assert n_lines <= MAX_LINES, f"{module} has {n_lines} lines; at most {MAX_LINES}, please"


def test_the_estimator_file_imports_few_project_modules():
    imported = sorted(GRAPH["skevonas.classifier"])
    assert len(imported) <= MAX_CLASSIFIER_IMPORTS, imported


# --------------------------------------------------------------------------- the public seam
ROOT = PACKAGE.parent
OUTSIDE_CODE = [
    *sorted((ROOT / "bench").glob("*.py")),
    *sorted((ROOT / "examples").glob("*.py")),
    *sorted((PACKAGE / "cli").glob("*.py")),
    PACKAGE / "store" / "export.py",
]


def private_calls(source: str) -> list[str]:
    """Calls of single-underscore attributes (``obj._method(...)``) in ``source``."""
    return [
        ast.unparse(node.func)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith("_")
        and not node.func.attr.startswith("__")
    ]


def test_private_call_finder_finds_them():
    assert private_calls("clf._check_params()\nclf.fit(X)\nx.__len__()") == ["clf._check_params"]


@pytest.mark.parametrize("path", OUTSIDE_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_bench_examples_cli_and_export_use_public_names_only(path):
    assert private_calls(path.read_text(encoding="utf-8")) == []


def test_no_test_patches_names_inside_the_estimator_module():
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("setattr"):
                target = ast.unparse(node.args[0]) if node.args else ""
                assert "classifier" not in target, f"{path.name}:{node.lineno} patches {target}"


# --------------------------------------------------------------------------- the store's floor
# The front of the package: the estimators and the modules around them (their
# settings, data preparation, plots, saving), the command line and the search
# machinery. The store sits below them all.
FRONT = (
    "skevonas.base",
    "skevonas.classifier",
    "skevonas.fixed",
    "skevonas.plots",
    "skevonas.prepare",
    "skevonas.saving",
    "skevonas.settings",
)
FRONT_WINGS = ("skevonas.cli", "skevonas.search")


def _is_front(module: str) -> bool:
    return (
        module == "skevonas"
        or module in FRONT
        or any(module == wing or module.startswith(wing + ".") for wing in FRONT_WINGS)
    )


def test_the_store_imports_nothing_in_front_of_it():
    # Model files, checkpoints and exports are read and written for the
    # estimators, which describe themselves to the store (FittedModel,
    # ModelKind); the store never imports them, nor the package (whose
    # __init__ is the public API): __version__ comes from skevonas._version.
    store = [module for module in GRAPH if module.startswith("skevonas.store")]
    assert "skevonas.store.modelfile" in store and "skevonas.store.model_document" in store
    upward = sorted(
        f"{module} imports {target}"
        for module in store
        for target in GRAPH[module]
        if _is_front(target)
    )
    assert not upward, upward


# --------------------------------------------------------------------------- the wings
MAX_TOP_LEVEL_MODULES = 12
WINGS = sorted(
    str(path.parent.relative_to(PACKAGE))
    for path in PACKAGE.rglob("__init__.py")
    if path.parent != PACKAGE
)


def test_the_front_holds_at_most_12_modules():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} top-level modules: {top}"


def test_every_subpackage_is_named_in_the_design_page_and_the_readme():
    assert {"spaces", "evolution", "search", "training", "store", "cli"} <= set(WINGS)
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text, name in ((design, "docs/design.md"), (readme, "README.md")):
        missing = [wing for wing in WINGS if f"{wing.rsplit('/', 1)[-1]}/" not in text]
        assert not missing, f"{name} does not name the subpackages {missing}"


def test_the_readme_names_every_bench_script():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    scripts = sorted(
        path.name for path in (ROOT / "bench").iterdir() if path.suffix in (".py", ".sh")
    )
    missing = [name for name in scripts if name not in readme]
    assert not missing, f"README.md does not name the bench scripts {missing}"


def test_the_evolution_wing_knows_no_torch_sklearn_or_other_wing_above_it():
    # the GA core runs on a toy fitness in milliseconds: nothing heavy, nothing above it
    forbidden = ("torch", "sklearn", "skorch", "joblib")
    found = [
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if module.startswith("skevonas.evolution")
        for name in imported_names(module, path)
        if name.split(".")[0] in forbidden
        or name.startswith(("skevonas.training", "skevonas.search", "skevonas.store"))
    ]
    assert not found, found


def _function(module: str, qualname: str) -> ast.FunctionDef:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    cls_name, name = qualname.split(".")
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    return next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == name)


def code_lines(function: ast.FunctionDef, source: str) -> int:
    """Lines of code of ``function``'s body: no docstring, blank lines or comment lines."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    lines = source.splitlines()[body[0].lineno - 1 : function.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_code_lines_counts_code_only():
    source = 'def f():\n    """Doc.\n\n    More."""\n    # a comment\n\n    x = 1\n    return x\n'
    assert code_lines(ast.parse(source).body[0], source) == 2


def test_fit_tells_the_story_in_at_most_70_lines_without_nested_functions():
    qualname = "EvolutionaryNASClassifier.fit"
    function = _function("skevonas.classifier", qualname)
    source = MODULES["skevonas.classifier"].read_text(encoding="utf-8")
    assert code_lines(function, source) <= 70
    nested = [
        getattr(node, "name", "lambda")
        for node in ast.walk(function)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        and node is not function
    ]
    assert not nested, f"{qualname} defines functions inside it: {nested}"
