"""More general rules of extraction, each with a case it must keep and one it must leave alone."""

from __future__ import annotations

import json

from newsclean.extraction import bylines, clean, extract, paywall
from newsclean.extraction.html import parse
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


# --- markup read the way a reader sees it -------------------------------------------------------
def test_ruby_readings_stay_inline_in_their_sentence() -> None:
    sentence = (
        "<p>【ソウル＝小池和樹】韓国の\n<ruby><rb>尹錫悦</rb><rp>（</rp><rt>ユンソンニョル</rt><rp>）</rp></ruby>\n"
        "大統領は３日夜、緊急談話を出し、野党が国政をまひさせているとして「非常戒厳」を宣言した。</p>"
    )
    article = extract(_page(f"<article>{sentence}{_paragraphs(STORY)}</article>"), URL, GENERIC).article
    assert article is not None
    first = article.text.split("\n\n")[0]
    assert (
        first == "【ソウル＝小池和樹】韓国の 尹錫悦（ユンソンニョル） 大統領は３日夜、緊急談話を出し、"
        "野党が国政をまひさせているとして「非常戒厳」を宣言した。"
    )


def test_screen_reader_labels_of_links_go_but_hidden_text_outside_links_is_no_label() -> None:
    link = "<a href='/report'>the council's report<span class='go-vh'> (öffnet im neuen Fenster)</span></a>"
    lead = f"<p>The figures come from {link}, published on Monday after a year of consultation with residents.</p>"
    article = extract(_page(f"<article>{lead}{_paragraphs(STORY)}</article>"), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n")[0] == (
        "The figures come from the council's report, published on Monday after a year of consultation with residents."
    )
    # the same class on a span of running text that is no link: not a label, kept (the hidden-content guard
    # decides about what no reader sees, not this rule)
    removed: list[clean.Removal] = []
    tree = parse(_page(f"<article><p><span class='sr-only'>{STORY[0]}</span></p></article>"))
    assert tree is not None
    assert clean.drop_link_labels(tree, removed) == 0


