"""import-linter's contract type "acyclic": no import cycle anywhere in the
module graph of the root packages, across apps too.

import-linter's own ``acyclic_siblings`` looks for cycles among the children
of one package at a time, and the apps here are separate top-level packages,
so a cycle that leaves an app (clients → notifications → clients) would pass
it. grimp's graph holds every import, function-local and TYPE_CHECKING ones
included, so an import hidden in a function cannot hide a cycle.
"""

import itertools

from grimp import ImportGraph
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _strongly_connected(graph: ImportGraph) -> list[list[str]]:
    """Tarjan's components with more than one module, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    imported = graph.find_modules_directly_imported_by(successor)
                    work.append((successor, iter(sorted(imported))))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _one_cycle(graph: ImportGraph, component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (every module on
    a path back to it is in the component)."""
    start = component[0]
    members = set(component)
    chains = [
        graph.find_shortest_chain(importer=successor, imported=start)
        for successor in sorted(graph.find_modules_directly_imported_by(start) & members)
    ]
    return [start, *min((chain for chain in chains if chain), key=len)]


class AcyclicContract(Contract):
    """No module reaches itself through imports. ``ignore_imports`` names an
    import a cycle may pass through; one that no longer exists fails the
    contract, so the exception goes as soon as its import does."""

    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=AlertLevel.ERROR,
        )
        cycles = [_one_cycle(graph, component) for component in _strongly_connected(graph)]
        lines = []
        for cycle in cycles:
            steps = []
            for importer, imported in itertools.pairwise(cycle):
                details = graph.get_import_details(importer=importer, imported=imported)
                where = f":{details[0]['line_number']}" if details else ""
                steps.append(f"{importer}{where} imports {imported}")
            lines.append(steps)
        return ContractCheck(
            kept=not cycles,
            metadata={"cycles": lines},
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for steps in check.metadata["cycles"]:
            output.print_error("An import cycle:")
            for step in steps:
                output.print_error(f"- {step}")
            output.new_line()
