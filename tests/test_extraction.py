"""Extraction as a library: no Scrapy, never raises, decodes bytes right, detects language."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsclean.extraction import detect_language, extract, extract_article
from newsclean.extraction.html import decode
from newsclean.registry import site_for_url
from newsclean.sites import GENERIC, Site

PARAGRAPHS = [
    "The city council voted on Tuesday to extend the night bus network to three outer districts.",
    "Officials said the new routes would start in March and cost about two million a year to run.",
    "Residents of the districts had campaigned for the change for more than five years.",
]


def _page(body: str, head: str = "", lang: str = "en") -> str:
    head = f"<head><title>Night buses</title>{head}</head>"
    return f"<html lang='{lang}'>{head}<body><article>{body}</article></body></html>"


def test_extraction_does_not_import_scrapy() -> None:
    code = (
        "import sys; from newsclean.extraction import extract_article; from newsclean.sites import GENERIC;"
        f"a = extract_article({_page(''.join(f'<p>{p}</p>' for p in PARAGRAPHS))!r}, 'https://x.example/a', GENERIC);"
        "assert a is not None; assert 'scrapy' not in sys.modules, 'scrapy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\xff",
        "   ",
        "<html>",
        b"\x1f\x8b\x08\x00garbage",
        "<?xml version='1.0' encoding='utf-8'?><x/>",
        "<p>" * 5000,
        b"<html><body>" + bytes(range(256)) + b"</body></html>",
    ],
)
def test_never_raises_and_gives_a_reason(data: str | bytes) -> None:
    result = extract(data, "https://x.example/a", GENERIC)
    assert result.article is None or result.article.text
    if result.article is None:
        assert result.reason


@pytest.mark.parametrize(
    ("data", "encoding", "expected"),
    [
        # The HTTP charset wins over the page's own declaration (the HTML standard's order) ...
        ("<meta charset='utf-8'><p>Café</p>".encode("cp1252"), "cp1252", "Café"),
        # ... a byte order mark wins over both ...
        (b"\xef\xbb\xbf<meta charset='cp1252'><p>Caf\xc3\xa9</p>", "cp1252", "Café"),
        # ... and a charset the bytes do not fit (or no codec knows) gives way to the page's.
        ("<meta charset='cp1251'><p>Кафе на площади</p>".encode("cp1251"), "utf-8", "Кафе на площади"),
        ("<meta charset='cp1251'><p>Кафе</p>".encode("cp1251"), "no-such-codec", "Кафе"),
    ],
)
def test_bytes_decoded_by_bom_then_http_charset_then_page_charset(data: bytes, encoding: str, expected: str) -> None:
    assert expected in decode(data, encoding)


def test_the_crawl_process_does_not_load_the_extractors() -> None:
    # With worker processes, the crawl reads rules and results only: trafilatura, readability and
    # langdetect stay out of it (about 20 MB and 0.3 s of imports).
    code = (
        "import sys; import newsclean.settings, newsclean.crawl.spider, newsclean.crawl.pipelines;"
        "import newsclean.crawl.middlewares, newsclean.crawl.extensions, newsclean.crawl.sites, newsclean.store;"
        "from newsclean.extraction import Extraction;"
        "heavy = sorted({'trafilatura', 'readability', 'langdetect', 'justext'} & set(sys.modules));"
        "assert not heavy, heavy; from newsclean.extraction import extract; assert 'trafilatura' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bytes_decoded_by_declared_charset() -> None:
    text = "Городской совет во вторник проголосовал за продление ночных автобусных маршрутов в три района."
    html = (
        f"<html><head><meta charset='windows-1251'><title>Т</title></head><body><article><p>{text}</p>"
        f"<p>{text} Ещё раз.</p></article></body></html>"
    )
    article = extract_article(html.encode("cp1251"), "https://x.example/a", GENERIC)
    assert article is not None
    assert text in article.text
    assert article.language == "ru"


def test_language_is_deterministic_and_falls_back_to_html_lang() -> None:
    text = " ".join(PARAGRAPHS)
    assert detect_language(text) == detect_language(text)
    assert detect_language(text)[0] == "en"
    assert detect_language("Kurz.", "de-AT") == ("de", 1.0)
    assert detect_language("", "") == ("", 0.0)


def test_site_rules_prune_drop_and_read_fields() -> None:
    rules = Site(
        name="example",
        domains=("example.org",),
        prune=("//aside", "//div[@class='byline']"),
        drop_lines=(r"Subscribe now.*",),
        line_fields={"source": r"Source:\s*(.+)"},
        fields={"authors": "//span[@class='by']"},
    )
    body = (
        f"<p>{PARAGRAPHS[0]}</p><aside>Related: another story entirely about trams</aside>"
        f"<p>{PARAGRAPHS[1]}</p><p>Subscribe now for unlimited access</p><p>{PARAGRAPHS[2]}</p>"
        "<p>Source: Reuters</p><div class='byline'><span class='by'>Ann Lee</span><span class='by'>Bo Kim</span></div>"
    )
    result = extract(_page(body), "https://www.example.org/a", rules)
    assert result.article is not None
    assert result.article.text == "\n\n".join(PARAGRAPHS)
    assert result.article.source == "Reuters"
    assert result.article.authors == ["Ann Lee", "Bo Kim"]
    removed_by = {rule.split(":")[0] for rule, _ in result.removed}
    assert {"prune", "drop_lines", "line_fields"} <= removed_by


def test_rules_are_picked_by_domain() -> None:
    assert site_for_url("https://www.themoscowtimes.com/2024/12/27/x-a1").name == "themoscowtimes"
    assert site_for_url("https://trtworld.com/article/0123456789ab").name == "trtworld"
    assert site_for_url("https://nottrtworld.com/a") is GENERIC
    html = _page("".join(f"<p>{p}</p>" for p in PARAGRAPHS))
    other = extract_article(html, "https://news.example.net/x")
    assert other is not None
    assert (other.rules, other.site) == ("generic", "news.example.net")


def test_json_ld_beats_open_graph_and_agency_bylines_go_to_source() -> None:
    head = (
        '<meta property="og:title" content="Night buses | The Daily">'
        '<meta property="article:published_time" content="2024-01-01T00:00:00Z">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Night buses extended",'
        ' "datePublished": "2024-12-30T10:00:00+01:00", "author": [{"@type": "Person", "name": "Ann Lee"},'
        ' {"@type": "Person", "name": "AFP"}]}</script>'
    )
    article = extract_article(_page("".join(f"<p>{p}</p>" for p in PARAGRAPHS), head), "https://x.example/a", GENERIC)
    assert article is not None
    assert article.title == "Night buses extended"
    assert (article.published, article.published_raw) == ("2024-12-30T10:00:00+01:00", "2024-12-30T10:00:00+01:00")
    assert (article.authors, article.source) == (["Ann Lee"], "AFP")


@pytest.mark.parametrize(
    "tags_head",
    [
        '<meta property="article:tag" content="Transport"><meta property="article:tag" content="Night life">',
        '<meta property="article:tag" content="Transport,Night life">',  # one tag, comma-joined (the Guardian)
    ],
)
def test_article_tag_one_per_tag_or_comma_joined(tags_head: str) -> None:
    article = extract_article(_page("".join(f"<p>{p}</p>" for p in PARAGRAPHS), tags_head), "https://x.example/a")
    assert article is not None
    assert article.tags == ["Transport", "Night life"]


def test_repeated_paragraph_and_title_line_removed() -> None:
    body = "<h1>Night buses extended</h1>" + "".join(f"<p>{p}</p>" for p in [PARAGRAPHS[0], *PARAGRAPHS])
    article = extract_article(_page(body), "https://x.example/a", GENERIC)
    assert article is not None
    assert article.text == "\n\n".join(PARAGRAPHS)


def test_list_items_are_paragraphs_without_markers() -> None:
    body = f"<p>{PARAGRAPHS[0]}</p><ul><li>night buses to the north</li><li>night buses to the east</li></ul>"
    body += f"<p>{PARAGRAPHS[1]}</p>"
    article = extract_article(_page(body), "https://x.example/a", GENERIC)
    assert article is not None
    assert article.text.split("\n\n") == [
        PARAGRAPHS[0],
        "night buses to the north",
        "night buses to the east",
        PARAGRAPHS[1],
    ]


def test_known_site_page_without_its_body_is_not_an_article() -> None:
    rules = Site(name="example", domains=("example.org",), body=("//div[@class='story']",))
    html = _page("".join(f"<p>{p}</p>" for p in PARAGRAPHS))
    result = extract(html, "https://example.org/section", rules)
    assert result.article is None
    assert result.reason.startswith("no article body")


def test_collection_page_is_not_an_article() -> None:
    head = '<script type="application/ld+json">{"@type": "CollectionPage", "name": "World news"}</script>'
    result = extract(_page("".join(f"<p>{p}</p>" for p in PARAGRAPHS), head), "https://x.example/world", GENERIC)
    assert result.article is None
    assert "not an article" in result.reason


def test_every_body_part_is_kept_including_a_bare_text_lead() -> None:
    # trafilatura, given both parts, picks the one whose class looks like content and skips a div of
    # bare text next to enough paragraph text: the site's body parts must all survive that.
    rules = Site(
        name="example", domains=("example.org",), body=("//div[@class='intro']", "//div[@class='article__content']")
    )
    lead = "The city will run night buses to three outer districts from March, the council decided on Tuesday."
    paragraphs = PARAGRAPHS * 3
    paragraphs = [f"{p} ({i})" for i, p in enumerate(paragraphs)]
    content = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = _page(f"<div class='intro'>{lead}</div><div class='article__content'>{content}</div>")
    article = extract_article(html, "https://example.org/a", rules)
    assert article is not None
    assert article.text.split("\n\n") == [lead, *paragraphs]
