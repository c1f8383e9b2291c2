"""General rules of extraction, each with a page it must keep and a page it must turn down."""

from __future__ import annotations

import json

import lxml.html

from newsclean.extraction import clean, core, extract
from newsclean.sites import GENERIC, Site

from .helpers import STORY

RULES = Site(
    name="example",
    domains=("example.org",),
    body=("//div[@class='story-body']",),
    prune=("//aside[@class='related']",),
    line_fields={"source": r"SOURCE:\s*(.+)"},
)


def _page(body: str, head: str = "", title: str = "Night buses") -> str:
    return f"<html lang='en'><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in lines)


def _ld(**node: object) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **node})}</script>'


# --- site rules fail open ---------------------------------------------------------------------


def test_body_rule_that_misses_falls_back_to_the_generic_path_and_says_so() -> None:
    # The site renamed its body container; its prune and line rules still apply.
    related = "<aside class='related'><p>Read more: Trams to run all night in summer, the council says.</p></aside>"
    body = f"<main><article><div class='article-text'>{_paragraphs(STORY)}{related}</div></article></main>"
    result = extract(_page(body), "https://example.org/2024/night-buses", RULES)
    assert result.article is not None, result.reason
    assert result.article.text.split("\n\n") == STORY
    assert result.article.method.endswith("+body_missed")
    assert any(label.startswith("prune:") for label, _ in result.removed)


def test_body_rule_that_matches_records_no_miss() -> None:
    body = f"<main><article><div class='story-body'>{_paragraphs(STORY)}</div></article></main>"
    article = extract(_page(body), "https://example.org/2024/night-buses", RULES).article
    assert article is not None
    assert article.method == "trafilatura+body"


def test_listing_of_a_known_site_is_still_turned_away_when_the_body_rule_misses() -> None:
    cards = "".join(
        f"<div class='card'><a href='/2024/story-{i}'><h3>{line.rstrip('.')}</h3></a></div>"
        for i, line in enumerate(STORY * 3)
    )
    result = extract(_page(f"<main><h1>World news</h1>{cards}</main>"), "https://example.org/world", RULES)
    assert result.article is None
    assert result.reason.startswith("no article body")


def test_error_page_of_a_known_site_is_still_turned_away() -> None:
    page = _page("<main><h1>Page not found</h1><p>Sorry, we could not find that page.</p></main>")
    result = extract(page, "https://example.org/nope", RULES)
    assert result.article is None
    assert "too short for an article" in result.reason


def test_line_field_outside_the_body_container_is_found() -> None:
    body = f"<article><div class='story-body'>{_paragraphs(STORY)}</div><footer><p>SOURCE: AFP</p></footer></article>"
    article = extract(_page(body), "https://example.org/2024/night-buses", RULES).article
    assert article is not None
    assert article.source == "AFP"
    assert "SOURCE" not in article.text


# --- titles -----------------------------------------------------------------------------------


def test_title_entities_are_resolved_also_when_escaped_twice() -> None:
    head = _ld(headline="Mexico to fight &amp;#8216;illogical&amp;#8217; tariffs &amp; duties")
    article = extract(_page(_paragraphs(STORY), head), "https://x.example/a", GENERIC).article
    assert article is not None
    assert article.title == "Mexico to fight \u2018illogical\u2019 tariffs & duties"


def test_title_loses_the_site_name_and_date_but_keeps_its_own_dashes() -> None:
    head = '<meta property="og:site_name" content="Golem.de">'
    for raw, want in [
        ("LTE-Patent: Samsung soll Smartphones zerstören - Golem.de", "LTE-Patent: Samsung soll Smartphones zerstören"),
        ("Golem.de | Akkutechnik: Hat Quantumscape genug Akkus?", "Akkutechnik: Hat Quantumscape genug Akkus?"),
        ("Wahl in Thüringen | Golem.de | 28.04.2023", "Wahl in Thüringen"),
        ("Türkiye: orman yangınları - Güncel haberler", "Türkiye: orman yangınları - Güncel haberler"),
    ]:
        og = f'<meta property="og:title" content="{raw}">'
        article = extract(_page(_paragraphs(STORY), head + og), "https://www.golem.de/a", GENERIC).article
        assert article is not None
        assert article.title == want


