"""``newsclean fixture save`` (a page stored with its fields as extracted now), ``fixture rerun``
(every fixture re-extracted offline, what changed shown field by field) and ``fixture mark-empty``.
No Scrapy: the fixture format is :mod:`newsclean.fixtures`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from newsclean.cli.common import UsageError, check_http_url, fetch, read_input, site_named
from newsclean.dates import now
from newsclean.fixtures import (
    DEFAULT_ROOT,
    differences,
    dump_json,
    empty_fields,
    expected_fields,
    fixture_id,
    load_fixtures,
    update_fixture,
)


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
    site = site_named(spider)
    if not site.matches(url):
        raise UsageError(f"{url} is not on {spider}'s domains ({', '.join(site.domains)})")
    from newsclean.extraction import extract

    result = extract(body, url)
    if result.article is None:
        raise UsageError(f"no article extracted from {url}: {result.reason}")
    today = now().date().isoformat()
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
    if not site.is_article(url):
        err.write(f"warning: {spider}.article_url does not match {url}; the meta-tests will fail until it does\n")
    return meta_path


def cmd_fixture_save(args: argparse.Namespace, out: TextIO) -> int:
    url = args.url_option or args.url
    if not url:
        raise UsageError("give the page's URL (with --html, as URL or --url URL)")
    if args.url and args.url_option and args.url != args.url_option:
        raise UsageError("two different URLs given; give one")
    check_http_url(url)
    site_named(args.spider)
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


def rerun(root: Path, site: str | None, update: bool, out: TextIO, err: TextIO) -> int:
    """Re-extract every article and not-article fixture; 1 when any differs (and was not updated)."""
    fixtures = [f for f in load_fixtures(root, site) if f.kind in ("article", "not_article")]
    changed = left = 0
    from newsclean.extraction import extract

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
        site_named(args.spider)
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


def add_commands(commands: Any) -> None:
    """Add ``fixture save|rerun|mark-empty`` to the ``newsclean`` command's subparsers."""
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
