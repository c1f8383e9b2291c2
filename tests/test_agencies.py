"""Agencies: every signal a page gives names its agency in `source`, recorded in `source_evidence`."""

from __future__ import annotations

import pytest

from newsclean.extraction import agencies, extract
from newsclean.extraction.result import Removal

BODY = [
    "The central bank raised its key rate by two percentage points on Friday, more than analysts had expected.",
    "The bank said inflation had not slowed as fast as it had forecast in the autumn, and would stay high.",
]


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("Agence France-Presse", "AFP"),
        ("The Associated Press", "AP"),
        ("dpa-infocom", "dpa"),
        ("Anadolu Agency", "Anadolu"),
        ("AA", "Anadolu"),
        ("Thomson Reuters", "Reuters"),
        ("TRT World & Agencies", "TRT World & Agencies"),
    ],
)
def test_names_are_normalised(alias: str, name: str) -> None:
    assert agencies.normalise(alias) == name


@pytest.mark.parametrize(
    ("first", "name"),
    [
        ("MOSCOW (Reuters) - The central bank raised its key rate.", "Reuters"),
        ("WASHINGTON, Dec 27 (Reuters) — The Federal Reserve held rates.", "Reuters"),
        ("(AP) — A powerful storm swept across the region on Friday.", "AP"),
        ("KYIV (AFP) – Ukraine said it had captured a soldier.", "AFP"),
        ("BERLIN (dpa) - Die Bahn streicht Verbindungen.", "dpa"),
        ("ANKARA (AA) - Turkey's central bank cut rates.", "Anadolu"),
    ],
)
def test_a_dateline_names_the_agency_and_stays_in_the_text(first: str, name: str) -> None:
    lines, signals = agencies.scan([first, *BODY], [])
    assert lines == [first, *BODY]
    assert signals.found == [("dateline", name)]


def test_a_parenthesis_that_is_no_agency_is_no_dateline() -> None:
    first = "LONDON (Updated) - The mayor (Labour) said on Friday that fares would rise."
    assert agencies.scan([first, *BODY], [])[1].found == []


def test_credit_source_and_trailer_lines_go_from_the_text_to_the_evidence() -> None:
    removed: list[Removal] = []
    lines, signals = agencies.scan(
        ["SOURCE: Agence France-Presse", *BODY, "(Reporting by Jane Roe; Editing by John Doe)", "— AFP"], removed
    )
    assert lines == BODY
    assert signals.found == [("source_line", "AFP"), ("credit", "Reuters"), ("trailer", "AFP")]
    assert [rule for rule, _ in removed] == ["agencies:source_line", "agencies:credit_line", "agencies:trailer"]


def test_a_credit_line_inside_the_story_stays() -> None:
    middle = "Reporting by the bank's own economists showed that prices rose in every region last year."
    lines, signals = agencies.scan([BODY[0], middle, *BODY, BODY[0] + " Again.", BODY[1] + " Again."], [])
    assert middle in lines
    assert signals.found == []


def test_a_trailer_ending_the_last_paragraph_and_a_copyright_notice_removed_as_boilerplate() -> None:
    removed: list[Removal] = [("boilerplate", "© dpa-infocom, dpa:241227-99-123456/2")]
    last = "The bank will meet again in February. — AFP"
    lines, signals = agencies.scan([*BODY, last], removed)
    assert lines == [*BODY, last]  # a paragraph of the story is never cut
    assert signals.found == [("copyright", "dpa"), ("trailer", "AFP")]


def test_attribution_joins_every_signal_once_strongest_first() -> None:
    signals = agencies.Signals([("dateline", "Reuters"), ("credit", "Reuters"), ("trailer", "AFP")])
    found = agencies.attribute(signals, byline="Reuters", json_ld=["AP"])
    assert found.source == "Reuters, AP, AFP"
    assert found.evidence == ["byline:Reuters", "json_ld:AP", "dateline:Reuters", "credit:Reuters", "trailer:AFP"]
    assert agencies.attribute(agencies.Signals(), site_rules="TRT World & Agencies").source == "TRT World & Agencies"


def test_agency_sites() -> None:
    assert agencies.agency_for_url("https://www.reuters.com/world/europe/story-2024-12-30/") == "Reuters"
    assert agencies.agency_for_url("https://apnews.com/article/abc") == "AP"
    assert agencies.agency_for_url("https://www.aa.com.tr/en/economy/x/123") == "Anadolu"
    assert agencies.agency_for_url("https://notreuters.com/x") == ""


PAGE = """<!doctype html><html lang="en"><head><title>Rates rise again</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "Rates rise again", "datePublished": "2024-12-27T10:00:00Z",
"author": [{"@type": "Person", "name": "Jane Roe"}],
"sourceOrganization": {"@type": "Organization", "name": "The Associated Press"},
"creator": {"@type": "Organization", "name": "Example Daily"}}</script></head>
<body><main><article><h1>Rates rise again</h1>
<p>FRANKFURT (AP) — The central bank raised its key rate by two percentage points on Friday, more than analysts
had expected, and said it was ready to do so again.</p>
<p>The bank said inflation had not slowed as fast as it had forecast in the autumn, and that prices of food and
energy would stay high well into next year.</p>
<p>Economists said the decision would weigh on borrowing by companies and households in the months ahead, and
that the economy would slow.</p>
<p>© dpa-infocom, dpa:241227-99-123456/2</p>
</article></main></body></html>"""


def test_a_page_gives_every_signal_to_source_and_evidence() -> None:
    result = extract(PAGE, "https://daily.example/2024/12/27/rates")
    article = result.article
    assert article is not None
    assert article.authors == ["Jane Roe"]
    assert article.source == "AP, dpa"
    assert article.source_evidence == ["json_ld:AP", "dateline:AP", "copyright:dpa"]
    assert "dpa-infocom" not in article.text
    assert article.text.startswith("FRANKFURT (AP) — The central bank")