def test_title_loses_a_section_suffix_that_the_h1_leaves_off() -> None:
    og = '<meta property="og:title" content="„Unermüdlicher Einsatz“ - Die Neue Südtiroler Tageszeitung">'
    body = f"<article><h1>„Unermüdlicher Einsatz“</h1>{_paragraphs(STORY)}</article>"
    article = extract(_page(body, og), "https://www.example.it/a", GENERIC).article
    assert article is not None
    assert article.title == "„Unermüdlicher Einsatz“"
    # A headline that merely starts like the h1 keeps its own words.
    og = '<meta property="og:title" content="Night buses: the council votes - and the districts win">'
    body = f"<article><h1>Night buses</h1>{_paragraphs(STORY)}</article>"
    article = extract(_page(body, og), "https://www.example.it/a", GENERIC).article
    assert article is not None
    assert article.title == "Night buses: the council votes - and the districts win"


# --- authors ----------------------------------------------------------------------------------


def _authors(author: object, head: str = "") -> tuple[list[str], str]:
    page = _page(_paragraphs(STORY), _ld(headline="Night buses extended", author=author) + head)
    article = extract(page, "https://www.example.net/a", GENERIC).article
    assert article is not None
    return article.authors, article.source


def test_bylines_are_split_on_the_word_and_in_several_languages_and_on_commas() -> None:
    assert _authors({"@type": "Person", "name": "Trine Juncher Jørgensen og Tôrtia Reimer-Johansen"})[0] == [
        "Trine Juncher Jørgensen",
        "Tôrtia Reimer-Johansen",
    ]
    assert _authors("Felix Schröder und Jörg Soldwisch, dpa") == (["Felix Schröder", "Jörg Soldwisch"], "dpa")
    assert _authors("Anne Dupont et Marc Leroy")[0] == ["Anne Dupont", "Marc Leroy"]
    # A name with "y" in it is one name: each side of a split must be a full name.
    assert _authors("José Ortega y Gasset")[0] == ["José Ortega y Gasset"]


def test_junk_is_not_taken_for_a_name() -> None:
    assert _authors(["By Ann Lee (al)", "ann.lee@example.net", "12345", "https://example.net/ann"])[0] == ["Ann Lee"]
    assert _authors("{'@type': 'Person', 'name': 'Ann Lee'}")[0] == ["Ann Lee"]
    assert _authors("Von Max Muster")[0] == ["Max Muster"]
    assert _authors("Ann Lee &amp; Bob Stone")[0] == ["Ann Lee", "Bob Stone"]


def test_the_sites_own_name_is_no_author_but_the_credit() -> None:
    head = '<meta property="og:site_name" content="Example News">'
    assert _authors({"@type": "Person", "name": "Example News"}, head) == ([], "Example News")
    assert _authors({"@type": "NewsMediaOrganization", "name": "BBC News"}) == ([], "BBC News")
    # A person's byline beside it: the organisation is not a credit line then.
    assert _authors([{"@type": "Person", "name": "Ann Lee"}, {"@type": "Organization", "name": "Example News"}]) == (
        ["Ann Lee"],
        "",
    )


def test_author_given_by_reference_is_looked_up() -> None:
    graph = {
        "@graph": [
            {"@type": "NewsArticle", "headline": "Night buses extended", "author": {"@id": "https://x/#ann"}},
            {"@type": "Person", "@id": "https://x/#ann", "name": "Ann Lee"},
        ]
    }
    head = f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    article = extract(_page(_paragraphs(STORY), head), "https://x.example/a", GENERIC).article
    assert article is not None
    assert article.authors == ["Ann Lee"]


# --- dates ------------------------------------------------------------------------------------


