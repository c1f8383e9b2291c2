"""Removing what is not the article: elements before extraction, lines after it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.etree import XPathError
from lxml.html import HtmlElement

from newsclean.extraction.html import node_text, remove
from newsclean.extraction.result import Removal

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# A label in front of a date ("Updated:", "Stand:", "Aktualisiert am", "Publié le", "Publicado el").
_DATE_LABEL = (
    r"(?:published|updated|posted|last updated|stand|aktualisiert|veröffentlicht|erstellt|publié|mis à jour|"
    r"publicado|actualizado|pubblicato|aggiornato|publisert|oppdatert|publicerad|uppdaterad|opublikowano|"
    r"zaktualizowano|gepubliceerd|bijgewerkt)"
)
_DATE_LINE = (
    rf"(?:{_DATE_LABEL}\s*+(?:(?:on|am|le|el|il|den|op|:)\s*+)?)?(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*+,?\s++)?"
    rf"(?:{_MONTH}\s++\d{{1,2}},?\s++\d{{4}}|\d{{1,2}}\.?\s++{_MONTH},?\s++\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4})"
    r"(?:,?\s++(?:(?:at|um|à|a las|alle|kl\.?)\s++)?\d{1,2}[:.]\d{2}(?:\s*+[ap]\.?m\.?)?(?:\s++[a-z]{2,5})?)?"
)
# A labelled time of day: "Updated at 14:14", "Publicerad 14.14", "Aktualisiert um 6:00 Uhr".
_STAMP = rf"{_DATE_LABEL}\s*+(?:(?:at|on|am|um|kl\.?)\s*+)?(?::\s*+)?\d{{1,2}}[:.]\d{{2}}\s*+(?:[ap]\.?m\.?|uhr)?\.?"
# "Read also" in the languages of the news the crawler reads: a pointer to another article.
_READ_ALSO = (
    r"(?:read also|also read|lesen sie (?:auch|mehr)|auch interessant|mehr zum thema|lies auch|"
    r"(?:à|a) lire aussi|lire aussi|voir aussi|lea también|lee también|te puede interesar|leggi anche|"
    r"les også|læs også|läs också|läs mer|se også|lees ook|czytaj (?:też|także|również|więcej)|"
    r"przeczytaj (?:też|także)|zobacz (?:też|także)|(?:přečtěte si|čtěte) (?:také|též)|leia também|"
    r"veja também|читайте также|читайте також)"
)
_SOCIAL = r"(?:twitter|facebook|instagram|youtube|linkedin|tiktok|telegram|whatsapp|flipboard|google news)"
# Lines that are page furniture on any site. Matched against a whole body line, case-insensitive.
BOILERPLATE_LINES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\d++\s*+min(?:ute)?s?\.?\s++read",  # "1 min read"
        r"(?:reading time|tempo de leitura|tiempo de lectura|lesezeit|temps de lecture)\s*+(?::\s*+)?\d++\s*+\w*+",
        r"(?:\d{1,2}:)?\d{1,2}:\d{2}",  # a player's clock, "00:00"
        r"a(?:\s*+a)+",  # font-size control, "aaA" (the letters alone, any case)
        r"(?:recommended|related|related (?:articles?|stories|content|news)|read more|read also|"
        r"see also|explore|more on this|advertisement|most read|just in)\s*+:?",
        # the advertisement's label, and the button that skips it, in the languages read above
        r"(?:anzeige|werbung|publicité|publicidad|pubblicità|reklama|annonse|annons|advertentie|광고|広告)",
        r"(?:skip (?:the )?ad(?:vert(?:isement)?)?|passer la publicité|werbung überspringen|saltar (?:la )?publicidad)",
        # a teaser card's headline (not a sentence) printed twice: its image's text and its link's
        r"(.{14,199}[^.!…\s]) \1",
        r"(?:most read|most popular|trending) in [\w ]{1,40}",  # "Most read in Football"
        # "Link copied" toasts of the share buttons
        r"(?:the )?(?:link|url) (?:has been |was )?copied(?: to (?:the |your )?clipboard)?[.!]?|link kopiert[.!]?|"
        r"lien copié[.!]?|enlace copiado[.!]?|기사 url이 복사되었습니다\.?|urlをコピーしました。?",
        r"related (?:article|story|stories|articles|reading|posts?)\s*+:.*",  # "Related article: ..."
        r"related\s*+:.{0,150}",  # "Related: 15 Amazing Images of Stars"
        r"(?:also )?read (?:more|also)\s*+:.*",
        r"see more\s*+:.{0,150}",
        # "Les også: <headline>", ">> Lesen Sie auch: ...", "À lire aussi <headline>" (no full stop)
        rf"(?:>>?\s*+)?{_READ_ALSO}(?:\s*+[:|»>-]+\s*+.{{0,200}}|\s++[^.]{{0,150}}[^.])?\s*+",
        r"original (?:url|link|article)\s*+:.*",  # a syndication trailer
        # share / follow / comment prompts
        r"(?:-\s*+)?(?:share|tweet|email|print|print article|order reprints|reprints|comments?|"
        r"\d++\s++comments?|leave a (?:comment|reply)|tags?|filed under)\s*+:?(?:\s*+\|)?",
        # "Follow Metro.co.uk on Twitter ... . Sign up for ..." (who is followed: a name of 1-8 words)
        rf"follow [^\s,]{{1,40}}(?:\s[^\s,]{{1,40}}){{0,7}} on {_SOCIAL}"
        r"(?:[^.]{0,120}\.?|[^.]{0,120}\.\s.{0,300})",
        rf"(?:like|follow) us on {_SOCIAL}.{{0,120}}",
        r"(?:do you )?(?:have|got) an?(?: news)? (?:tip|story)(?: to (?:tell|share))?\?.{0,200}",
        r"for more (?:stories|news|articles) like this.{0,100}",
        # the comment form's rules, in any language: a short line naming comments and logging in,
        # registering, a display name or moderation ("Du musst dich einloggen, um einen Kommentar ...")
        r"(?=.{0,250}$)(?=.*\b(?:comment(?:s|ing|er)?|kommentar(?:e|s)?|commentaires?|comentarios?|comentários?|"
        r"commenti|commento|kommentarer?)\b)(?=.*(?:\blog ?(?:in|out)\b|\bsign(?:ed)? in\b|einlogg|anmeld|"
        r"registri|registrier|moderat|display name|approv|aprovad|angemeldet|connecté|conectad)).*",
        r"(?:kommentar abgeben|kommentare?|commentaires?|comentarios?|comentários?|commenti)\s*+:?(?:\s*+\(\d+\))?",
        r"more\s*+:\s*+.{0,150}",  # "MORE: <another article's headline>"
        r"write to [^.]{2,60} at [^\s@]++@\S++",  # "Write to Al Root at allen.root@dowjones.com"
        r"tell us what you think.{0,10}",
        r"(?:click|tap) to tweet",
        # newsletter and subscription calls
        # (the call is a sentence of its own, the line's last: "... Sign up for the free newsletter.",
        # not "Readers sign up for the newsletter, the company said.")
        r"(?:.{0,300}[.!?:]\s+)?(?:please\s++)?(?:subscribe|sign up)\b[^.]{0,80}\bnewsletters?\b[^.]{0,120}[.!]?",
        r"(?:check out|get|find|read) more [^.]{0,80}\bby (?:subscribing|signing up) to [^.]{0,60}\bnewsletters?[.!]?",
        r"(?:get|receive) the latest .{0,60} (?:in|to) your inbox.{0,120}",
        r"click here to (?:subscribe|sign up|register).{0,120}",
        r"(?:if you enjoyed this article|hat ihnen (?:dieser|der) (?:artikel|beitrag) gefallen|"
        r"vous avez aimé cet article|(?:te|le) ha gustado (?:este|el) artículo).{0,200}",
        # calls to write to the newsroom, with its address ("Get in touch at news@example.com")
        r".{0,150}\b(?:get in touch|email us|e-mail us|write to us|contact (?:us|our [\w ]{1,20}team)|"
        r"senden sie uns|schreiben sie uns|écrivez-nous)\b.{0,120}?[\w.+-]+@[\w-]+(?:\.[\w-]+)+.{0,40}",
        # copyright, reprint and cookie lines
        # (a notice has the sign or a year: "Copyright lawsuits rose" is a sentence of the story)
        r"(?:copyright\s*)?(?:©|\(c\)).{0,120}",
        r"copyright\s+\d{4}\b.{0,120}",
        r".{0,80}all rights reserved\.?.{0,40}",
        r"this copy is for your personal,? non-commercial use only.*",
        r"(?:this (?:web)?site|we|our (?:web)?site)\s++uses? cookies\b.{0,200}",
        # utility messages
        r"(?:listen|download|itunes|spotify|apple podcasts|subscribe)\s*+:\s*+https?://\S++",
        r"an error has occurred,? please try again(?: later)?\.?",
        r"this article has been sent to.{0,60}",
        # the date alone, repeated as body text, or the page's time stamps ("Uppdaterad 15.59 | Publicerad 14.14")
        _DATE_LINE,
        # the time first: "17:41 JST, October 13, 2024"
        rf"\d{{1,2}}[:.]\d{{2}}(?:\s*+[ap]\.?m\.?)?(?:\s++[a-z]{{2,5}})?,?\s++{_DATE_LINE}",
        rf"{_STAMP}(?:\s*+[|·•]\s*+{_STAMP})*",
        r"\d{1,2}:\d{2}\s*+[ap]\.?m\.?\s*+[a-z]{2,4}\s++\d{1,2}/\d{1,2}/\d{2,4}\s++by\s++.{2,60}",
        # a picture's caption: it carries the picture's credit ("... Bild: Maximilian von Lachner",
        # "Image: Ann Lee", "STR/AFP via Getty Images"); running text never ends with one
        r"(?:.{0,300}[.!?…»“”\"]\s++)?(?:photo|foto|bild|image|picture|photograph|credit|photo credit|"
        r"image credit|fotos?|фото|zdjęcie|kuva)\s*+:\s*+[^.:]{2,80}",
        r"(?:[\w’'.\- ]{1,60}/){1,3}[\w.\- ]{0,40}\b(?:getty images|afp|reuters|dpa|epa|imago|shutterstock|"
        r"picture[- ]alliance|alamy|keystone|independent newspapers)\b[\w.\- ]{0,30}",
        r".{0,60}\bvia getty images",
        # the desk's credits ("Redaktion: A, B", "Übersetzung: C, Schlussredaktion: D", "Aus dem
        # Englischen von E", "Translated by F"): who made the piece, not the story
        r"(?:redaktion|schlussredaktion|faktencheck|übersetzung|mitarbeit|audioversion|rédaction|traduction|"
        r"redacción|traducción|translation|fact[- ]?check(?:ing)?)\s*+:\s*+[^.]{2,300}",
        r"(?:aus dem [a-zäöü]+en (?:übersetzt )?von|translated (?:from [a-z]+ )?by|traduit (?:de l'[a-z]+ )?par)"
        r"\s++[^.]{2,80}\.?",
        # credit lines: the people who contributed, not the story
        # ("... by ..." is left to the agencies' credit-line rule: "Reporting by A; Editing by B" names Reuters)
        r"(?:additional reporting|with (?:additional )?report(?:s|ing)) from [^.]{2,80}\.?",
        r"(?:mit agenturmaterial|mit material (?:von|der) [^.]{2,40})\.?",
        r"copyright\s*+:\s*+[^.]{2,80}\.?",
        # republication notices ("This article first appeared in ...", "Dieser Artikel ist zuerst bei ... erschienen")
        r"(?:this (?:article|story|piece) (?:was |is )?(?:first|originally) (?:published|appeared)|"
        r"this (?:article|story|piece) (?:first|originally) appeared|"
        r"dieser (?:artikel|beitrag|text) (?:ist|erschien) (?:zuerst|ursprünglich)|"
        r"cet article a (?:été (?:publié|initialement publié)|paru) (?:initialement|d'abord|pour la première fois)?)"
        r"[^\n]{0,200}",
        r"[^.]{2,200}\bcontributed (?:reporting|to this (?:report|story|article))\b[^.]{0,80}\.?",
    )
)
# Patterns are tried on lines of at most this many characters: a longer line is running text (the
# longest boilerplate line measured is under 300 characters), and a bound keeps the regular
# expressions' work per line bounded whatever a pattern (a site's own, say) looks like.
MAX_PATTERN_LINE = 1_000
# A line announcing a list of links to other articles; it and the teaser titles after it go.
RELATED_HEADINGS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(?:you (?:may|might) also (?:like|enjoy)|more (?:great )?[\w ]{0,30} stories|more from [\w ]{1,40}|"
        r"don'?t miss|more|related|recommended(?: for you| stories| articles)?|trending(?: now)?|"
        r"popular(?: now| stories)?|most popular|what to read next|read next|up next|"
        r"something to consider|latest(?: news| stories)?|ähnliche artikel|weitere artikel|"
        r"das könnte sie auch interessieren|articles similaires|artículos relacionados|articoli correlati|"
        r"relaterte artikler|relaterade artiklar)\s*+(?:\.\.\.|…|:)?",
        rf"{_READ_ALSO}\s*+(?:\.\.\.|…|:)?",
    )
)
# A teaser title: short, and not ending like a sentence of running text.
TEASER_MAX_CHARS = 130
TEASER_MAX_RUN = 12


def prune(tree: HtmlElement, xpath: str, label: str, removed: list[Removal]) -> None:
    """Remove every element ``xpath`` selects (keeping tails), noting each under ``label``."""
    try:
        nodes = tree.xpath(xpath)
    except XPathError as exc:
        removed.append((label, f"invalid XPath: {exc}"))
        return
    for node in nodes:
        if isinstance(node, HtmlElement) and node.getparent() is not None:
            text = node_text(node)
            remove(node)
            if text:
                removed.append((label, text))


def drop_lines(
    lines: Iterable[str], patterns: Iterable[re.Pattern[str]], label: str, removed: list[Removal]
) -> list[str]:
    """``lines`` without those that one of ``patterns`` matches in full."""
    patterns = tuple(patterns)
    kept = []
    for line in lines:
        hit = next((p for p in patterns if p.fullmatch(line)), None) if len(line) <= MAX_PATTERN_LINE else None
        if hit is None:
            kept.append(line)
        else:
            removed.append((f"{label}:{hit.pattern}", line))
    return kept


# A lead printed twice: a repeat of the first line (LEAD_LINES) among the first LEAD_WINDOW lines.
LEAD_LINES = 1
LEAD_WINDOW = 3


def dedupe(lines: list[str], removed: list[Removal], min_chars: int = 30) -> list[str]:
    """``lines`` without true repeats of a paragraph (of ``min_chars`` or more): the same block twice
    in a row, or the lead printed again among the first lines.

    A paragraph repeated further on is the article's own (an interview's recurring question, a
    recipe's "Portion:" line, the feature list of each product in a buying guide) and stays.
    """
    kept: list[str] = []
    lead: set[str] = set()
    for i, line in enumerate(lines):
        key = line.casefold()
        if len(line) >= min_chars and ((kept and kept[-1].casefold() == key) or (i < LEAD_WINDOW and key in lead)):
            removed.append(("repeated paragraph", line))
            continue
        if i < LEAD_LINES:
            lead.add(key)
        kept.append(line)
    return kept


def _teaser(line: str) -> bool:
    return len(line) <= TEASER_MAX_CHARS and not re.search(r"[.:;,]['\"’”)]?$", line)


def drop_related(lines: list[str], removed: list[Removal]) -> list[str]:
    """``lines`` without link-list headings (``You may also like...``) and the teaser titles after them."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        if len(lines[i]) <= MAX_PATTERN_LINE and any(p.fullmatch(lines[i]) for p in RELATED_HEADINGS):
            removed.append(("related heading", lines[i]))
            i += 1
            run = 0
            while i < len(lines) and run < TEASER_MAX_RUN and _teaser(lines[i].lstrip("- ")):
                removed.append(("related teaser", lines[i]))
                i += 1
                run += 1
            continue
        kept.append(lines[i])
        i += 1
    return kept


