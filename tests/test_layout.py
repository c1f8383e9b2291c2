"""The layers of the package: a core that knows nothing of Scrapy, the Scrapy adapter on it, the faces
on top; imports run one way, downward, with no circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "newsclean"
# Lowest first. A module may import from its own layer or a lower one, never from a higher one.
LAYERS: list[tuple[str, ...]] = [
    # the core's data: no newsclean import above this line, no Scrapy
    (
        "newsclean.archive",
        "newsclean.article",
        "newsclean.config",
        "newsclean.dates",
        "newsclean.feeds",
        "newsclean.minhash",
        "newsclean.optout",
        "newsclean.pagekind",
        "newsclean.settings",
        "newsclean.sites",
        "newsclean.stats",
        "newsclean.urls",
        "newsclean.version",
    ),
    ("newsclean.registry",),  # the sites declared in spiders/
    ("newsclean.extraction",),
    ("newsclean.fixtures", "newsclean.store"),
    ("newsclean.crawl",),  # the Scrapy adapter
    ("newsclean.cli",),  # the faces
    ("newsclean.commands",),
]
CORE = [
    "newsclean.archive",
    "newsclean.version",
    "newsclean.article",
    "newsclean.config",
    "newsclean.dates",
    "newsclean.feeds",
    "newsclean.optout",
    "newsclean.pagekind",
    "newsclean.sites",
    "newsclean.stats",
    "newsclean.urls",
    "newsclean.registry",
    "newsclean.extraction",
    "newsclean.extraction.core",
    "newsclean.fixtures",
    "newsclean.store",
    "newsclean.store.health",
    "newsclean.store.clusters",
    "newsclean.store.export",
    "newsclean.store.report",
    "newsclean.store.schema",
    "newsclean.store.export_schema",
    "newsclean.extraction.agencies",
    "newsclean.store.dialect",
    "newsclean.store.rawpages",
    "newsclean.crawl.pool",
    "newsclean.crawl.worker",
    "newsclean.cli",
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if len(parts) > 1:  # the package's own __init__ is empty
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The newsclean modules ``name`` imports, anywhere in it (functions included), but its own
    parent packages (importing a submodule runs them anyway)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for target in targets:
            if target in modules and not name.startswith(target + ".") and target != name:
                found.add(target)
    return found


def _layer(name: str) -> int:
    for i, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_module_imports_from_a_higher_layer() -> None:
    upward = [
        f"{name} (layer {_layer(name)}) imports {target} (layer {_layer(target)})"
        for name, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) > _layer(name)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_circle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                circle = [*path[path.index(target) :], target] if target in path else [name, target]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_core_does_not_import_scrapy() -> None:
    _run(
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted'))\n"
        "assert not loaded, loaded[:5]\n"
    )


def test_a_known_sites_rules_apply_from_the_url_without_scrapy() -> None:
    # rules=None: extraction looks the site up by the URL, through the declarations in spiders/.
    _run(
        "import sys\n"
        "from newsclean.extraction import extract_article\n"
        "from newsclean.fixtures import load_fixtures\n"
        "page = next(f for f in load_fixtures(site='themoscowtimes') if f.kind == 'article')\n"
        "article = extract_article(page.body(), page.url, None)\n"
        "assert (article.rules, article.site) == ('themoscowtimes', 'themoscowtimes'), article.rules\n"
        "assert article.text == page.expected['text']\n"
        "assert 'scrapy' not in sys.modules and 'twisted' not in sys.modules\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["extract", "{page}", "--url", "{url}"],
        ["try", "{page}", "--url", "{url}"],
        ["fixture", "rerun", "themoscowtimes"],
        ["fields"],
    ],
)
def test_commands_on_pages_do_not_load_scrapy(argv: list[str]) -> None:
    page = next(p for p in (ROOT / "fixtures" / "themoscowtimes").glob("*.json"))
    import json

    meta = json.loads(page.read_text(encoding="utf-8"))
    body = next(p for p in page.parent.glob(page.stem + ".*") if p.suffix != ".json")
    args = [a.format(page=body, url=meta["url"]) for a in argv]
    _run(
        "import contextlib, io, sys\n"
        "from newsclean.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    status = main({args!r}, out=io.StringIO())\n"
        "assert status in (0, 1), status\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted'))\n"
        "assert not loaded, loaded[:5]\n"
    )


def test_every_module_has_a_layer_and_the_tree_is_shallow() -> None:
    graph = _graph()
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            depth[name] = 0
            depth[name] = 1 + max((level(t) for t in graph[name]), default=-1)
        return depth[name]

    levels = {name: level(name) for name in graph}
    assert all(_layer(name) >= 0 for name in graph)
    assert max(levels.values()) <= 8, sorted(levels.items(), key=lambda kv: -kv[1])[:5]
