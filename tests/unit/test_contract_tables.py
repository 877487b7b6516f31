"""The endpoint and error tables against the contract and the documentation.

- every error code in the contract's tables (spec 1.2 and the per-endpoint tables) is in our
  error table, with the same status;
- every code of our table is documented in docs/api.md, which is exactly what the tables render;
- raising a code that is not in the table is a type error (mypy);
- no endpoint path or error code is written twice in the source.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from triport_console.api.endpoints import ENDPOINTS
from triport_console.api.reference import render
from triport_console.errors import ErrorCode
from triport_console.models import EventType

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "triport_console"
SPEC_NAME = Path("shared") / "spec" / "console-auth.md"
TABLE_ROW = re.compile(r"^\| `([a-z_]+)` \| (\d{3}) \|", re.MULTILINE)


def contract() -> Path:
    """The contract sits in `shared/` beside the clone (or beside a parent of it)."""
    for parent in ROOT.parents:
        candidate = parent / SPEC_NAME
        if candidate.is_file():
            return candidate
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the contract ({SPEC_NAME}) is not beside the repository")
    pytest.skip(f"the contract ({SPEC_NAME}) is not beside the repository")


def test_every_code_in_the_contracts_tables_is_in_the_error_table() -> None:
    rows = TABLE_ROW.findall(contract().read_text())
    assert len(rows) >= 15, "the contract's error tables were not found"
    table = {code.value: code.status for code in ErrorCode}
    for code, status in rows:
        assert table.get(code) == int(status), (code, status)


def test_docs_api_md_is_generated_from_the_tables_and_current() -> None:
    checked_in = (ROOT / "docs" / "api.md").read_text()
    assert checked_in == render(), "docs/api.md is stale: run ./scripts/docs"
    for code in ErrorCode:
        assert f"| `{code.value}` | {code.status} | {code.message} |" in checked_in


def test_raising_a_code_outside_the_table_is_a_type_error(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from triport_console.errors import Conflict, ErrorCode, InvalidInput\n"
        "def free_string() -> None:\n"
        '    raise InvalidInput("invalid_id")\n'
        "def unknown_member() -> None:\n"
        "    raise Conflict(ErrorCode.NOT_IN_THE_TABLE)\n"
        "def known() -> None:\n"
        "    raise InvalidInput(ErrorCode.INVALID_ID)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(probe)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"MYPYPATH": str(ROOT / "src")},
        timeout=300,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if "probe.py:" in line]
    assert len(errors) == 2, result.stdout
    assert ":3: error" in errors[0] and "ErrorCode" in errors[0]
    assert ":5: error" in errors[1] and "NOT_IN_THE_TABLE" in errors[1]


def _string_literals() -> list[tuple[Path, str]]:
    found = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        # Log event names may coincide with a code (`key_revoked` is both an event and a code).
        events = {
            id(constant)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"info", "warning", "error", "_logged"}
            for argument in node.args
            for constant in ast.walk(argument)
        }
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings | events
            ):
                found.append((path.relative_to(SRC), node.value))
    return found


def test_no_path_or_error_code_is_written_twice_in_the_source() -> None:
    literals = _string_literals()
    paths = {endpoint.path for endpoint in ENDPOINTS if endpoint.path != "/"}
    for path in paths:
        places = [where for where, text in literals if text == path]
        assert {str(p) for p in places} == {"api/endpoints.py"}, (path, places)
    for code in ErrorCode:
        places = [where for where, text in literals if text == code.value]
        # An activity event type may share a code's name (key_revoked); each is written once.
        expected = ["errors.py", "models.py"] if code.value in set(EventType) else ["errors.py"]
        assert sorted(str(p) for p in places) == expected, (code.value, places)
