"""``newsclean new-site`` (a site module and its test stub from the template) and ``newsclean try``
(one page's fields, text, and what each rule removed)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import keyword
import re
import string
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from newsclean.cli.common import UsageError, fetch, read_input, scrapy_settings, site_named
from newsclean.extraction.result import Extraction
from newsclean.fixtures import show

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SPIDER_TEMPLATE = TEMPLATES / "spiders" / "newssite.tmpl"
TEST_TEMPLATE = TEMPLATES / "tests" / "site.tmpl"
SPIDER_PACKAGE = "spiders"
NAME_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")


def template_variables(name: str, url: str) -> dict[str, str]:
    """The variables ``scrapy genspider`` gives a template, computed the same way for ``new-site``."""
    from newsclean import settings

    if not urlsplit(url).scheme and not urlsplit(url).netloc:
        url = urlsplit("//" + url)._replace(scheme="https").geturl()
    module = name.replace("-", "_").replace(".", "_")
    return {
        "project_name": settings.BOT_NAME,
        "ProjectName": string.capwords(settings.BOT_NAME).replace(" ", ""),
        "module": module,
        "name": name,
        "url": url,
        "domain": urlsplit(url).netloc,
        "classname": "".join(s.capitalize() for s in module.split("_")) + "Spider",
    }


def spider_names() -> dict[str, str]:
    """Name -> module of every spider ``scrapy list`` shows: the sites' and the generic ones."""
    from scrapy.spiderloader import get_spider_loader

    loader = get_spider_loader(scrapy_settings())
    return {name: loader.load(name).__module__ for name in loader.list()}


def project_root() -> Path:
    """The project folder: the one holding the ``spiders`` package (and ``tests/``)."""
    return Path(importlib.import_module(SPIDER_PACKAGE).__path__[0]).resolve().parent


def check_new_site(name: str, url: str, spiders_dir: Path, tests_dir: Path) -> dict[str, str]:
    """The template variables for a new site; :class:`UsageError` when ``name`` or ``url`` cannot be one."""
    from newsclean import settings
    from newsclean.registry import known_sites

    if not NAME_RE.fullmatch(name) or keyword.iskeyword(name):
        raise UsageError(
            f"invalid site name {name!r}: use 2 to 40 lower-case letters, digits and _, starting with a letter "
            "(it names the spider, its module and its fixtures folder)"
        )
    if name == settings.BOT_NAME:
        raise UsageError(f"invalid site name {name!r}: it is the project's name")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"invalid URL {url!r}: give the site's address, e.g. https://www.example.com/")
    variables = template_variables(name, url)
    known = spider_names()
    if name in known:
        raise UsageError(f"a spider named {name!r} already exists ({known[name]})")
    for site in known_sites().values():
        if site.matches(url):
            raise UsageError(f"{parts.hostname} already belongs to the site {site.name!r}")
    for path in (spiders_dir / f"{variables['module']}.py", tests_dir / f"test_site_{variables['module']}.py"):
        if path.exists():
            raise UsageError(f"{path} already exists")
    return variables


def render(template: Path, variables: dict[str, str]) -> str:
    """``template`` rendered as Scrapy renders it: :class:`string.Template`, ``$$`` for a dollar."""
    return string.Template(template.read_text(encoding="utf-8")).substitute(variables)


def new_site(name: str, url: str, root: Path) -> list[Path]:
    """Write the spider module and its test stub for a new site under ``root``; the paths written."""
    spiders_dir, tests_dir = root / SPIDER_PACKAGE, root / "tests"
    variables = check_new_site(name, url, spiders_dir, tests_dir)
    spider = spiders_dir / f"{variables['module']}.py"
    test = tests_dir / f"test_site_{variables['module']}.py"
    contents = {spider: render(SPIDER_TEMPLATE, variables), test: render(TEST_TEMPLATE, variables)}
    for path, text in contents.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(contents)


def cmd_new_site(args: argparse.Namespace, out: TextIO) -> int:
    written = new_site(args.name, args.url, Path(args.root))
    for path in written:
        out.write(f"wrote {path}\n")
    out.write(
        f"next: fill in feeds, sitemaps, article_url and the rules in {written[0].name}, then save a page:\n"
        f"  newsclean fixture save {args.name} ARTICLE_URL\n"
    )
    return 0


def report(result: Extraction) -> str:
    """The fields, the text, then what each rule removed: what ``newsclean try`` prints."""
    lines = []
    if result.article is None:
        lines.append(f"no article: {result.reason}")
    else:
        for name, value in dataclasses.asdict(result.article).items():
            if name != "text":
                lines.append(f"{name}: {value if isinstance(value, str | int | float) else show(value)}")
        lines += ["", "text:", *(f"  {line}" if line else "" for line in result.article.text.split("\n"))]
    by_rule: dict[str, list[str]] = {}
    for rule, text in result.removed:
        by_rule.setdefault(rule, []).append(text)
    for rule, blocks in by_rule.items():
        lines += ["", f"removed by {rule}:"]
        for block in blocks:
            lines.append("  - " + "\n    ".join(block.splitlines()))
    return "\n".join(lines) + "\n"


def cmd_try(args: argparse.Namespace, out: TextIO) -> int:
    target, url = args.target, args.url
    if target == "-" or Path(target).is_file():
        body = read_input(target)
    elif urlsplit(target).scheme in ("http", "https"):
        page = fetch(target, args.mirror)
        body, url = page.body, url or page.url
    else:
        raise UsageError(f"no such file, and not an http(s) URL: {target}")
    from newsclean.extraction import extract

    result = extract(body, url, site_named(args.spider) if args.spider else None)
    out.write(report(result))
    return 0 if result.article is not None else 1


def add_commands(commands: Any) -> None:
    """Add ``new-site`` and ``try`` to the ``newsclean`` command's subparsers."""
    project = str(project_root())

    p = commands.add_parser("new-site", help="write a site spider module and its test stub from the template")
    p.add_argument("name", help="spider name: lower-case letters, digits, _ (also the module and fixtures folder)")
    p.add_argument("url", help="the site's address, e.g. https://www.example.com/")
    p.add_argument("--root", default=project, help="project folder holding spiders/ and tests/")
    p.set_defaults(run=cmd_new_site)

    p = commands.add_parser("try", help="extract one page and show its fields, text and what each rule removed")
    p.add_argument("target", metavar="URL|FILE", help="a URL to fetch, or a saved page (.html, .html.gz, -)")
    p.add_argument("--spider", help="apply this site spider's rules (default: the site the URL belongs to)")
    p.add_argument("--url", help="the page's URL, for a file: picks the site's rules and resolves links")
    p.add_argument("--mirror", default="", metavar="URL", help="fetch from this local mirror, as NEWSCLEAN_MIRROR")
    p.set_defaults(run=cmd_try)
