"""More general rules of extraction, each with a case it must keep and one it must leave alone."""

from __future__ import annotations

import json

from newsclean.extraction import bylines, extract
from newsclean.sites import GENERIC

from .helpers import STORY

URL = "https://news.example.org/2024/01/night-buses"


def _page(body: str, head: str = "") -> str:
    return f"<html lang='en'><head><title>Night buses</title>{head}</head><body>{body}</body></html>"


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in lines)


# --- the article shipped inside a script (client-rendered pages) --------------------------------
def test_article_html_shipped_in_a_script_is_read_when_the_markup_has_no_text() -> None:
    state = {"article": {"title": "Night buses", "body": _paragraphs(STORY)}}
    script = f"<script>window.__STATE__ = {json.dumps(state)};</script>"  # json.dumps escapes nothing: <p>
    escaped = script.replace("<p>", "\\u003cp\\u003e").replace("</p>", "\\u003c/p\\u003e")
    result = extract(_page(f"<div id='root'><h1>Night buses</h1></div>{escaped}"), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert "+script" in result.article.method


def test_twice_escaped_article_in_a_streamed_payload_is_read() -> None:
    inner = json.dumps({"html": _paragraphs(STORY)}).replace("<", "\\u003c")  # React escapes "<"
    push = f"<script>self.__next_f.push([1,{json.dumps(inner)}])</script>"  # the payload, escaped again
    result = extract(_page(f"<main></main>{push}"), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY


def test_a_page_that_prints_its_article_ignores_what_its_scripts_carry() -> None:
    other = ["A different story in the page's state, about the weather, and long enough to count." * 3] * 3
    script = "<script>var s = " + json.dumps({"b": _paragraphs(other)}).replace("<p>", "\\u003cp\\u003e") + "</script>"
    result = extract(_page(f"<article>{_paragraphs(STORY)}</article>{script}"), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert "+script" not in result.article.method


# --- the byline printed as a line of the text ---------------------------------------------------
def test_byline_line_names_the_authors_when_the_metadata_names_only_the_site() -> None:
    head = "<meta name='author' content='Example News'><meta property='og:site_name' content='Example News'>"
    body = f"<article><p>Ann Lee/Bo Chan</p>{_paragraphs(STORY)}</article>"
    article = extract(_page(body, head), URL, GENERIC).article
    assert article is not None
    assert article.authors == ["Ann Lee", "Bo Chan"]
    assert article.text.split("\n\n") == STORY


def test_byline_line_of_the_known_author_leaves_the_text_at_the_end() -> None:
    head = "<meta name='author' content='Ann Lee'>"
    body = f"<article>{_paragraphs(STORY)}<p>Ann Lee</p></article>"
    article = extract(_page(body, head), URL, GENERIC).article
    assert article is not None
    assert article.authors == ["Ann Lee"]
    assert article.text.split("\n\n") == STORY


def test_subheadings_and_sentences_are_no_byline() -> None:
    assert bylines.names("Ann Lee and Bo Chan") == ["Ann Lee", "Bo Chan"]
    assert bylines.names("By Ann Lee") == ["Ann Lee"]
    for line in (
        "Flawed approach",
        "KEY POINTS",
        "Officials said the routes would start in March.",
        "Reforms",
        "2024 Budget",
    ):
        assert bylines.names(line) == [], line
    # a subheading in the middle of the text, even if it reads like a name, is never taken
    lines = [STORY[0], STORY[1], STORY[2], "Words Of Wisdom", STORY[3], STORY[4], STORY[0]]
    assert bylines.take(lines, [], set(), []) == (lines, [])


def test_a_role_after_a_korean_or_japanese_name_is_no_part_of_it() -> None:
    from newsclean.extraction.fields import clean_authors

    assert clean_authors(["신현주 기자"]) == ["신현주"]
    assert clean_authors(["박준석 기자, 김태연 기자"]) == ["박준석", "김태연"]
    assert clean_authors(["山田太郎記者"]) == ["山田太郎"]
    assert clean_authors(["기자"]) == ["기자"] or clean_authors(["기자"]) == []  # a bare role is never emptied to ""
    assert clean_authors(["Ann Reporter Lee"]) == ["Ann Reporter Lee"]


# --- the headline printed again with its kicker in front -----------------------------------------
def test_headline_with_its_kicker_at_the_top_of_the_text_goes() -> None:
    from newsclean.extraction import clean

    headings = ["Brüssel prüft Einfluss von Tiktok auf Wahlen"]
    lines = ["Europäische KommissionVerfahren: Brüssel prüft Einfluss von Tiktok auf Wahlen", *STORY]
    assert clean.drop_headings(lines, headings, []) == STORY
    # a lead sentence that ends with the headline's words is text
    lead = "The council said: Brüssel prüft Einfluss von Tiktok auf Wahlen."
    assert clean.drop_headings([lead, *STORY], headings, []) == [lead, *STORY]
    # further down, a line that ends like the headline is the article's own
    late = [*STORY[:3], lines[0]]
    assert clean.drop_headings(late, headings, []) == late


def test_the_sharing_title_printed_at_the_top_of_the_text_goes() -> None:
    head = "<meta property='og:title' content='Technologie im Klassenzimmer: KI in der Schule'>"
    body = f"<article><p>Technologie im Klassenzimmer KI in der Schule</p>{_paragraphs(STORY)}</article>"
    article = extract(_page(body, head), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY


# --- "read also" pointers in the languages of the news ------------------------------------------
def test_read_also_pointers_go_in_several_languages_but_sentences_stay() -> None:
    from newsclean.extraction import clean

    pointers = [
        "Les også: Tone Damli ofret musikkarrieren for barna",
        "À lire aussi La natalité russe menacée d’effondrement",
        ">> Lesen Sie auch: Die Bahn streicht Verbindungen",
        "ALSO READ: Solar firm to boost clean energy uptake",
        "Czytaj też: Rząd przyjął budżet",
    ]
    assert clean.drop_lines([*pointers, *STORY], clean.BOILERPLATE_LINES, "boilerplate", []) == STORY
    sentences = ["Lesen Sie auch, was der Minister dazu sagte.", "Lire aussitôt la suite du rapport a surpris."]
    assert clean.drop_lines(sentences, clean.BOILERPLATE_LINES, "boilerplate", []) == sentences
    # the heading alone takes the teaser headline under it along
    lines = [STORY[0], "Lesen Sie auch", "Europol nimmt Phishing-Plattform hops", STORY[1]]
    assert clean.drop_related(lines, []) == [STORY[0], STORY[1]]


# --- captions carry the picture's credit --------------------------------------------------------
def test_caption_and_credit_lines_go_but_sentences_about_photos_stay() -> None:
    from newsclean.extraction import clean

    captions = [
        "STR/AFP via Getty Images",
        "Andrea Verdelli/Getty Images",
        "Los geht’s: Von Montag an für 49 Euro monatlich. Bild: Maximilian von Lachner",
        "Image: Phando Jikelo/Independent Newspapers",
        "Photo: Ann Lee",
    ]
    assert clean.drop_lines([*captions, *STORY], clean.BOILERPLATE_LINES, "boilerplate", []) == STORY
    kept = [
        "AFP",  # an agency's credit line alone is read by the agency scan, not dropped here
        "The photo: a picture that went round the world, he said. It was taken in 1972.",
        "Getty Images, the photo agency, said on Monday it would cut 200 jobs.",
    ]
    assert clean.drop_lines(kept, clean.BOILERPLATE_LINES, "boilerplate", []) == kept


# --- tables that lay the page out ----------------------------------------------------------------
def test_article_in_a_layout_table_reads_as_paragraphs_and_a_data_table_stays() -> None:
    layout = (
        "<table><tr><td><a href='/'>Home</a></td></tr><tr><td>"
        f"<h1>Night buses</h1>{_paragraphs(STORY)}</td><td>Most read</td></tr></table>"
    )
    article = extract(_page(layout), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY
    data = "<table><tr><th>District</th><th>Routes</th></tr><tr><td>North</td><td>3</td></tr></table>"
    article = extract(_page(f"<article>{_paragraphs(STORY)}{data}</article>"), URL, GENERIC).article
    assert article is not None
    assert "| North | 3 |" in article.text


# --- the desk's credits ---------------------------------------------------------------------------
def test_desk_credit_lines_go_but_sentences_naming_an_editor_stay() -> None:
    from newsclean.extraction import clean

    desk = [
        "Redaktion: Marcus Bensmann, Elena Müller",
        "Übersetzung: Tristan Oetker-Kast, Redaktion: Theresa Bäuerlein, Schlussredaktion: Lea Schönborn",
        "Aus dem Englischen von Jan Doolan",
        "Translated by Ann Lee",
    ]
    assert clean.drop_lines([*desk, *STORY], clean.BOILERPLATE_LINES, "boilerplate", []) == STORY
    kept = ["Die Redaktion: Sie hat das Interview am Montag geführt und gekürzt. Es erschien am Dienstag."]
    assert clean.drop_lines(kept, clean.BOILERPLATE_LINES, "boilerplate", []) == kept


# --- the author's biography after the story -----------------------------------------------------
def test_author_biography_at_the_end_goes_but_a_quote_of_the_author_in_the_story_stays() -> None:
    bio = "Korrespondent Ulrich Exner ist bei WELT für landespolitische Themen zuständig."
    assert bylines.drop_bio([*STORY, bio], ["Ulrich Exner"], []) == STORY
    assert bylines.drop_bio([*STORY, "Die Autorin", "Anne Lee war Direktorin."], ["Anne Lee"], []) == STORY
    # a role and a name in the story's own last lines, but not the author's: kept
    last = "The reporter Bo Chan, who broke the story, said the council had known for months."
    assert bylines.drop_bio([*STORY, last], ["Ulrich Exner"], []) == [*STORY, last]
    # no authors known: nothing to go by
    assert bylines.drop_bio([*STORY, bio], [], []) == [*STORY, bio]


# --- calls at the end of the story -----------------------------------------------------------------
def test_tip_follow_and_more_calls_go_but_a_sentence_starting_with_follow_stays() -> None:
    from newsclean.extraction import clean

    calls = [
        "Got a story? Get in touch with our news team by emailing us at news@example.org.",
        "Follow Example.co.uk on Twitter and Facebook for the latest news. Sign up for alerts here.",
        "Follow The New York Times Opinion section on Facebook, Twitter (@NYTopinion) and Instagram.",
        "MORE : The daily cartoon by Guy Venables",
    ]
    assert clean.drop_lines([*calls, *STORY], clean.BOILERPLATE_LINES, "boilerplate", []) == STORY
    kept = ["Follow the money, he said, and you will find the party spent more on Facebook ads than posters."]
    assert clean.drop_lines(kept, clean.BOILERPLATE_LINES, "boilerplate", []) == kept


# --- the comment form's rules ----------------------------------------------------------------------
def test_comment_form_lines_go_in_several_languages_but_a_story_about_comments_stays() -> None:
    from newsclean.extraction import clean

    form = [
        "Kommentar abgeben",
        "Du musst dich EINLOGGEN um einen Kommentar abzugeben.",
        "You must confirm your public display name before commenting",
        "ATENÇÃO: Comentários ofensivos não serão aprovados pelo moderador.",
        "Note: we are temporarily moderating all comments submitted to deal with a surge in spam.",
    ]
    assert clean.drop_lines([*form, *STORY], clean.BOILERPLATE_LINES, "boilerplate", []) == STORY
    story = [
        "The platform said on Tuesday that it had removed 2 million comments in the first quarter of the "
        "year, most of them spam, after it changed the way its moderators review reports from users who "
        "log in from new devices, a spokeswoman told reporters at the company's headquarters."
    ]
    assert clean.drop_lines(story, clean.BOILERPLATE_LINES, "boilerplate", []) == story