# Headings are looked for among this many first body lines.
HEADING_LINES = 3


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


# A line is a headline with a kicker when it ends with a headline of KICKED_MIN_CHARS or more, after
# at most KICKER_MAX_CHARS more, and does not end like a sentence (a lead may quote the headline).
KICKED_MIN_CHARS = 20
KICKER_MAX_CHARS = 60


def _kicked(line: str, tails: set[str]) -> bool:
    if re.search(r"[.!?…]['\"’”»)]?$", line) and not re.search(r"[!?…]['\"’”»)]?$", line):
        return False
    key = _words(line).replace(" ", "")
    return any(key.endswith(t) and len(key) - len(t) <= KICKER_MAX_CHARS for t in tails)


def drop_headings(lines: list[str], headings: Iterable[str], removed: list[Removal]) -> list[str]:
    """``lines`` without the page's title or standfirst repeated among its first lines."""
    keys = {_words(h) for h in headings if h and len(_words(h).split()) >= 3}
    # A headline printed with its kicker in front ("Spionagedrehscheibe Schweiz: Ein großer ...",
    # markup-joined: "Europäische KommissionVerfahren: ..."): compared without spaces, from the end.
    tails = {k.replace(" ", "") for k in keys if len(k) >= KICKED_MIN_CHARS}
    kept = []
    for i, line in enumerate(lines):
        if i < HEADING_LINES and (_words(line) in keys or _kicked(line, tails)):
            removed.append(("heading repeated in body", line))
        else:
            kept.append(line)
    return kept


