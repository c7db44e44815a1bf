"""The package's layers, read from its own code with `ast` (imports inside functions included):

- imports point down: each folder is one layer and imports only its own layer and those below;
- no import cycles (a cycle hidden in a function body is still a cycle);
- a module over ~400 lines says at its top why it is one piece; no function over ~60 lines in
  `intake/`, `workbook/` and `notify/`, where most changes land.

The picture and the reasons are in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jugendhaus_mail"

# lowest first; a module may import modules of its own layer and of the layers before it
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("basis", ("__init__", "errors", "failpoints", "fsync", "resources", "workdays", "config")),
    ("adapters", ("state", "mailpack", "mailbox", "workbook")),
    ("domain", ("rules", "intake", "notify", "letters", "report")),
    ("jobs", ("app", "jobs", "privacy")),
    ("service", ("service",)),
    ("face", ("commands", "argparse_de", "cli", "__main__", "demo")),
)
LONG_MODULE = 400
LONG_FUNCTION = 60
SHORT_FUNCTIONS_IN = ("intake", "workbook", "notify")
WHY_LONG = "Why one module"  # the phrase a long module's docstring explains itself with


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for index, (_name, members) in enumerate(LAYERS):
        if top in members:
            return index
    raise AssertionError(f"{module}: keiner Schicht zugeordnet – in LAYERS eintragen")


def imports_of(path: Path, known: set[str]) -> set[str]:
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), own, package, known)


def imports_in(source: str, own: str, package: str, known: set[str]) -> set[str]:
    """Project modules `source` imports, anywhere in it. `from package import submodule`
    imports the submodule (the package's __init__ runs for any submodule import, so it is no
    edge of its own)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return {name for name in found if name in known and name != own}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(path, set(found)) for name, path in found.items()}


def test_every_module_belongs_to_a_layer() -> None:
    for name in modules():
        layer_of(name)


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} -> {target}"
        for source, targets in edges.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    )


def find_cycles(edges: dict[str, set[str]]) -> list[str]:
    cycles: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for following in sorted(edges.get(node, ())):
            if state.get(following) == 1:
                cycles.append(" -> ".join([*stack[stack.index(following) :], following]))
            elif following not in state:
                visit(following)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def test_imports_point_down() -> None:
    assert upward_imports(graph()) == []


def test_no_import_cycles() -> None:
    assert find_cycles(graph()) == []


def test_the_checks_catch_an_upward_import_and_a_hidden_cycle() -> None:
    store, app, rules = (
        "jugendhaus_mail.workbook.store", "jugendhaus_mail.app", "jugendhaus_mail.rules.model",
    )  # fmt: skip
    assert upward_imports({store: {app}, app: {store}}) == [f"{store} -> {app}"]
    assert find_cycles({app: {rules}, rules: {store}, store: {app}}) == [
        f"{app} -> {rules} -> {store} -> {app}"
    ]
    # an import hidden in a function body, and a relative one, are edges too
    hidden = "def later():\n    from jugendhaus_mail import app\n    from . import model\n"
    known = {app, "jugendhaus_mail.workbook.model"}
    found = imports_in(hidden, store, "jugendhaus_mail.workbook", known)
    assert found == {app, "jugendhaus_mail.workbook.model"}


def test_long_modules_say_why() -> None:
    unexplained = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > LONG_MODULE and WHY_LONG not in docstring:
            unexplained.append(f"{name}: {text.count(chr(10))} Zeilen")
    assert unexplained == []


def test_no_long_functions_where_most_changes_land() -> None:
    long = []
    for name, path in modules().items():
        if name.partition(".")[2].split(".")[0] not in SHORT_FUNCTIONS_IN:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > LONG_FUNCTION:
                    long.append(f"{name}.{node.name}: {length} Zeilen")
    assert long == []
