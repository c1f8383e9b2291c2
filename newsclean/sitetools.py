"""Tools for adding a site: ``new-site``, ``fixture save``, ``fixture rerun``, ``try``.

Called from :mod:`newsclean.cli`; every command takes its parsed arguments and an output stream,
writes what a person must review to standard error, and raises :class:`~newsclean.cli.UsageError`
(exit status 2) for bad input before writing anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import json
import keyword
import re
import string
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from newsclean.cli import UsageError, read_input
from newsclean.extraction import Extraction, SiteRules, extract
from newsclean.fixtures import DEFAULT_ROOT, Fixture, load_fixtures

TEMPLATES = Path(__file__).resolve().parent / "templates"
SPIDER_TEMPLATE = TEMPLATES / "spiders" / "newssite.tmpl"
TEST_TEMPLATE = TEMPLATES / "tests" / "site.tmpl"
SPIDER_PACKAGE = "spiders"
# The Article fields an article fixture's "expected" holds and tests compare; the others are derived
# (word_count, content_hash), depend on the run (fetched_at) or on the detector (language_probability).
FIXTURE_FIELDS: tuple[str, ...] = (
    "url",
    "canonical_url",
    "site",
    "title",
    "subtitle",
    "authors",
    "source",
    "published",
    "published_raw",
    "modified",
    "modified_raw",
    "section",
    "tags",
    "description",
    "image",
    "language",
    "text",
)
NAME_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")
# A string longer than this, or holding a line break, is shown as a diff of paragraphs.
LONG = 120


# --- new-site ---------------------------------------------------------------------------------


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
    """Name -> module of every spider in the ``spiders`` package, site and generic alike."""
    from newsclean.registry import spider_classes

    return {cls.name: cls.__module__ for cls in spider_classes()}


def project_root() -> Path:
    """The project folder: the one holding the ``spiders`` package (and ``tests/``)."""
    return Path(importlib.import_module(SPIDER_PACKAGE).__path__[0]).resolve().parent


def check_new_site(name: str, url: str, spiders_dir: Path, tests_dir: Path) -> dict[str, str]:
    """The template variables for a new site; :class:`UsageError` when ``name`` or ``url`` cannot be one."""
    from newsclean import settings
    from newsclean.registry import all_rules

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
    for rules in all_rules():
        if rules.matches(url):
            raise UsageError(f"{parts.hostname} already belongs to the site {rules.name!r}")
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
        f"next: fill in feeds, sitemaps, article_url and rules in {written[0].name}, then save a page:\n"
        f"  newsclean fixture save {args.name} ARTICLE_URL\n"
    )
    return 0


# --- fetching and fixtures --------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A fetched page: the final URL (after redirects), the body as served, its Content-Type."""

    url: str
    body: bytes
    content_type: str


