"""Paywalls in extraction: ``access`` and ``truncated`` from what the page says of itself (JSON-LD
``isAccessibleForFree`` and ``hasPart``), paywall boxes and prompt lines; prompts never stay in the
text, and an article paragraph that mentions subscribing is never taken for one. Then the
validation pipeline: a truncated teaser is dropped and counted."""

from __future__ import annotations

import json

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from newsclean import stats
from newsclean.article import Article
from newsclean.crawl.pipelines import ValidationPipeline
from newsclean.extraction import extract, paywall
from newsclean.sites import GENERIC

from .helpers import STORY

URL = "https://news.example/2024/night-buses"
# The measured case: a teaser whose text came out as 48 words, the prompt included.
WAPO_LEAD = [
    "Storms with damaging winds, large hail and a few tornadoes are expected across the central United "
    "States on Saturday, forecasters said, as a slow-moving system crosses the Plains.",
    "Millions of people from Iowa to Texas are under a severe weather watch through the evening.",
]
WAPO_PROMPT = "Subscribe to continue reading…"


def _page(body: str, ld: dict[str, object] | None = None) -> str:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return f"<html lang='en'><head><title>Night buses</title>{script}</head><body>{body}</body></html>"


def _ld(**fields: object) -> dict[str, object]:
    return {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Night buses", **fields}


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in lines)


def _removed(result: object, label: str) -> list[str]:
    return [text for rule, text in result.removed if rule == label]  # type: ignore[attr-defined]


def test_free_json_ld_makes_a_free_whole_article() -> None:
    result = extract(_page(f"<article>{_paragraphs(STORY)}</article>", _ld(isAccessibleForFree=True)), URL, GENERIC)
    assert result.article is not None
    assert (result.article.access, result.article.truncated) == ("free", False)
    assert result.article.text.split("\n\n") == STORY


def test_a_page_that_says_nothing_is_unknown() -> None:
    article = extract(_page(f"<article>{_paragraphs(STORY)}</article>"), URL, GENERIC).article
    assert article is not None
    assert (article.access, article.truncated) == ("unknown", False)


@pytest.mark.parametrize("flag", [False, "False", "false"])
def test_restricted_json_ld_with_an_empty_paywalled_part_is_truncated(flag: object) -> None:
    # Google's markup: the paywalled part named by its class; the server sent it empty.
    ld = _ld(
        isAccessibleForFree=flag,
        hasPart={"@type": "WebPageElement", "isAccessibleForFree": flag, "cssSelector": ".paywall"},
    )
    body = f"<article><div class='free'>{_paragraphs(STORY[:3])}</div><div class='paywall'></div></article>"
    article = extract(_page(body, ld), URL, GENERIC).article
    assert article is not None
    assert (article.access, article.truncated) == ("restricted", True)
    assert article.text.split("\n\n") == STORY[:3]


def test_restricted_article_in_a_graph_whose_paywalled_part_is_on_the_page_is_whole() -> None:
    # A metered site sends the whole article; the paywalled part is there, so nothing is cut.
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "@id": URL},
            _ld(
                isAccessibleForFree="False",
                hasPart=[{"@type": "WebPageElement", "isAccessibleForFree": "False", "cssSelector": ".locked-content"}],
            ),
        ],
    }
    body = f"<article>{_paragraphs(STORY[:2])}<div class='locked-content'>{_paragraphs(STORY[2:])}</div></article>"
    article = extract(_page(body, ld), URL, GENERIC).article
    assert article is not None
    assert (article.access, article.truncated) == ("restricted", False)
    assert article.text.split("\n\n") == STORY