def test_the_pages_own_article_node_gives_the_date_not_a_related_one() -> None:
    related = {"@type": "NewsArticle", "headline": "Older story", "url": "https://x.example/old"}
    related["datePublished"] = "2020-01-01"
    own = {
        "@type": "NewsArticle",
        "headline": "Night buses extended",
        "mainEntityOfPage": {"@id": "https://x.example/a"},
        "datePublished": "2024-12-27T10:30:00+03:00",
    }
    head = f'<script type="application/ld+json">{json.dumps([related, own])}</script>'
    article = extract(_page(_paragraphs(STORY), head), "https://x.example/a", GENERIC).article
    assert article is not None
    assert article.published == "2024-12-27T10:30:00+03:00"  # its own time zone, as given
    assert article.title == "Night buses extended"


# --- repeated paragraphs ----------------------------------------------------------------------


def test_a_question_asked_again_later_in_an_interview_stays() -> None:
    question = "What would you tell someone who is thinking about moving to the city?"
    lines = [STORY[0], question, STORY[1], STORY[2], question, STORY[3], STORY[4]]
    result = extract(_page(f"<article>{_paragraphs(lines)}</article>"), "https://x.example/a", GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == lines


def test_a_paragraph_printed_twice_in_a_row_and_a_lead_printed_again_go() -> None:
    lines = [STORY[0], STORY[1], STORY[0], STORY[2], STORY[2], STORY[3], STORY[4]]
    result = extract(_page(f"<article>{_paragraphs(lines)}</article>"), "https://x.example/a", GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert ("repeated paragraph", STORY[0]) in result.removed


def test_dedupe_drops_only_true_repeats() -> None:
    question = "What would you tell someone who is thinking about moving to the city?"
    removed: list[tuple[str, str]] = []
    lines = [STORY[0], STORY[1], STORY[1], question, STORY[2], question, STORY[0], STORY[3]]
    kept = clean.dedupe(lines, removed)
    assert kept == [STORY[0], STORY[1], question, STORY[2], question, STORY[0], STORY[3]]
    assert removed == [("repeated paragraph", STORY[1])]


# --- hidden content ---------------------------------------------------------------------------


def test_article_streamed_into_a_hidden_container_is_kept() -> None:
    menu = "<div hidden><ul><li>Home</li><li>World</li><li>Sport</li></ul></div>"
    body = f"<main>{menu}<div hidden id='S:0'><article>{_paragraphs(STORY)}</article></div></main>"
    article = extract(_page(body), "https://x.example/a", GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY


def test_paywalled_part_marked_hidden_is_kept_but_small_hidden_blocks_go() -> None:
    note = "<p style='display: none'>Subscribe now to read the full story and support our newsroom today.</p>"
    paywalled = f"<div class='paywall' hidden>{_paragraphs(STORY[1:])}</div>"
    body = f"<article>{_paragraphs(STORY[:1])}{note}{paywalled}</article>"
    result = extract(_page(body), "https://x.example/a", GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert any(label == "invisible" and text.startswith("Subscribe now") for label, text in result.removed)


# --- link cards -------------------------------------------------------------------------------


def test_a_run_of_other_articles_headlines_goes_but_a_single_linked_line_stays() -> None:
    cards = [
        "Post Malone and Ariana Grande lead the award nominations",
        "Jonas Brothers added to the award show's performance lineup",
        "Fifteen fun facts about this year's award nominations",
    ]
    single = "Read the full night bus timetable for the districts"
    links = "".join(f"<a href='/2024/story-{i}'>{c}</a>" for i, c in enumerate([single, *cards]))
    tree = lxml.html.document_fromstring(f"<html><body>{links}</body></html>")
    lines = [STORY[0], single, STORY[1], *cards, STORY[2]]
    removed: list[tuple[str, str]] = []
    assert core._drop_link_cards(tree, lines, removed, core.CARD_RUN) == [STORY[0], single, STORY[1], STORY[2]]
    assert [text for _, text in removed] == cards
    # Two in a row are not yet a teaser list; after a body rule missed, one is enough.
    two = [*lines[:5], STORY[2]]
    assert core._drop_link_cards(tree, two, [], core.CARD_RUN) == two
    assert core._drop_link_cards(tree, [STORY[0], single], [], 1) == [STORY[0]]