def fetch(url: str, mirror: str = "", timeout: float = 30) -> Page:
    """GET ``url`` with newsclean's User-Agent; :class:`UsageError` when it cannot be fetched.

    With ``mirror`` (``http://127.0.0.1:PORT``, as ``NEWSCLEAN_MIRROR``) the page comes from there and
    keeps ``url`` as its URL.
    """
    from newsclean import settings
    from newsclean.mirror import mirrored_url

    request = urllib.request.Request(
        mirrored_url(url, mirror) if mirror else url, headers={"User-Agent": settings.USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            final = url if mirror else response.geturl()
            return Page(final, response.read(), response.headers.get("Content-Type", ""))
    except (urllib.error.URLError, OSError) as exc:
        raise UsageError(f"cannot fetch {url}: {exc}") from exc


def _check_http_url(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise UsageError(f"not an http(s) URL: {url!r}")
    return url


def site_spider(name: str) -> type:
    """The site spider called ``name``; :class:`UsageError` naming the known ones otherwise."""
    from newsclean.registry import site_spiders

    spiders = site_spiders()
    if name not in spiders:
        raise UsageError(f"no site spider named {name!r} (known: {', '.join(sorted(spiders))})")
    return spiders[name]


def expected_fields(article: Any) -> dict[str, Any]:
    """The fields of ``article`` that an article fixture's "expected" holds."""
    values = dataclasses.asdict(article)
    return {name: values[name] for name in FIXTURE_FIELDS}


def empty_fields(expected: dict[str, Any]) -> list[str]:
    """Names of the fields in ``expected`` whose value is empty."""
    return sorted(name for name, value in expected.items() if value in ("", [], {}, None))


def dump_json(meta: dict[str, Any]) -> str:
    """A fixture's JSON as stored: sorted keys, UTF-8 characters, indent 2, final newline."""
    return json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def slug(text: str, words: int = 6) -> str:
    """``Ukraine Captured North Korean Soldier ...`` -> ``ukraine-captured-north-korean-soldier-...``."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:words])


def fixture_name(article: Any, today: str) -> str:
    """``<date>_<slug>``: the article's publication date (else today) and a slug of its title or URL."""
    date = article.published[:10] if re.match(r"\d{4}-\d{2}-\d{2}", article.published) else today
    words = slug(article.title) or slug(urlsplit(article.url).path.rstrip("/").rsplit("/", 1)[-1]) or "article"
    return f"{date}_{words}"


def save_fixture(
    spider: str,
    url: str,
    body: bytes,
    root: Path = DEFAULT_ROOT,
    name: str | None = None,
    content_type: str = "",
    force: bool = False,
    err: TextIO | None = None,
    reconstructed: bool = False,
    note: str = "",
) -> Path:
    """Store ``body`` as an article fixture of ``spider`` with its fields as extracted now; the JSON's path."""
    err = err or sys.stderr  # looked up now, so a replaced sys.stderr (tests, a caller) is the one used
    cls = site_spider(spider)
    rules: SiteRules = cls.rules  # type: ignore[attr-defined]
    if not rules.matches(url):
        raise UsageError(f"{url} is not on {spider}'s domains ({', '.join(rules.domains)})")
    result = extract(body, url)
    if result.article is None:
        raise UsageError(f"no article extracted from {url}: {result.reason}")
    today = datetime.now(UTC).date().isoformat()
    stem = name or fixture_name(result.article, today)
    folder = root / spider
    body_path, meta_path = folder / f"{stem}.html", folder / f"{stem}.json"
    if not force and (body_path.exists() or meta_path.exists()):
        raise UsageError(f"{meta_path} already exists (--name another, or --force to replace it)")
    expected = expected_fields(result.article)
    meta: dict[str, Any] = {
        "url": url,
        "fetched": today,
        "reconstructed": reconstructed,
        "kind": "article",
        "expected": expected,
    }
    if note:
        meta["note"] = note
    if content_type:
        meta["content_type"] = content_type
    empty = empty_fields(expected)
    if empty:
        meta["empty"] = empty
    folder.mkdir(parents=True, exist_ok=True)
    body_path.write_bytes(body)
    meta_path.write_text(dump_json(meta), encoding="utf-8")
    err.write(f"saved {body_path} and {meta_path.name}: review its expected fields before committing\n")
    if empty:
        err.write(f'empty fields, marked as empty by design in "empty": {", ".join(empty)}; check each\n')
    if not re.search(cls.article_url, url):  # type: ignore[attr-defined]
        err.write(f"warning: {spider}.article_url does not match {url}; the meta-tests will fail until it does\n")
    return meta_path


def cmd_fixture_save(args: argparse.Namespace, out: TextIO) -> int:
    url = args.url_option or args.url
    if not url:
        raise UsageError("give the page's URL (with --html, as URL or --url URL)")
    if args.url and args.url_option and args.url != args.url_option:
        raise UsageError("two different URLs given; give one")
    _check_http_url(url)
    site_spider(args.spider)
    if args.reconstructed and not args.html:
        raise UsageError("--reconstructed is for a page built by hand: give it with --html FILE")
    if args.html:
        if args.html != "-" and not Path(args.html).is_file():
            raise UsageError(f"no such file: {args.html}")
        body, content_type = read_input(args.html), ""
    else:
        page = fetch(url, args.mirror)
        if page.url != url:
            print(f"{url} redirected to {page.url}; saving under the final URL", file=sys.stderr)
        url, body, content_type = page.url, page.body, page.content_type
    path = save_fixture(
        args.spider,
        url,
        body,
        Path(args.root),
        args.name,
        content_type,
        args.force,
        reconstructed=args.reconstructed,
        note=args.note,
    )
    out.write(f"{path}\n")
    return 0


# --- fixture rerun ----------------------------------------------------------------------------


def fixture_id(fixture: Fixture) -> str:
    """``<site>/<body file>``: how reports and test ids name a fixture."""
    return f"{fixture.site}/{fixture.body_path.name}"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def describe(label: str, field: str, want: Any, got: Any) -> str:
    """One difference: ``<label>: <field>: expected ... got ...``, long texts as a diff of paragraphs."""
    long = isinstance(want, str) and isinstance(got, str) and max(len(want), len(got)) > LONG
    if long or "\n" in f"{want}{got}":
        diff = difflib.unified_diff(
            str(want).split("\n\n"), str(got).split("\n\n"), "expected", "got", lineterm="", n=1
        )
        return f"{label}: {field}: expected ... got ... (paragraphs):\n" + "\n".join(diff)
    return f"{label}: {field}: expected {_show(want)} got {_show(got)}"


def differences(fixture: Fixture, result: Extraction | None = None) -> list[str]:
    """What extracting ``fixture`` now gives that its JSON does not expect, one line per field."""
    label = fixture_id(fixture)
    result = result or extract(fixture.body(), fixture.url)
    if fixture.kind == "not_article":
        want = fixture.expected.get("reason", "")
        if result.article is not None:
            return [f"{label}: reason: expected {_show(want)} got an article ({_show(result.article.title)})"]
        return [] if want in result.reason else [describe(label, "reason", want, result.reason)]
    if result.article is None:
        return [f"{label}: no article extracted: {result.reason}"]
    got = dataclasses.asdict(result.article)
    return [describe(label, k, want, got.get(k)) for k, want in fixture.expected.items() if got.get(k) != want]


def update_fixture(fixture: Fixture, result: Extraction) -> list[str]:
    """Rewrite ``fixture``'s JSON to expect what ``result`` holds; the fields that are now empty."""
    meta = dict(fixture.meta)
    meta_path = fixture.body_path.with_suffix(".json")
    if fixture.kind == "not_article":
        meta["expected"] = {**fixture.expected, "reason": result.reason}
        empty: list[str] = []
    else:
        assert result.article is not None
        meta["expected"] = expected_fields(result.article)
        empty = empty_fields(meta["expected"])
        meta.pop("empty", None)
        if empty:
            meta["empty"] = empty
    meta_path.write_text(dump_json(meta), encoding="utf-8")
    return empty


def rerun(root: Path, site: str | None, update: bool, out: TextIO, err: TextIO) -> int:
    """Re-extract every article and not-article fixture; 1 when any differs (and was not updated)."""
    fixtures = [f for f in load_fixtures(root, site) if f.kind in ("article", "not_article")]
    changed = left = 0
    for fixture in fixtures:
        result = extract(fixture.body(), fixture.url)
        found = differences(fixture, result)
        if not found:
            continue
        changed += 1
        out.write("\n".join(found) + "\n")
        if not update:
            left += 1
        elif (result.article is None) is (fixture.kind == "article"):  # the page changed kind: a person decides
            now = "no article" if result.article is None else "an article"
            err.write(f"{fixture_id(fixture)}: not updated: it now gives {now}; edit its kind by hand\n")
            left += 1
        else:
            empty = update_fixture(fixture, result)
            err.write(f"updated {fixture_id(fixture)}" + (f"; empty: {', '.join(empty)}" if empty else "") + "\n")
    updated = f", {changed - left} updated" if update else ""
    err.write(f"{len(fixtures)} fixtures re-extracted, {changed} differ{updated}\n")
    return 1 if left else 0


def cmd_fixture_rerun(args: argparse.Namespace, out: TextIO) -> int:
    if args.spider:
        site_spider(args.spider)
    return rerun(Path(args.root), args.spider, args.update, out, sys.stderr)


def mark_empty(root: Path = DEFAULT_ROOT) -> list[Path]:
    """Give every article fixture that has no "empty" list one naming its empty expected fields."""
    written = []
    for fixture in load_fixtures(root):
        empty = empty_fields(fixture.expected)
        if fixture.kind != "article" or "empty" in fixture.meta or not empty:
            continue
        path = fixture.body_path.with_suffix(".json")
        path.write_text(dump_json({**fixture.meta, "empty": empty}), encoding="utf-8")
        written.append(path)
    return written


def cmd_fixture_mark_empty(args: argparse.Namespace, out: TextIO) -> int:
    for path in mark_empty(Path(args.root)):
        out.write(f"{path}\n")
    return 0


# --- try --------------------------------------------------------------------------------------


def report(result: Extraction) -> str:
    """The fields, the text, then what each rule removed: what ``newsclean try`` prints."""
    lines = []
    if result.article is None:
        lines.append(f"no article: {result.reason}")
    else:
        for name, value in dataclasses.asdict(result.article).items():
            if name != "text":
                lines.append(f"{name}: {value if isinstance(value, str | int | float) else _show(value)}")
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
    rules = site_spider(args.spider).rules if args.spider else None
    result = extract(body, url, rules)
    out.write(report(result))
    return 0 if result.article is not None else 1


# --- the parser -------------------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """Add ``new-site``, ``fixture`` and ``try`` to the ``newsclean`` command's subparsers."""
    project = str(project_root())

    p = commands.add_parser("new-site", help="write a site spider module and its test stub from the template")
    p.add_argument("name", help="spider name: lower-case letters, digits, _ (also the module and fixtures folder)")
    p.add_argument("url", help="the site's address, e.g. https://www.example.com/")
    p.add_argument("--root", default=project, help="project folder holding spiders/ and tests/")
    p.set_defaults(run=cmd_new_site)

    p = commands.add_parser("fixture", help="save a page as a fixture, or re-extract the saved fixtures")
    actions = p.add_subparsers(dest="action", required=True)
    s = actions.add_parser("save", help="fetch a page and store it with its fields as extracted now")
    s.add_argument("spider", help="the site spider the page belongs to")
    s.add_argument("url", nargs="?", help="the page's URL (fetched unless --html is given)")
    s.add_argument("--html", metavar="FILE", help="read the page from FILE (.html, .html.gz, -) instead of fetching")
    s.add_argument("--url", dest="url_option", metavar="URL", help="the page's URL, with --html")
    s.add_argument("--name", help="fixture name (default <published date>_<title slug>)")
    s.add_argument("--force", action="store_true", help="replace a fixture of the same name")
    s.add_argument(
        "--reconstructed", action="store_true", help='the page was rebuilt, not fetched: "reconstructed": true'
    )
    s.add_argument("--note", default="", help="what the page is and how it was made, stored as the JSON's note")
    s.add_argument("--root", default=str(DEFAULT_ROOT), help="fixtures folder")
    s.add_argument("--mirror", default="", metavar="URL", help="fetch from this local mirror, as NEWSCLEAN_MIRROR")
    s.set_defaults(run=cmd_fixture_save)

    s = actions.add_parser("rerun", help="re-extract every fixture offline and show what changed, field by field")
    s.add_argument("spider", nargs="?", help="only this site's fixtures")
    s.add_argument("--update", action="store_true", help="accept the changes: rewrite the expected fields")
    s.add_argument("--root", default=str(DEFAULT_ROOT), help="fixtures folder")
    s.set_defaults(run=cmd_fixture_rerun)

    s = actions.add_parser("mark-empty", help='add an "empty" list to article fixtures that have none')
    s.add_argument("--root", default=str(DEFAULT_ROOT), help="fixtures folder")
    s.set_defaults(run=cmd_fixture_mark_empty)

    p = commands.add_parser("try", help="extract one page and show its fields, text and what each rule removed")
    p.add_argument("target", metavar="URL|FILE", help="a URL to fetch, or a saved page (.html, .html.gz, -)")
    p.add_argument("--spider", help="apply this site spider's rules (default: the site the URL belongs to)")
    p.add_argument("--url", help="the page's URL, for a file: picks the site's rules and resolves links")
    p.add_argument("--mirror", default="", metavar="URL", help="fetch from this local mirror, as NEWSCLEAN_MIRROR")
    p.set_defaults(run=cmd_try)
