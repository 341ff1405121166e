"""The import rules of docs/architecture.md hold (``lint-imports``), and the
"acyclic" contract behind them finds a cycle however it is hidden."""

import subprocess
import sys
from pathlib import Path

import pytest
from grimp import ImportGraph
from importlinter.domain.helpers import MissingImport

from tests.import_contracts import AcyclicContract

ROOT = Path(__file__).resolve().parent.parent


def check(imports: list[tuple[str, str, int]], ignore: tuple[str, ...] = ()):
    graph = ImportGraph()
    for importer, imported, line in imports:
        graph.add_import(
            importer=importer, imported=imported, line_number=line, line_contents="import"
        )
    options = {"ignore_imports": list(ignore)} if ignore else {}
    contract = AcyclicContract(name="no cycles", session_options={}, contract_options=options)
    return contract.check(graph, verbose=False)


def test_the_project_keeps_its_import_contracts():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_cycle_across_apps_is_reported_with_its_lines():
    result = check(
        [
            ("clients.services", "notifications.services", 26),
            ("notifications.services", "notifications.tasks", 58),
            # A function-local import is an import like any other.
            ("notifications.tasks", "clients.services", 83),
            ("clients.views", "clients.services", 12),
        ]
    )

    assert not result.kept
    assert result.metadata["cycles"] == [
        [
            "clients.services:26 imports notifications.services",
            "notifications.services:58 imports notifications.tasks",
            "notifications.tasks:83 imports clients.services",
        ]
    ]


def test_imports_that_run_one_way_keep_the_contract():
    result = check(
        [
            ("clients.services", "notifications.services", 26),
            ("notifications.services", "notifications.tasks", 58),
            ("notifications.tasks", "notifications.delivery", 12),
            ("clients.views", "clients.services", 12),
            ("notifications.delivery", "clients.models", 9),
        ]
    )

    assert result.kept
    assert result.metadata["cycles"] == []


def test_a_named_exception_lets_its_cycle_pass():
    result = check(
        [("users.forms", "users.tasks", 36), ("users.tasks", "users.forms", 5)],
        ignore=("users.forms -> users.tasks",),
    )

    assert result.kept


def test_an_exception_whose_import_is_gone_fails():
    with pytest.raises(MissingImport):
        check([("users.tasks", "users.forms", 5)], ignore=("users.forms -> users.tasks",))
