"""One writer of connections: only the connections package's link, refresh and lifecycle
modules change a Connection row, and each of their saves names the columns it writes."""

import ast
from pathlib import Path

import integrations

ROOT = Path(integrations.__file__).parent
WRITERS = {ROOT / "connections" / m for m in ("link.py", "refresh.py", "lifecycle.py")}
WRITES = {"create", "update", "bulk_create", "bulk_update", "delete", "get_or_create"}


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts and "sandbox" not in path.parts:
            yield path, ast.parse(path.read_text())


def _chain(node: ast.AST) -> str:
    """`Connection.objects.filter(...).update` as the text of its calls, roughly."""
    return ast.unparse(node)


def test_no_module_but_the_connections_service_writes_a_connection_row():
    found = []
    for path, tree in _sources():
        if path in WRITERS:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITES
                and "Connection.objects" in _chain(node.func.value)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_every_save_of_the_connections_service_names_its_fields():
    unnamed = [
        f"{path.name}:{node.lineno}"
        for path in sorted(WRITERS)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "save"
        and not any(k.arg == "update_fields" for k in node.keywords)
    ]
    assert unnamed == []
