"""trafilatura's jusText fallback on newsclean's compact stop words: the same answers, a fraction of the memory."""

from __future__ import annotations

import re
import sys

import lxml.html
from justext import core as justext_core
from justext.utils import get_stoplist, get_stoplists
from trafilatura import external

import newsclean.extraction.core  # noqa: F401  (installs the stop words, as every extraction does)
from newsclean.extraction.stopwords import StopWords, install
from newsclean.fixtures import load_fixtures

UNION = frozenset(word for language in get_stoplists() for word in get_stoplist(language))


def _words() -> set[str]:
    """Every word of the fixture pages' text, lower-cased as jusText looks it up."""
    words: set[str] = set()
    for fixture in load_fixtures():
        if fixture.body_path.suffix == ".html":
            text = lxml.html.fromstring(fixture.body()).text_content()
            words.update(word.lower() for word in text.split())
    return words


def test_every_stop_word_is_in_and_every_other_word_out() -> None:
    stop_words = StopWords()
    assert len(stop_words) == len(UNION)
    assert all(word in stop_words for word in UNION)
    words = _words()
    assert len(words) > 2000
    assert {w for w in words if w in stop_words} == {w for w in words if w in UNION}
    assert "the" in stop_words
    assert "kremlin" not in stop_words


def test_justext_classifies_paragraphs_alike() -> None:
    classified = 0
    for fixture in load_fixtures():
        if fixture.body_path.suffix != ".html" or fixture.kind != "article":
            continue
        classes = []
        for stoplist in (UNION, StopWords()):
            paragraphs = justext_core.ParagraphMaker.make_paragraphs(lxml.html.fromstring(fixture.body()))
            justext_core.classify_paragraphs(paragraphs, stoplist, 50, 150, 0.1, 0.2, 0.25, True)
            justext_core.revise_paragraph_classification(paragraphs, 150)
            classes.append([(p.text, p.class_type) for p in paragraphs])
        assert classes[0] == classes[1], fixture.body_path
        assert any(kind == "good" for _, kind in classes[0])
        classified += 1
    assert classified >= 5


def test_trafilatura_uses_them_and_install_is_idempotent() -> None:
    install()
    install()
    assert isinstance(external.JT_STOPLIST, StopWords)
    stop_words = external.JT_STOPLIST
    assert justext_core.define_stoplist(stop_words) is stop_words  # no 20 MB frozenset copy
    assert not hasattr(justext_core.define_stoplist.newsclean_original, "newsclean_original")  # wrapped once
    assert justext_core.define_stoplist(("The", "A")) == frozenset({"the", "a"})  # other lists as before


def test_the_fallback_keeps_the_article_of_a_page_only_justext_reads() -> None:
    # Paragraphs in bare <div>s with links around: the page trafilatura hands to jusText.
    body = "".join(
        f"<div>The committee said on Tuesday that the new rules would apply from March {i}, and that "
        "the ministers had agreed to review them within a year of their entry into force.</div>"
        for i in range(1, 6)
    )
    html = f"<html><body><div><a href='/a'>Home</a> <a href='/b'>World</a></div>{body}</body></html>"
    text = external.justext_rescue(lxml.html.fromstring(html), external.Extractor(url=None))[1]
    assert re.search(r"apply from March 1\b", text)
    assert "Home" not in text
    assert "justext" in sys.modules