# A table cell holding running text (this many characters, or a paragraph of its own) lays the page
# out; it holds no data.
LAYOUT_CELL_CHARS = 400
_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"})


def unwrap_layout_tables(tree: HtmlElement) -> int:
    """Turn tables that lay the page out (a cell holds paragraphs, a long run of text or another
    table) into plain blocks, so that the article in one of their cells reads as paragraphs and not
    as rows of a data table. Data tables (short cells) stay. Returns the count of tables unwrapped."""
    count = 0
    for table in list(tree.iter("table")):
        cells = table.xpath("./tr/td | ./*/tr/td | ./tr/th | ./*/tr/th")
        layout = any(
            cell.find(".//p") is not None
            or cell.find(".//table") is not None
            or len(cell.text_content()) >= LAYOUT_CELL_CHARS
            for cell in cells
        )
        if not layout:
            continue
        count += 1
        for node in [table, *table.iterdescendants()]:
            if node.tag in _TABLE_PARTS and (node is table or node.getparent() is not None):
                node.tag = "div"
                for name in ("colspan", "rowspan", "width", "height", "cellpadding", "cellspacing", "border"):
                    node.attrib.pop(name, None)
    return count


def keep_embedded_posts(tree: HtmlElement, xpath: str) -> int:
    """Turn the posts ``xpath`` selects into plain quotes, lifted out of their widget wrappers.

    Extractors discard anything classed as social media; an embedded post is a quotation the story
    relies on. Wrappers that hold nothing but the post are replaced by it. Returns the count.
    """
    posts = [p for p in tree.xpath(xpath) if isinstance(p, HtmlElement)]
    for post in posts:
        post.attrib.pop("class", None)
        parent = post.getparent()
        while (
            parent is not None
            and parent.tag in {"div", "figure", "span"}
            and len(parent) == 1
            and not (parent.text or "").strip()
            and parent.getparent() is not None
        ):
            post.tail = parent.tail
            parent.getparent().replace(parent, post)
            parent = post.getparent()
    return len(posts)


