"""The shape of the code: no module of the program over 400 lines, and no import cycle among them."""

from pathlib import Path

import grimp

WIZARD = Path(__file__).resolve().parent.parent / "wizard"
MAX_LINES = 400

# Modules still over the limit while they are being split. TO BE EMPTIED: a module leaves this list
# when it is split, and nothing joins it.
TOO_LONG_FOR_NOW: set[str] = set()

# Imports that close a cycle today, while the modules in it are being reworked: (importer, imported).
# TO BE EMPTIED: an import leaves this list when its cycle is broken, and nothing joins it.
CYCLE_IMPORTS_FOR_NOW: set[tuple[str, str]] = set()


def line_counts() -> dict[str, int]:
    return {
        path.relative_to(WIZARD.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(WIZARD.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def test_no_module_is_over_400_lines():
    counts = line_counts()
    too_long = {name: lines for name, lines in counts.items() if lines > MAX_LINES and name not in TOO_LONG_FOR_NOW}
    assert not too_long, f"modules over {MAX_LINES} lines (split them by responsibility): {too_long}"


def test_the_list_of_long_modules_only_shrinks():
    counts = line_counts()
    done = {name for name in TOO_LONG_FOR_NOW if counts.get(name, 0) <= MAX_LINES}
    assert not done, f"no longer over {MAX_LINES} lines (or gone): take them off TOO_LONG_FOR_NOW: {sorted(done)}"


def import_graph() -> grimp.ImportGraph:
    """Every import among the program's modules: inside functions and under TYPE_CHECKING too."""
    return grimp.build_graph("wizard", cache_dir=None)


def imports(graph: grimp.ImportGraph, importer: str, imported: str) -> bool:
    return {importer, imported} <= graph.modules and graph.direct_import_exists(importer=importer, imported=imported)


def without_the_imports_for_now(graph: grimp.ImportGraph) -> grimp.ImportGraph:
    for importer, imported in CYCLE_IMPORTS_FOR_NOW:
        if imports(graph, importer, imported):
            graph.remove_import(importer=importer, imported=imported)
    return graph


def cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """The sets of modules that import one another, directly or not (strongly connected
    components of more than one module, or a module that imports itself)."""
    imports = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(imports):
        if root in order:
            continue
        # Tarjan's algorithm, without recursion: (module, index of its next import to visit)
        work = [(root, 0)]
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, next_import = work[-1]
            if next_import < len(imports[module]):
                work[-1] = (module, next_import + 1)
                imported = imports[module][next_import]
                if imported not in order:
                    order[imported] = low[imported] = len(order)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, 0))
                elif imported in on_stack:
                    low[module] = min(low[module], order[imported])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == order[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1 or module in imports[module]:
                    found.append(component)
    return found


def describe(graph: grimp.ImportGraph, component: set[str]) -> str:
    """Each import inside a cycle, with its line: what to change to break it."""
    lines = [" <-> ".join(sorted(component))]
    for importer in sorted(component):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & component):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"    {importer}:{detail['line_number']}: {detail['line_contents']}")
    return "\n".join(lines)


def test_no_import_cycle():
    graph = without_the_imports_for_now(import_graph())
    found = cycles(graph)
    assert not found, "import cycles among the program's modules:\n" + "\n".join(describe(graph, c) for c in found)


def test_the_list_of_cycle_imports_only_shrinks():
    graph = import_graph()
    gone = sorted((importer, imported) for importer, imported in CYCLE_IMPORTS_FOR_NOW
                  if not imports(graph, importer, imported)
                  or not graph.chain_exists(importer=imported, imported=importer))
    assert not gone, f"no longer an import in a cycle: take them off CYCLE_IMPORTS_FOR_NOW: {gone}"


def test_cycles_are_found():
    """The search itself: a cycle through three modules, one beside it, and modules outside both."""
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c", "p.d", "p.e", "p.f"):
        graph.add_module(module)
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"),
                               ("p.e", "p.f"), ("p.f", "p.e"), ("p", "p.a")):
        graph.add_import(importer=importer, imported=imported)
    assert sorted(sorted(c) for c in cycles(graph)) == [["p.a", "p.b", "p.c"], ["p.e", "p.f"]]
