"""Which marts each dashboard page reads, worked out from the dashboard's source code.

The dbt exposures (dbt_project/models/marts/_dashboard__exposures.yml) say which marts each page
depends on; this module derives the same thing from the code that runs, so a test can compare the
two. It follows names, not strings: a page's code references functions of `lib` modules (called or
passed to `guarded(...)`), those reference others (through the `lib/queries/` package's
re-exports and its subject modules), and a function of a `lib/queries/` module (or a module-level
constant it uses, such as the projection's input queries) names `marts.<relation>` in its SQL.
Every page also runs the router (`streamlit_app.py`: the header and the sidebar filters), so what
the router reads belongs to every page.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

DASHBOARDS_DIR = Path(__file__).resolve().parents[2] / "dashboards"
ROUTER = DASHBOARDS_DIR / "streamlit_app.py"
MART = re.compile(r"\bmarts\.([a-z_][a-z0-9_]*)")
DASHBOARD_PORT = 8501
ORCHESTRATION_LIB = "orchestration.lib"
DASHBOARDS_LIB = "dashboards.lib"


@dataclass(frozen=True)
class Page:
    path: str  # as st.Page gets it: app_pages/<name>.py
    title: str
    default: bool

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @property
    def url(self) -> str:
        """Where Streamlit serves it: the default page at the root, the others at their file's
        name (st.Page infers url_path from the file name)."""
        return f"http://127.0.0.1:{DASHBOARD_PORT}/" + ("" if self.default else self.name)


def pages() -> list[Page]:
    """The pages the router registers: each `_page("app_pages/x.py", "Title", ...)` call."""
    found = []
    for node in ast.walk(ast.parse(ROUTER.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_page":
            path, title = (argument.value for argument in node.args[:2])
            default = any(
                keyword.arg == "default" and keyword.value.value is True
                for keyword in node.keywords
            )
            found.append(Page(path, title, default))
    return found


class _Module:
    """One module's top-level names and what each refers to."""

    def __init__(self, name: str, path: Path, package: str | None = None) -> None:
        self.name = name
        self.tree = ast.parse(path.read_text())
        self.aliases: dict[str, str] = {}  # local name -> lib module (from lib import x)
        self.imported: dict[str, tuple[str, str]] = {}  # local name -> (lib module, name)
        self.definitions: dict[str, ast.AST] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == DASHBOARDS_LIB:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                DASHBOARDS_LIB + "."
            ):
                for alias in node.names:
                    module = node.module.removeprefix(DASHBOARDS_LIB + ".")
                    self.imported[alias.asname or alias.name] = (module, alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module == ORCHESTRATION_LIB:
                for alias in node.names:  # the rating engine the what-if and re-projection run
                    self.aliases[alias.asname or alias.name] = f"{ORCHESTRATION_LIB}.{alias.name}"
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                ORCHESTRATION_LIB + "."
            ):
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and package:
                for alias in node.names:  # inside a package: `from . import x`, `from .x import y`
                    if node.module is None:
                        self.aliases[alias.asname or alias.name] = f"{package}.{alias.name}"
                    else:
                        module = f"{package}.{node.module}"
                        self.imported[alias.asname or alias.name] = (module, alias.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.definitions[node.name] = node
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            self.definitions[name.id] = node

    def references(self, node: ast.AST) -> tuple[set[tuple[str, str]], set[str]]:
        """(lib module, name) pairs that `node` refers to, and the marts its strings name."""
        names: set[tuple[str, str]] = set()
        marts: set[str] = set()
        for child in ast.walk(node):
            if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
                if child.value.id in self.aliases:
                    names.add((self.aliases[child.value.id], child.attr))
            elif isinstance(child, ast.Name):
                if child.id in self.imported:
                    names.add(self.imported[child.id])
                elif child.id in self.definitions:
                    names.add((self.name, child.id))
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                marts.update(MART.findall(child.value))
        return names, marts


def _lib_modules() -> dict[str, _Module]:
    """`lib` modules by name: `layout`, the package `queries` (its __init__: the re-exports) and
    its subject modules `queries.decision`, ...; and `orchestration.lib.<module>`, whose rating
    engine the what-if and the re-projection run on the build's marts."""
    modules = {
        path.stem: _Module(path.stem, path) for path in sorted(DASHBOARDS_DIR.glob("lib/*.py"))
    }
    for path in sorted((DASHBOARDS_DIR.parent / "orchestration" / "lib").glob("*.py")):
        name = f"{ORCHESTRATION_LIB}.{path.stem}"
        modules[name] = _Module(name, path)
    for init in sorted(DASHBOARDS_DIR.glob("lib/*/__init__.py")):
        package = init.parent.name
        modules[package] = _Module(package, init, package=package)
        for path in sorted(init.parent.glob("*.py")):
            if path.name != "__init__.py":
                name = f"{package}.{path.stem}"
                modules[name] = _Module(name, path, package=package)
    return modules


def marts_read_by(module_paths: list[Path]) -> set[str]:
    """Every mart the code of these modules (run top to bottom, as Streamlit runs a page) reads,
    through any chain of `lib` functions."""
    libraries = _lib_modules()
    marts: set[str] = set()
    pending: list[tuple[str, str]] = []
    for path in module_paths:
        module = _Module(path.stem, path)
        names, found = module.references(module.tree)
        marts |= found
        # the page's own top-level names are part of the page, already walked
        pending += [name for name in names if name[0] in libraries]
    seen: set[tuple[str, str]] = set()
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        module_name, name = key
        module = libraries[module_name]
        if name in module.imported:  # a re-export: follow it to its module
            pending.append(module.imported[name])
            continue
        if name not in module.definitions:
            continue  # a name from outside lib (streamlit, pandas) or a nested attribute
        names, found = module.references(module.definitions[name])
        marts |= found
        pending += [other for other in names if other[0] in libraries and other not in seen]
    return marts


def marts_by_page() -> dict[str, set[str]]:
    """Page name -> the marts it reads (the router's included)."""
    return {page.name: marts_read_by([ROUTER, DASHBOARDS_DIR / page.path]) for page in pages()}