# A class that hides an element from the eye and leaves it to screen readers (Bootstrap's sr-only,
# WordPress's screen-reader-text, visually-hidden, and their abbreviations such as ``x-vh``).
_SCREEN_READER_CLASS = re.compile(
    r"(?:^|[\s_-])(?:sr-only|screen-?reader(?:-text|-only)?|visually-?hidden|vh|off-?screen)(?=$|\s)", re.IGNORECASE
)
# Longer than this, a screen-reader-only span in a link is not a label.
LINK_LABEL_CHARS = 80


def drop_link_labels(tree: HtmlElement, removed: list[Removal]) -> int:
    """Remove the screen-reader-only labels of links and buttons (``(opens in a new window)``,
    ``Share this article via X``): short spans no reader sees, which extraction would otherwise run
    into the link's text. Only inside a link or button, and only short ones: hidden markup elsewhere
    may hold the article. Returns the count removed."""
    spans = tree.xpath("//a//span[@class] | //button//span[@class]")
    labels = (
        span
        for span in spans
        if _SCREEN_READER_CLASS.search(span.get("class", "")) and len(node_text(span)) <= LINK_LABEL_CHARS
    )
    return _drop(labels, "link label for screen readers", removed)


def _drop(nodes: Iterable[HtmlElement], label: str, removed: list[Removal]) -> int:
    """Remove each of ``nodes`` still in the tree, recording its text under ``label``; the count."""
    count = 0
    for node in nodes:
        if node.getparent() is None:
            continue
        text = node_text(node)
        remove(node)
        count += 1
        if text:
            removed.append((label, text))
    return count


