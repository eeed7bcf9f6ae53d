"""The lab's layers import one way (lab/ARCHITECTURE.md, "Import direction"; issue 14 item 7).

Every import statement of every lync_lab module is read with ``ast``, wherever it stands (module level, inside a
function, under ``if TYPE_CHECKING``), and resolved to the lab module it loads. The rules hold with no exceptions:

- winrm/ (the protocol) imports nothing of model/ or cmdlets/: it hands a command line to the PowerShell runtime and
  knows the servers and sessions only through the value types;
- model/ (the organisation's state) imports nothing of powershell/ or winrm/;
- no layer imports the composition root lab.py (only cli.py, which starts a lab, does);
- the value modules import no lab module but each other, so any layer may use them;
- no two lab modules import each other, directly or through others.

A lab module loaded by name at run time (cmdlets/__init__.load_all's importlib) is not an import statement and is
not seen here; that is the registry loading its own package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lync_lab

PACKAGE = "lync_lab"
ROOT = Path(lync_lab.__file__).parent

# What may not import what: layer -> the layers it must not import (a layer is a top-level module or package).
FORBIDDEN = {
    "winrm": ("model", "cmdlets"),
    "model": ("powershell", "winrm"),
}
# The layers lab.py wires together; none of them may import it.
LAYERS = ("winrm", "powershell", "model", "cmdlets", "perform", "engine")
COMPOSITION_ROOT = f"{PACKAGE}.lab"
# Types and tables every layer passes along; they import nothing of the lab but each other.
VALUE_MODULES = {f"{PACKAGE}.{name}" for name in ("context", "hosts", "errors", "request_context")}


def module_name(path: Path, root: Path = ROOT, package: str = PACKAGE) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def lab_modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    return {module_name(p, root, package): p for p in sorted(root.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The lab module ``name`` loads: itself, or the module that defines the name (``pkg.mod.attr`` -> pkg.mod)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path], package: str = PACKAGE) -> list[tuple[str, int]]:
    """(lab module imported, line) for every import statement in ``path``, at any depth."""
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[:len(package_parts) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from pkg import name`: name is a submodule when there is one, else an attribute of pkg.
            names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                     for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name, modules) if name.split(".")[0] == package else None
            if target is not None and target != module:
                found.append((target, node.lineno))
    return found


def import_graph(modules: dict[str, Path], package: str = PACKAGE) -> dict[str, dict[str, int]]:
    """module -> {imported lab module: first line that imports it}."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(module, path, modules, package):
            edges.setdefault(target, line)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _where(module: str, target: str, graph, modules) -> str:
    return f"{modules[module].relative_to(ROOT.parent)}:{graph[module][target]} imports {target}"


MODULES = lab_modules()
GRAPH = import_graph(MODULES)


def test_the_reader_sees_module_level_relative_and_function_level_imports():
    """The rules below are only as good as the reader: it must find imports of each kind that are known to exist."""
    assert f"{PACKAGE}.model.topology" in GRAPH[f"{PACKAGE}.model.pool_objects"]         # from .topology import
    assert f"{PACKAGE}.model.servers" in GRAPH[f"{PACKAGE}.cmdlets.cs_support"]          # from ..model import servers
    assert f"{PACKAGE}.powershell.runtime" in GRAPH[COMPOSITION_ROOT]                    # inside Lab.runtime_for
    assert f"{PACKAGE}.winrm.listener" in GRAPH[COMPOSITION_ROOT]                        # inside Lab.start
    assert f"{PACKAGE}.cmdlets" in GRAPH[f"{PACKAGE}.engine"]                            # the package's __init__
    assert f"{PACKAGE}.perform.servers" in GRAPH[f"{PACKAGE}.perform.command"]           # from . import servers
    assert {layer_of(m) for m in MODULES} >= set(LAYERS)


def test_the_cycle_finder_finds_a_cycle_through_three_modules(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("def f():\n    from ..c import thing\n")
    (package / "c.py").write_text("from pkg import a\n")
    (package / "d.py").write_text("from . import a\n")
    graph = import_graph(lab_modules(package, "pkg"), "pkg")
    assert graph["pkg.d"] == {"pkg.a": 1}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]


def test_no_import_cycle_between_lab_modules():
    found = cycles(GRAPH)
    report = []
    for component in found:
        members = set(component)
        report.append("cycle: " + ", ".join(component))
        report += ["    " + _where(m, t, GRAPH, MODULES) for m in component for t in GRAPH[m] if t in members]
    assert not found, "\n".join(report)


def test_winrm_imports_no_model_or_cmdlets_and_model_no_powershell_or_winrm():
    wrong = [_where(module, target, GRAPH, MODULES)
             for module, targets in GRAPH.items()
             for target in targets
             if layer_of(target) in FORBIDDEN.get(layer_of(module), ())]
    assert not wrong, "\n".join(wrong)


def test_no_layer_imports_the_composition_root():
    wrong = [_where(module, COMPOSITION_ROOT, GRAPH, MODULES)
             for module, targets in GRAPH.items()
             if COMPOSITION_ROOT in targets and layer_of(module) in LAYERS]
    assert not wrong, "\n".join(wrong)


def test_value_modules_import_only_value_modules():
    assert VALUE_MODULES <= set(MODULES)
    wrong = [_where(module, target, GRAPH, MODULES)
             for module in sorted(VALUE_MODULES) for target in GRAPH[module] if target not in VALUE_MODULES]
    assert not wrong, "\n".join(wrong)