def test_hidden_paywalled_part_stays_the_publishers_text_and_the_article_is_marked_restricted() -> None:
    # The hidden-content rule holds: text the publisher sent, hidden, is the article's.
    ld = _ld(isAccessibleForFree=False, hasPart={"isAccessibleForFree": False, "cssSelector": ".paywall"})
    body = f"<article>{_paragraphs(STORY[:1])}<div class='paywall' hidden>{_paragraphs(STORY[1:])}</div></article>"
    article = extract(_page(body, ld), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY
    assert (article.access, article.truncated) == ("restricted", False)


def test_restricted_article_with_a_real_free_part_keeps_it_without_the_prompt_box() -> None:
    box = (
        "<div class='article-paywall'><h3>This article is for subscribers</h3>"
        "<p>Already a subscriber? Log in</p><a href='/subscribe'>Subscribe</a><span>$1 per week</span></div>"
    )
    body = f"<article>{_paragraphs(STORY)}{box}</article><footer><p>About us</p></footer>"
    result = extract(_page(body), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert (result.article.access, result.article.truncated) == ("restricted", True)
    assert _removed(result, "paywall box")


def test_prompt_lines_at_the_end_go_and_cut_the_text() -> None:
    prompts = ["Subscribe to continue reading…", "Already a subscriber? Log in", "Subscribe"]
    result = extract(_page(f"<article>{_paragraphs(STORY + prompts)}</article>"), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert (result.article.access, result.article.truncated) == ("restricted", True)
    assert _removed(result, "paywall prompt") == prompts


@pytest.mark.parametrize(
    "prompt",
    [
        "Dieser Artikel ist nur für Abonnenten verfügbar.",
        "Il vous reste 57.09% de cet article à lire. La suite est réservée aux abonnés.",
        "Este contenido es exclusivo para suscriptores",
        "Já é assinante? Faça login",
        "To Read the Full Story",
    ],
)
def test_prompts_in_other_languages(prompt: str) -> None:
    result = extract(_page(f"<article>{_paragraphs([*STORY, prompt])}</article>"), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY
    assert (result.article.access, result.article.truncated) == ("restricted", True)


def test_a_prompt_right_after_the_text_outside_it_cuts_the_text() -> None:
    # The prompt is printed in a block of its own that extraction leaves out; it follows the text of
    # a page whose JSON-LD says it is not free (a financial daily's teaser, measured).
    snippet = "<div class='snippet-promo'><h4>To Read the Full Story</h4><a>Subscribe</a> <a>Sign In</a></div>"
    body = f"<main><article>{_paragraphs(STORY)}</article>{snippet}</main>"
    article = extract(_page(body, _ld(isAccessibleForFree=False)), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY
    assert (article.access, article.truncated) == ("restricted", True)


def test_a_login_box_named_paywall_in_the_header_marks_nothing() -> None:
    header = "<header><div class='paywall-header-wrap'><a>Login</a> <a>Log Out</a></div></header>"
    article = extract(_page(f"{header}<article>{_paragraphs(STORY)}</article>"), URL, GENERIC).article
    assert article is not None
    assert article.text.split("\n\n") == STORY
    assert (article.access, article.truncated) == ("unknown", False)


def test_a_paragraph_that_mentions_subscribing_stays() -> None:
    mentions = [
        "Subscribe to continue reading, the council's website told residents, who complained that the "
        "timetables themselves had been put behind a paywall by the transport authority.",
        "Already a subscriber to the local paper, Ms Jones said she had read about the plan in print.",
    ]
    result = extract(_page(f"<article>{_paragraphs(STORY + mentions)}</article>"), URL, GENERIC)
    assert result.article is not None
    assert result.article.text.split("\n\n") == STORY + mentions
    assert (result.article.access, result.article.truncated) == ("unknown", False)
    assert not _removed(result, "paywall prompt")


def test_a_prompt_only_teaser_is_no_article() -> None:
    body = "<article><p>Subscribe to continue reading…</p><p>Already a subscriber? Sign in</p></article>"
    result = extract(_page(body, _ld(isAccessibleForFree=False)), URL, GENERIC)
    assert result.article is None
    assert result.reason.startswith("paywall prompt only")
    assert _removed(result, "paywall prompt") == ["Subscribe to continue reading…", "Already a subscriber? Sign in"]


def test_washington_post_like_teaser_comes_out_without_the_prompt() -> None:
    body = f"<article>{_paragraphs(WAPO_LEAD)}<div><p>{WAPO_PROMPT}</p></div></article>"
    assert sum(len(p.split()) for p in [*WAPO_LEAD, WAPO_PROMPT]) == 48
    result = extract(_page(body, _ld(isAccessibleForFree=False)), "https://www.example.com/weather/storms", GENERIC)
    assert result.article is not None
    assert WAPO_PROMPT not in result.article.text
    assert result.article.text.split("\n\n") == WAPO_LEAD
    assert (result.article.access, result.article.truncated) == ("restricted", True)
    assert result.article.word_count == 44  # under NEWSCLEAN_PAYWALL_MIN_WORDS: the crawl drops it


def test_selectors_read_are_simple_ones_only() -> None:
    assert paywall.selector_xpath(".paywall") == "//*[contains(concat(' ', normalize-space(@class), ' '), ' paywall ')]"
    assert paywall.selector_xpath("div#locked, .a.b") is not None
    assert paywall.selector_xpath("article > .paywall") is None
    assert paywall.selector_xpath("." + "a" * 300) is None


# --- the crawl's side: a teaser is dropped and counted, a real free part is kept ----------------


def _validation(**settings: object) -> ValidationPipeline:
    return ValidationPipeline.from_crawler(get_crawler(settings_dict=settings))


def _item(words: int, access: str = "restricted", truncated: bool = True) -> Article:
    text = " ".join(["word"] * words)
    return Article(url=URL, title="Night buses", text=text, access=access, truncated=truncated).finish()


def test_validation_drops_a_truncated_teaser_and_counts_it() -> None:
    pipeline = _validation()
    with pytest.raises(DropItem, match="paywall_teaser"):
        pipeline.process_item(_item(44))
    assert stats.under(pipeline.crawler.stats.get_stats(), stats.DROPPED) == {stats.PAYWALL_TEASER: 1}


def test_validation_keeps_a_real_free_part_and_untruncated_short_articles() -> None:
    pipeline = _validation()
    for item in (_item(120), _item(44, truncated=False), _item(44, access="unknown")):
        assert pipeline.process_item(item) is item
    lowered = _item(44)
    assert _validation(NEWSCLEAN_PAYWALL_MIN_WORDS=40).process_item(lowered) is lowered