def inline_ruby(tree: HtmlElement) -> int:
    """Read ``<ruby>`` annotations (the reading of Japanese or Chinese characters printed above them)
    inline, as a browser without ruby support shows them: the base, then the reading in the ``<rp>``
    parentheses the page gives: the name, then its reading in parentheses. Extractors otherwise cut the sentence
    into lines at each annotation. Returns the count."""
    rubies = list(tree.iter("ruby"))
    for ruby in rubies:
        text = ruby.text_content()
        for child in list(ruby):
            ruby.remove(child)
        ruby.text = text
        ruby.drop_tag()
    return len(rubies)


# The box an ad or an embedded post stands in until it loads or the reader consents
# ("c-ad__placeholder", "social-placeholder", "c-oembed-placeholder", "consent-prompt").
_PLACEHOLDER_CLASS = re.compile(
    r"(?:^|[\s_-])(?:ad|ads|advert|advertisement|embed|oembed|social|consent|cmp|privacy)[_-]{1,2}placeholder\b|"
    r"(?:^|[\s_-])consent[_-]{1,2}(?:prompt|placeholder|notice)\b",
    re.IGNORECASE,
)
# A placeholder holds a label, a paragraph of explanation and a button: never more text than this,
# nor more than one paragraph (the guards that keep an article misnamed a placeholder).
PLACEHOLDER_MAX_CHARS = 600
MAX_PLACEHOLDERS = 200


def drop_placeholders(tree: HtmlElement, removed: list[Removal]) -> int:
    """Remove the boxes that stand in for an ad or an embedded post ("Advertisement", "External
    content not available: your privacy settings prevent ..."): named so by their class, short, and
    holding at most one paragraph. Returns the count removed."""
    candidates = tree.xpath("//*[contains(@class, 'laceholder') or contains(@class, 'onsent')]")
    boxes = (
        node
        for node in candidates[:MAX_PLACEHOLDERS]
        if _PLACEHOLDER_CLASS.search(node.get("class", ""))
        and len(node_text(node)) <= PLACEHOLDER_MAX_CHARS
        and sum(1 for _ in node.iter("p")) <= 1
    )
    return _drop(boxes, "ad or embed placeholder", removed)
