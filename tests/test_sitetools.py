"""The site-adding commands: ``new-site``, ``fixture save``, ``fixture rerun``, ``try``; all offline."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from newsclean import settings
from newsclean.cli import main
from newsclean.fixtures import FIXTURE_FIELDS, Fixture, dump_json, fixture_id, load_fixtures

from .conftest import ROOT
from .helpers import http_server

SEED = next(f for f in load_fixtures(site="themoscowtimes") if f.kind == "article")
NOT_ARTICLE_PAGE = b"<html><head><title>x</title></head><body><script>app()</script></body></html>"


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def _copy(fixture: Fixture, root: Path) -> Path:
    """Copy ``fixture`` under ``root``; the path of its JSON there."""
    folder = root / fixture.site
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixture.body_path, folder / fixture.body_path.name)
    return Path(shutil.copy(fixture.body_path.with_suffix(".json"), folder / f"{fixture.body_path.stem}.json"))


@pytest.fixture
def page_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback server answering every GET with the seed page; yields its URL and the requests' headers."""
    seen: list[dict[str, str]] = []

    def respond(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        seen.append({"path": request.path, **dict(request.headers)})
        return 200, {"Content-Type": "text/html; charset=utf-8"}, SEED.body()

    with http_server(respond) as url:
        yield url, seen


# --- new-site ---------------------------------------------------------------------------------


def test_new_site_writes_a_spider_module_and_a_test_stub(tmp_path: Path) -> None:
    status, out = _run("new-site", "example_news", "https://www.example.com/news", "--root", str(tmp_path))
    assert status == 0
    spider, test = tmp_path / "spiders" / "example_news.py", tmp_path / "tests" / "test_site_example_news.py"
    assert f"wrote {spider}" in out
    assert f"wrote {test}" in out
    code = spider.read_text(encoding="utf-8")
    for line in ("SITE = Site(", 'name="example_news"', 'domains=("www.example.com",)'):
        assert line in code
    namespace: dict[str, Any] = {}
    exec(compile(code, str(spider), "exec"), namespace)  # the module runs: a valid Site declaration
    site = namespace["SITE"]
    assert site.name == "example_news"
    assert site.matches("https://www.example.com/a")
    assert "from spiders.example_news import SITE" in test.read_text(encoding="utf-8")
    compile(test.read_text(encoding="utf-8"), str(test), "exec")


def test_new_site_output_is_ruff_clean(tmp_path: Path) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed beside this interpreter")
    assert _run("new-site", "example_news", "https://example.com/", "--root", str(tmp_path))[0] == 0
    for args in (["check"], ["format", "--check"]):
        proc = subprocess.run(
            [str(ruff), *args, "--config", str(ROOT / "pyproject.toml"), str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.crawl
def test_genspider_template_makes_the_same_module(tmp_path: Path, run_env: dict[str, str]) -> None:
    assert _run("new-site", "example_news", "https://example.com", "--root", str(tmp_path / "new"))[0] == 0
    package = tmp_path / "gen" / "genspiders"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    # NEWSPIDER_MODULE points genspider at a throw-away package, so the project's spiders/ stays untouched.
    proc = subprocess.run(
        ["scrapy", "genspider", "-t", "newssite", "-s", "NEWSPIDER_MODULE=genspiders", "example_news", "example.com"],
        cwd=ROOT,
        env={**run_env, "PYTHONPATH": str(tmp_path / "gen")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    generated = (package / "example_news.py").read_text(encoding="utf-8")
    assert generated == (tmp_path / "new" / "spiders" / "example_news.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "message"),
    [("trtworld", "a spider named 'trtworld' already exists"), ("Bad-Name", "invalid site name 'Bad-Name'")],
)
@pytest.mark.crawl
def test_genspider_refuses_taken_or_invalid_names_with_exit_2(name: str, message: str, run_env: dict[str, str]) -> None:
    before = sorted(p.name for p in (ROOT / "spiders").iterdir())
    proc = subprocess.run(
        ["scrapy", "genspider", "-t", "newssite", name, "example.com"],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert sorted(p.name for p in (ROOT / "spiders").iterdir()) == before


@pytest.mark.parametrize(
    ("name", "url", "message"),
    [
        ("trtworld", "https://www.example.com/", "a spider named 'trtworld' already exists"),
        ("feed", "https://www.example.com/", "a spider named 'feed' already exists"),
        ("Bad-Name", "https://www.example.com/", "invalid site name 'Bad-Name'"),
        ("class", "https://www.example.com/", "invalid site name 'class'"),
        ("newsclean", "https://www.example.com/", "the project's name"),
        ("example", "ftp://www.example.com/", "invalid URL"),
        ("example", "www.example.com", "invalid URL"),
        ("trt_copy", "https://news.trtworld.com/", "already belongs to the site 'trtworld'"),
    ],
)
def test_new_site_refuses_bad_or_taken_names(
    name: str, url: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("new-site", name, url, "--root", str(tmp_path)) == (2, "")
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_new_site_refuses_an_existing_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_site_example.py").write_text("# mine\n", encoding="utf-8")
    assert _run("new-site", "example", "https://example.com/", "--root", str(tmp_path)) == (2, "")
    assert "test_site_example.py already exists" in capsys.readouterr().err
    assert not (tmp_path / "spiders").exists()


# --- fixture save -----------------------------------------------------------------------------


def _expected_of_seed() -> dict[str, Any]:
    return {name: SEED.expected[name] for name in FIXTURE_FIELDS}


def test_fixture_save_offline_stores_body_and_expected_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fixtures"
    status, out = _run(
        "fixture", "save", "themoscowtimes", "--html", str(SEED.body_path), "--url", SEED.url, "--root", str(root)
    )
    assert status == 0
    meta_path = root / "themoscowtimes" / "2024-12-27_ukraine-captured-north-korean-soldier-fighting.json"
    assert out == f"{meta_path}\n"
    assert meta_path.with_suffix(".html").read_bytes() == SEED.body()
    text = meta_path.read_text(encoding="utf-8")
    meta = json.loads(text)
    assert text == dump_json(meta)  # sorted keys, indent 2, UTF-8, final newline
    assert meta["url"] == SEED.url
    assert meta["reconstructed"] is False
    assert meta["kind"] == "article"
    assert meta["expected"] == _expected_of_seed()
    assert meta["empty"] == ["authors", "subtitle"]
    err = capsys.readouterr().err
    assert "review" in err
    assert "empty fields" in err
    assert "authors, subtitle" in err
    [saved] = load_fixtures(root)
    assert saved.kind == "article"


def test_fixture_save_marks_a_reconstructed_page_with_its_note(tmp_path: Path) -> None:
    argv = ["fixture", "save", "themoscowtimes", "--html", str(SEED.body_path), "--url", SEED.url, "--name", "seed"]
    status, _ = _run(*argv, "--reconstructed", "--note", "Rebuilt from the templates.", "--root", str(tmp_path))
    assert status == 0
    meta = json.loads((tmp_path / "themoscowtimes" / "seed.json").read_text(encoding="utf-8"))
    assert (meta["reconstructed"], meta["note"]) == (True, "Rebuilt from the templates.")


def test_fixture_save_fetches_with_newsclean_user_agent(
    tmp_path: Path, page_server: tuple[str, list[dict[str, str]]]
) -> None:
    mirror, seen = page_server
    status, _ = _run(
        "fixture", "save", "themoscowtimes", SEED.url, "--mirror", mirror, "--name", "seed", "--root", str(tmp_path)
    )
    assert status == 0
    [request] = seen
    assert request["User-Agent"] == settings.USER_AGENT
    assert request["path"] == "/" + SEED.url.split("://", 1)[1]
    meta = json.loads((tmp_path / "themoscowtimes" / "seed.json").read_text(encoding="utf-8"))
    assert meta["url"] == SEED.url
    assert meta["content_type"] == "text/html; charset=utf-8"
    assert meta["expected"] == _expected_of_seed()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuchsite", "--html", "PAGE", "--url", "URL"], "no site spider named 'nosuchsite'"),
        (["trtworld", "--html", "PAGE", "--url", "URL"], "is not on trtworld's domains"),
        (["themoscowtimes", "--html", "PAGE"], "give the page's URL"),
        (["themoscowtimes", "--html", "/nonexistent.html", "--url", "URL"], "no such file"),
        (["themoscowtimes", "--html", "PAGE", "--url", "ftp://x"], "not an http(s) URL"),
        (["themoscowtimes", "--html", "EMPTY", "--url", "URL"], "no article extracted"),
        (["themoscowtimes", "URL", "--mirror", "http://127.0.0.1:9"], "cannot fetch"),
        (["themoscowtimes", "URL", "--reconstructed"], "--reconstructed is for a page built by hand"),
    ],
)
def test_fixture_save_refuses_bad_input_and_writes_nothing(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(NOT_ARTICLE_PAGE)
    values = {"PAGE": str(SEED.body_path), "URL": SEED.url, "EMPTY": str(empty)}
    root = tmp_path / "fixtures"
    assert _run("fixture", "save", *[values.get(a, a) for a in argv], "--root", str(root)) == (2, "")
    assert message in capsys.readouterr().err
    assert not root.exists()


def test_fixture_save_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["fixture", "save", "themoscowtimes", "--html", str(SEED.body_path), "--url", SEED.url]
    argv += ["--root", str(tmp_path), "--name", "seed"]
    assert _run(*argv)[0] == 0
    assert _run(*argv) == (2, "")
    assert "already exists" in capsys.readouterr().err
    assert _run(*argv, "--force")[0] == 0


# --- fixture rerun ----------------------------------------------------------------------------


def test_rerun_passes_on_unchanged_fixtures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fixture in load_fixtures():
        if fixture.kind == "article":
            _copy(fixture, tmp_path)
    assert _run("fixture", "rerun", "--root", str(tmp_path)) == (0, "")
    assert "0 differ" in capsys.readouterr().err


def test_rerun_shows_differences_field_by_field_and_update_accepts_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta_path = _copy(SEED, tmp_path)
    original = meta_path.read_text(encoding="utf-8")
    meta = json.loads(original)
    paragraphs = meta["expected"]["text"].split("\n\n")
    meta["expected"]["title"] = "An Old Title"
    meta["expected"]["text"] = "\n\n".join([paragraphs[0], "A paragraph the page no longer has.", *paragraphs[1:]])
    meta_path.write_text(dump_json(meta), encoding="utf-8")

    status, out = _run("fixture", "rerun", "themoscowtimes", "--root", str(tmp_path))
    assert status == 1
    label = fixture_id(SEED)
    assert f'{label}: title: expected "An Old Title" got "{SEED.expected["title"]}"' in out
    assert f"{label}: text: expected ... got ... (paragraphs):" in out
    assert "\n-A paragraph the page no longer has.\n" in out
    diff = out.split("(paragraphs):\n", 1)[1].splitlines()
    assert [line for line in diff[2:] if line.startswith("+")] == []  # nothing added, one paragraph gone
    assert "1 differ" in capsys.readouterr().err

    status, _ = _run("fixture", "rerun", "--update", "--root", str(tmp_path))
    assert status == 0
    assert f"updated {label}" in capsys.readouterr().err
    assert meta_path.read_text(encoding="utf-8") == original  # same fields, same formatting, note kept
    assert _run("fixture", "rerun", "--root", str(tmp_path))[0] == 0


def test_rerun_checks_not_article_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "trtworld"
    folder.mkdir()
    (folder / "app-shell.html").write_bytes(NOT_ARTICLE_PAGE)
    meta = {"url": "https://www.trtworld.com/app", "kind": "not_article", "expected": {"reason": "no such reason"}}
    (folder / "app-shell.json").write_text(dump_json(meta), encoding="utf-8")
    status, out = _run("fixture", "rerun", "--root", str(tmp_path))
    assert status == 1
    reason = "no article body (the site rules' body XPaths match nothing)"
    assert out == f'trtworld/app-shell.html: reason: expected "no such reason" got "{reason}"\n'
    assert _run("fixture", "rerun", "--update", "--root", str(tmp_path))[0] == 0
    assert json.loads((folder / "app-shell.json").read_text(encoding="utf-8"))["expected"] == {"reason": reason}


def test_rerun_refuses_an_unknown_spider(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("fixture", "rerun", "nosuchsite") == (2, "")
    assert "no site spider named 'nosuchsite'" in capsys.readouterr().err


def test_mark_empty_adds_the_list_only_where_missing(tmp_path: Path) -> None:
    meta_path = _copy(SEED, tmp_path)
    original = meta_path.read_text(encoding="utf-8")
    meta = json.loads(original)
    del meta["empty"]
    meta_path.write_text(dump_json(meta), encoding="utf-8")
    assert _run("fixture", "mark-empty", "--root", str(tmp_path)) == (0, f"{meta_path}\n")
    assert meta_path.read_text(encoding="utf-8") == original
    assert _run("fixture", "mark-empty", "--root", str(tmp_path)) == (0, "")


# --- try --------------------------------------------------------------------------------------


def test_try_prints_fields_then_text_then_removed_blocks_by_rule() -> None:
    status, out = _run("try", str(SEED.body_path), "--url", SEED.url)
    assert status == 0
    assert out.startswith(f"url: {SEED.url}\n")
    assert f"\ntitle: {SEED.expected['title']}\n" in out
    assert '\ntags: ["North Korea", "Ukraine war", "Kursk"]\n' in out
    fields, rest = out.split("\ntext:\n", 1)
    text, removed = rest.split("\nremoved by ", 1)
    assert [line.strip() for line in text.strip().split("\n\n")] == SEED.expected["text"].split("\n\n")
    assert "rules: themoscowtimes" in fields
    assert "article__related-article" in removed.split("\n", 1)[0]
    assert "  - Related article: Lavrov Claims France Sought Dialogue on Ukraine War Without Kyiv\n" in removed


def test_try_with_another_spiders_rules(tmp_path: Path) -> None:
    assert _run("try", str(SEED.body_path), "--url", SEED.url)[0] == 0
    # TRT World's rules look for TRT World's article body, which a Moscow Times page has not.
    status, out = _run("try", str(SEED.body_path), "--url", SEED.url, "--spider", "trtworld")
    assert status == 1
    assert out.startswith("no article: no article body (the site rules' body XPaths match nothing)\n")
    assert "\nremoved by prune://article//header:\n" in out  # what TRT World's rules took away


def test_try_fetches_a_url(page_server: tuple[str, list[dict[str, str]]]) -> None:
    mirror, seen = page_server
    status, out = _run("try", SEED.url, "--mirror", mirror)
    assert status == 0
    assert out.startswith(f"url: {SEED.url}\n")
    assert seen[0]["User-Agent"] == settings.USER_AGENT


def test_try_on_a_page_without_article_says_why(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_bytes(NOT_ARTICLE_PAGE)
    assert _run("try", str(page)) == (1, "no article: no article text found\n")


def test_try_refuses_what_is_neither_file_nor_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("try", "/nonexistent/page.html") == (2, "")
    assert "no such file, and not an http(s) URL" in capsys.readouterr().err