def test_ad_and_consent_placeholders_go_but_an_article_named_a_placeholder_stays() -> None:
    placeholder = (
        "<div class='sourcepoint__social-placeholder'><h3>Externer Inhalt nicht verfügbar</h3>"
        "<p>Deine Privatsphäre-Einstellungen verhindern das Laden und Anzeigen aller externen Inhalte. "
        "Zur Anzeige aktiviere bitte die Einstellungen.</p><button>Einstellungen ändern</button></div>"
        "<div class='c-ad__placeholder'>ADVERTISEMENT</div>"
    )
    body = f"<article>{_paragraphs(STORY[:2])}{placeholder}{_paragraphs(STORY[2:])}</article>"
    article = extract(_page(body), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY
    # more than a placeholder ever holds: the article is kept whatever its box is called
    misnamed = f"<article class='embed-placeholder'>{_paragraphs(STORY)}</article>"
    article = extract(_page(misnamed), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY


def test_more_furniture_lines_go_in_several_languages_but_sentences_stay() -> None:
    furniture = [
        "Stand: 22.04.2024, 06:00 Uhr",
        "Uppdaterad 15.59 | Publicerad 14.14",
        "17:41 JST, October 13, 2024",
        "Фото: Дмитрий Азаров, Коммерсантъ",
        "MORE: Putin ‘prepared to discuss Ukraine ceasefire’ with Trump",
        "Get in touch with our news team by emailing us at webnews@example.co.uk.",
        "Ihre Meinung ist uns wichtig. Senden Sie uns Ihr Feedback zu diesem Artikel an: briefe@example.de",
        "Hat Ihnen dieser Artikel gefallen? Dann unterstützen Sie uns bitte mit einer Spende.",
        "Do you have a story to tell? Email: reporter@example.com",
        "For more stories like this, check our news page.",
        "Check out more of our latest travel stories by signing up to our free weekly newsletter",
        "Additional reporting from PA",
        "With reports from Reforma and El Economista",
        "Mit Agenturmaterial.",
        "Copyright: Project Syndicate, 2025",
        'Dieser Artikel ist zuerst bei "Capital" erschienen.',
        "This article was originally published on The Conversation.",
        "Anzeige",
        "Passer la publicité",
        "Most read in Football",
        "Link copied to clipboard",
        "기사 URL이 복사되었습니다.",
        "Mike Johnson’s Art of the Deal Mike Johnson’s Art of the Deal",
    ]
    assert clean.drop_lines([*furniture, *STORY], clean.BOILERPLATE_LINES, "boilerplate", []) == STORY
    kept = [
        "29 November 2018 | 20 January 2019",  # an exhibition's dates, no time stamps
        "Stand-up comedians performed on 22.04.2024 in the old town hall, the organisers said.",
        "Contact us if you see anything, police said in a statement on Monday evening.",
        "More than 200 people attended the meeting: the largest in the town's history.",
        "The company said the link was copied from an old press release by mistake.",
        "Reporters said they had been writing to the ministry for weeks without an answer.",
        "Anzeige erstattet: Die Polizei ermittelt gegen den Fahrer des Wagens.",
        "Café crème à Genève. Café crème à Genève.",  # a sentence said twice is no teaser card
        "Additional reporting by Ann Lee; Editing by Bo Chan",  # for the agencies' credit-line rule
    ]
    assert clean.drop_lines(kept, clean.BOILERPLATE_LINES, "boilerplate", []) == kept


def test_japanese_paywall_prompts_are_prompt_lines_but_sentences_about_members_stay() -> None:
    assert (
        paywall.drop_prompts(
            [
                *STORY,
                "有料会員になると会員限定の有料記事もお読みいただけます。",
                "残り1234文字：全文を読むには会員登録が必要です。",
            ],
            paywall.Paywall(),
            [],
        )[0]
        == STORY
    )
    sentence = "会員限定の記事について、同社は来年から料金を見直すと発表した。政府の有識者会議でも議論が続いている。"
    assert paywall.drop_prompts([*STORY, sentence], paywall.Paywall(), [])[0] == [*STORY, sentence]


def test_byline_of_the_known_author_after_a_lead_paragraph_goes() -> None:
    lines = [STORY[0], STORY[1], "Von Nina Magoley", *STORY[2:]]
    assert bylines.take(lines, ["Nina Magoley"], set(), [])[0] == STORY


def test_byline_parts_that_credit_others_or_name_a_role_are_no_authors() -> None:
    from newsclean.extraction.fields import clean_authors

    assert clean_authors(["dpa/AFP"]) == ["dpa", "AFP"]
    assert clean_authors(["Ann Lee/Bo Chan"]) == ["Ann Lee", "Bo Chan"]
    assert clean_authors(["Text: Anna Muster, Fotos: Ben Bild"]) == ["Anna Muster"]
    assert clean_authors(["Anna Muster | Korrespondentin"]) == ["Anna Muster"]
    assert clean_authors(["Anna Muster mit Agenturen"]) == ["Anna Muster"]
    # a URL is not split into names at its slashes; the agencies' own credit stays whole
    assert clean_authors(["https://news.example.org/authors/anna-muster"]) == []
    assert clean_authors(["TRT World & Agencies"]) == ["TRT World & Agencies"]
    # names that only look like the words above stay
    assert clean_authors(["Ann Editor-Lee", "Bo Reporterson"]) == ["Ann Editor-Lee", "Bo Reporterson"]


def test_title_loses_a_trailing_host_name_and_the_pages_section_but_keeps_words_like_them() -> None:
    from newsclean.extraction.fields import clean_title, site_keys

    keys = site_keys(["Süddeutsche Zeitung"], "https://www.sueddeutsche.de/politik/x")
    assert clean_title("Bahnstreik beendet – Politik – SZ.de", keys, [], ["Politik"]) == "Bahnstreik beendet"
    assert clean_title("Bahnstreik beendet | Politik", keys, [], ["Politik"]) == "Bahnstreik beendet"
    # a segment that only starts like the section, or a section the page does not declare, stays
    assert clean_title("Politik in Berlin | Bahnstreik beendet", keys, [], ["Politik"]) == (
        "Politik in Berlin | Bahnstreik beendet"
    )
    assert clean_title("Bahnstreik beendet | Politik", keys) == "Bahnstreik beendet | Politik"
