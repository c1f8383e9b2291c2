"""Paywalls: whether a page gives the whole article to any reader (``access``), whether its text ends
where a paywall cuts it (``truncated``), and the paywall's prompt taken out of the text.

newsclean reads what the page says of itself and what any reader is shown; it never gets around a
paywall. The evidence, most trusted first:

- **JSON-LD** ``isAccessibleForFree`` on the article (or its web page), and ``hasPart`` entries
  (``WebPageElement``) not free, whose ``cssSelector`` names the paywalled part of the page: the
  structured data publishers give search engines for paywalled content (Google's "Subscription and
  paywalled content"). A declared part that is missing, empty or not in the text means the text
  stops where the paywall starts.
- **A paywall box**: an element whose class or id names a paywall (``paywall``, ``regwall``, Piano's
  ``tp-container``...), short, holding no running text and a subscription prompt or its buttons.
  Its contents are removed before extraction; it cuts the text when no paragraph of the article
  follows it.
- **A prompt line** in the text: a short line that is only a paywall prompt ("Subscribe to continue
  reading", "This article is for subscribers", "Already a subscriber? Log in", in English, German,
  French, Spanish, Italian, Portuguese and Dutch). Matched against the whole line, so a paragraph
  that mentions subscribing is never one. Removed wherever it is; at the end of the text (with the
  buttons around it) it cuts the text.

Plain functions on an lxml tree and on text lines; nothing here imports Scrapy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import lxml.etree
from lxml.html import HtmlElement

from newsclean.extraction.html import node_text, remove
from newsclean.extraction.result import Removal

FREE = "free"
RESTRICTED = "restricted"
UNKNOWN = "unknown"

# A prompt is a short line: longer, it is a paragraph that may mention subscribing.
PROMPT_MAX_CHARS = 200
# A paywall box holds a prompt and a few buttons, never the article's running text.
BOX_MAX_CHARS = 600
BOX_PARAGRAPH_CHARS = 200
# Bounds on what a page can make this module do.
MAX_SELECTORS = 10
MAX_SELECTOR_CHARS = 200
MAX_BOXES = 20
MAX_CANDIDATES = 200  # elements named like a paywall looked at (nested by the thousand, each costs its subtree)

_S = r"[\s\u00a0]*+"
_END = r"[\s.…!:?\-–—>»›]*+"  # "Subscribe to continue reading…", "Log in »"
# Lines that are a paywall prompt, whole (case-insensitive).
_PROMPTS = (
    # English
    r"(?:please\s+)?(?:subscribe|sign\s+up|sign\s+in|log\s*in|register|join)(?:\s+(?:now|today|for\s+free))?"
    r"(?:\s+(?:or|and)\s+(?:sign\s+in|log\s*in|subscribe))?\s+to\s+(?:continue|keep|start)\s+reading\b.{0,80}",
    r"(?:to\s+)?(?:continue|keep)\s+reading,?\s+(?:please\s+)?(?:subscribe|sign\s+in|log\s*in|register|"
    r"become\s+an?\s+(?:subscriber|member)|start\s+your\s+(?:free\s+)?(?:trial|subscription))\b.{0,80}",
    r"(?:to\s+)?read\s+(?:the\s+)?(?:full|whole|rest\s+of\s+the|complete)\s+(?:article|story),?\s+"
    r"(?:please\s+)?(?:subscribe|sign\s+in|log\s*in|register|become\s+an?\s+(?:subscriber|member))\b.{0,80}",
    r"to\s+read\s+the\s+(?:full|whole|rest\s+of\s+the|complete)\s+(?:article|story)",
    r"(?:the\s+rest\s+of\s+)?this\s+(?:article|story|content|post|piece)\s+is\s+(?:only\s+|exclusively\s+)?"
    r"(?:for|available\s+(?:only\s+)?(?:to|for)|reserved\s+for|exclusive\s+to)\s+(?:our\s+|paying\s+|paid\s+)?"
    r"(?:subscribers|members)\b.{0,80}",
    r"(?:this\s+(?:article|story|content)\s+is\s+)?(?:for\s+)?(?:subscribers|members)[\s-]+only(?:\s+(?:content|article))?",
    r"(?:subscription|subscriber\s+access)\s+required\b.{0,80}",
    r"already\s+(?:a\s+)?(?:subscriber|member|subscribed|have\s+an\s+account)\s*\??\s*(?:(?:please\s+)?"
    r"(?:log\s*in|sign\s*in)\b.{0,60})?",
    r"you(?:'ve|’ve|\s+have)\s+(?:reached|used\s+up|used)\s+(?:your|all\s+(?:of\s+)?your|the)\s+(?:limit\s+of\s+)?"
    r"(?:\d+\s+)?(?:free\s+)?(?:monthly\s+)?(?:articles?|stories|story)(?:\s+limit)?\b.{0,100}",
    r"you\s+have\s+read\s+\d+\s+of\s+(?:your\s+)?\d+\s+free\s+(?:articles|stories).{0,100}",
    # German
    r"(?:jetzt\s+)?weiterlesen\s+mit\s+.{1,60}",
    r"(?:dieser|der)\s+(?:artikel|beitrag|inhalt)\s+ist\s+(?:nur\s+|exklusiv\s+)?(?:für|fuer)\s+"
    r"(?:abonnent(?:inn)?en|abonnentinnen\s+und\s+abonnenten|abonnenten|\S+[-\s]?(?:plus|abonnent(?:inn)?en))\b.{0,80}",
    r"(?:sie\s+sind\s+)?bereits\s+(?:abonnent(?:in)?|abonniert|registriert|kunde)\s*\??\s*(?:(?:jetzt\s+|hier\s+)?"
    r"(?:anmelden|einloggen)\b.{0,40})?",
    r"(?:um\s+)?(?:den|diesen)\s+(?:ganzen\s+|vollständigen\s+|kompletten\s+)?(?:artikel|beitrag)\s+zu\s+lesen,?\s+"
    r".{0,60}(?:abo|abonnieren|anmelden|registrieren)\b.{0,40}",
    r"für\s+\d[\d.,]*\s*(?:€|euro)\s+(?:können\s+sie\s+)?(?:diesen|den)\s+artikel\s+(?:erwerben|kaufen|lesen)\b.{0,40}",
    # French
    r"(?:la\s+suite\s+de\s+)?cet\s+article\s+est\s+réservé\s+(?:aux\s+abonnés|à\s+nos\s+abonnés)\b.{0,80}",
    r"la\s+suite\s+(?:de\s+cet\s+article\s+)?est\s+réservée\s+aux\s+abonnés\b.{0,80}",
    r"il\s+vous\s+reste\s+\d+(?:[.,]\d+)?\s*%\s+de\s+cet\s+article\s+à\s+lire\b.{0,60}",
    r"déjà\s+abonnée?\s*\??\s*(?:(?:se\s+connecter|connectez-vous|je\s+me\s+connecte)\b.{0,40})?",
    r"abonnez-vous\s+pour\s+(?:lire|continuer|poursuivre)\b.{0,80}",
    # Spanish
    r"(?:este|el)\s+(?:artículo|contenido)\s+es\s+(?:exclusivo\s+)?(?:para|solo\s+para)\s+(?:suscriptores|abonados)\b.{0,80}",
    r"suscríbete\s+para\s+(?:seguir|continuar)\s+leyendo\b.{0,80}",
    r"(?:¿\s*)?ya\s+eres\s+(?:suscriptor|suscriptora|abonado)\s*\??\s*(?:(?:inicia\s+sesión|entra|accede)\b.{0,40})?",
    # Italian
    r"questo\s+articolo\s+è\s+riservato\s+(?:agli|ai\s+nostri)\s+abbonati\b.{0,80}",
    r"sei\s+già\s+abbonat[oa]\s*\??\s*(?:accedi\b.{0,40})?",
    r"abbonati\s+per\s+(?:continuare\s+a\s+leggere|leggere)\b.{0,80}",
    # Portuguese
    r"(?:este|esse)\s+conteúdo\s+é\s+exclusivo\s+para\s+assinantes\b.{0,80}",
    r"já\s+é\s+assinante\s*\??\s*(?:(?:faça\s+(?:o\s+)?login|entre|acesse)\b.{0,40})?",
    r"assine\s+para\s+continuar\s+(?:lendo|a\s+ler)\b.{0,80}",
    # Japanese
    r"有料会員(?:になると|登録(?:する)?と|の方は).{0,60}(?:お読みいただけます|読めます|ご覧いただけます)。?",
    r"(?:この記事は)?(?:有料|会員限定)(?:会員限定)?記事です。?.{0,60}",
    r"(?:この記事の)?続きを読むには.{0,60}(?:有料会員|会員登録|ログイン).{0,40}",
    r"残り\d+文字.{0,60}",
    r".{0,40}有料記事(?:が)?読み放題.{0,80}",
    # Dutch
    r"dit\s+(?:artikel|verhaal)\s+is\s+(?:alleen\s+)?(?:beschikbaar\s+)?voor\s+abonnees\b.{0,80}",
    r"al\s+abonnee\s*\??\s*(?:(?:log\s+in|inloggen)\b.{0,40})?",
)
PROMPT_LINES = tuple(re.compile(_S + p + _END, re.IGNORECASE) for p in _PROMPTS)
# The buttons and links printed with a prompt; removed only beside one, at the end of the text.
_BUTTONS = (
    r"(?:subscribe|subscribe\s+now|subscribe\s+today|sign\s+in|log\s*in|login|sign\s+up|register|"
    r"see\s+(?:all\s+)?(?:subscription\s+)?(?:options|offers|plans)|view\s+(?:subscription\s+)?(?:offers|plans)|"
    r"start\s+(?:your\s+)?(?:free\s+)?trial|get\s+(?:full\s+|unlimited\s+)?access|"
    r"abonnieren|jetzt\s+abonnieren|anmelden|einloggen|s'abonner|je\s+m'abonne|se\s+connecter|"
    r"suscríbete|iniciar\s+sesión|abbonati|accedi|assine|entrar|abonneer|inloggen)",
    # an offer's price, "$1 per week for a year", "4,99 € pro Monat"
    r"(?:only\s+|just\s+|nur\s+)?[$€£]?\s*\d[\d.,]*+\s*(?:[$€£]|euros?|dollars?|eur|usd)?\s*(?:per|a|/|pro|par|al|por)\s*"
    r"(?:week|month|year|woche|monat|jahr|semaine|mois|an|semana|mes|año|mese|mês|maand)\b.{0,40}",
)
BUTTON_LINES = tuple(re.compile(_S + p + _END, re.IGNORECASE) for p in _BUTTONS)
# Class or id words that name a paywall.
_PAYWALL_NAME = re.compile(r"pay-?wall|regwall", re.IGNORECASE)
_BOX_NAME = re.compile(r"pay-?wall|regwall|\btp-(?:container|modal)\b|\bpiano-", re.IGNORECASE)
# Words of a subscription prompt or its buttons, looked for inside a box its name marks a paywall.
_BOX_WORDS = re.compile(
    r"subscri|abonn|suscr|assin|abbona|log\s*in|sign\s*in|sign\s*up|anmeld|einlog|connect|accedi|sesión|registr",
    re.IGNORECASE,
)
_NOT_ALNUM = re.compile(r"[\W_]+")
# The page's text runs (script text included: it only ever widens a gap), as plain strings.
_RUNS = lxml.etree.XPath("//text()", smart_strings=False)
_PRECEDING = lxml.etree.XPath("preceding::text()", smart_strings=False)
_OWN_TEXT = lxml.etree.XPath(".//text()", smart_strings=False)
# The words looked for in classes and ids (XPath's contains() is case-sensitive: the usual forms;
# _BOX_NAME decides, in any case).
_NAMES = lxml.etree.XPath("//@class | //@id", smart_strings=False)
_BOX_WORDS_IN_MARKUP = (
    "paywall", "Paywall", "PayWall", "PAYWALL", "pay-wall", "regwall", "tp-container", "tp-modal", "piano-",
)  # fmt: skip
_BOX_TAGS = frozenset({"div", "section", "aside", "p", "span", "form", "footer"})
# A paywall box or prompt directly follows the text when at most this many letters and digits of
# the page lie between the end of the text's last line and it (a share bar, a tag list).
FOLLOW_GAP = 400
# What a paywall box says: one with a prompt marks the page wherever it is; one its name calls a
# paywall (with buttons only), like a prompt outside any box, only where it directly follows the text.
PROMPT_BOX = 2
NAMED_BOX = 1
_SELECTOR = re.compile(r"([a-zA-Z][\w-]*+)?((?:[.#][\w-]++)++)")


@dataclass
class Paywall:
    """What the page says of its paywall, read before extraction."""

    declared: str = ""  # JSON-LD isAccessibleForFree: "true", "false" or ""
    # Texts (paragraphs) of the declared paywalled parts present on the page, for each part.
    parts: list[list[str]] = field(default_factory=list)
    # The declared paywalled parts: that many selectors, that many matched nothing or were empty.
    selectors: int = 0
    missing: int = 0
    empty: int = 0
    # The page's text runs (text nodes) once its boxes are removed, and for each box the index of the
    # run it stood before and what it says (PROMPT_BOX, NAMED_BOX; 0 for a box of buttons that
    # names no paywall).
    runs: list[str] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def _is_prompt(line: str) -> bool:
    return len(line) <= PROMPT_MAX_CHARS and any(p.fullmatch(line) for p in PROMPT_LINES)


def _is_button(line: str) -> bool:
    return len(line) <= PROMPT_MAX_CHARS and any(p.fullmatch(line) for p in BUTTON_LINES)


def selector_xpath(selector: str) -> str | None:
    """An XPath for a simple CSS selector (``.paywall``, ``div.a.b``, ``#locked``, comma-separated
    lists of them), or None for anything else (Google asks for ``.class`` selectors only)."""
    if len(selector) > MAX_SELECTOR_CHARS:
        return None
    paths = []
    for part in selector.split(","):
        match = _SELECTOR.fullmatch(part.strip())
        if not match:
            return None
        tests = []
        for kind, name in re.findall(r"([.#])([\w-]+)", match.group(2)):
            if kind == ".":
                tests.append(f"[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]")
            else:
                tests.append(f"[@id='{name}']")
        paths.append(f"//{match.group(1) or '*'}{''.join(tests)}")
    return " | ".join(paths)


def _texts(node: HtmlElement) -> list[str]:
    """The paragraph texts of ``node`` (its own text when it has no paragraph)."""
    texts = [t for t in (node_text(p) for p in node.iter("p")) if t]
    return texts or ([t] if (t := node_text(node)) else [])


def declared_parts(tree: HtmlElement, accessible: str, selectors: list[str]) -> Paywall:
    """The page's declaration (JSON-LD ``isAccessibleForFree`` and the ``cssSelector`` of its parts
    not free) and the declared parts found in ``tree``; read before anything is removed from it."""
    found = Paywall(declared=accessible)
    if accessible:
        found.evidence.append(f"json-ld:isAccessibleForFree={accessible}")
    for selector in selectors[:MAX_SELECTORS]:
        xpath = selector_xpath(selector)
        if xpath is None:
            found.evidence.append(f"json-ld:hasPart {selector[:60]!r} (selector not read)")
            continue
        found.selectors += 1
        nodes = [n for n in tree.xpath(xpath) if isinstance(n, HtmlElement)]
        texts = [t for n in nodes for t in _texts(n)]
        if texts:
            found.parts.append(texts)
            found.evidence.append(f"json-ld:hasPart {selector}")
        elif nodes:
            found.empty += 1
            found.evidence.append(f"json-ld:hasPart {selector} (empty)")
        else:
            found.missing += 1
            found.evidence.append(f"json-ld:hasPart {selector} (missing)")
    return found


def _key(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


@lru_cache(maxsize=64)
def _candidates(words: tuple[str, ...]) -> lxml.etree.XPath:
    tests = " or ".join(f"contains(@class, '{w}') or contains(@id, '{w}')" for w in words)
    return lxml.etree.XPath(f"//*[{tests}]")


def remove_boxes(tree: HtmlElement, found: Paywall, removed: list[Removal]) -> None:
    """Remove the paywall boxes of ``tree`` (elements its class or id names a paywall, short, without
    running text, that hold a subscription prompt or its buttons), noting where they were, and keep
    the page's text runs. Run after invisible elements are removed (a hidden box is no prompt any
    reader sees)."""
    boxes: list[HtmlElement] = []
    # One look at every class and id first: most pages name no paywall, and a look at each of
    # their elements would cost more than the rest of this module.
    names = " ".join(_NAMES(tree))
    words = tuple(word for word in _BOX_WORDS_IN_MARKUP if word in names)
    for seen, node in enumerate(_candidates(words)(tree) if words else ()):
        if len(boxes) >= MAX_BOXES or seen >= MAX_CANDIDATES:
            break
        if node.tag not in _BOX_TAGS:
            continue
        if not _BOX_NAME.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            continue
        if any(b in node.iterancestors() for b in boxes):
            continue
        text = node_text(node)
        if not text or len(text) > BOX_MAX_CHARS:
            continue
        # A paragraph of running text that is no prompt: the paywalled article itself (Google's own
        # example marks the paywalled content class="paywall"), which stays.
        if any(len(t) >= BOX_PARAGRAPH_CHARS and not _is_prompt(t) for t in (node_text(p) for p in node.iter("p"))):
            continue
        if _BOX_WORDS.search(text) or any(_is_prompt(t) for t in (node_text(e) for e in node.iter())):
            boxes.append(node)
    removed_runs = 0  # the runs of the boxes before this one, gone from the page's runs
    for box in boxes:
        index = len(_PRECEDING(box)) - removed_runs
        removed_runs += len(_OWN_TEXT(box))
        if any(_is_prompt(node_text(e)) for e in box.iter()):
            found.marks.append((index, PROMPT_BOX))
        elif _PAYWALL_NAME.search(f"{box.get('class') or ''} {box.get('id') or ''}"):
            found.marks.append((index, NAMED_BOX))
        found.evidence.append(f"markup:{box.tag}.{(box.get('class') or box.get('id') or '').split()[0][:40]}")
        removed.append(("paywall box", node_text(box)))
        remove(box)
    # Where the text ends in the page is looked for only on a page its JSON-LD or a box says is
    # restricted: there a box or prompt right after the text says where the free part ends.
    if boxes or found.declared == "false" or found.parts or found.missing or found.empty:
        found.runs = _RUNS(tree)


def drop_prompts(lines: list[str], found: Paywall, removed: list[Removal]) -> tuple[list[str], bool]:
    """``lines`` without paywall prompt lines, and whether a prompt ends the text (with the buttons
    printed beside it). A prompt line is removed wherever it is; a button line only there."""
    end = len(lines)
    prompt_at_end = False
    while end > 0 and (_is_prompt(lines[end - 1]) or _is_button(lines[end - 1])):
        prompt_at_end = prompt_at_end or _is_prompt(lines[end - 1])
        end -= 1
    if not prompt_at_end:
        end = len(lines)
    kept = []
    for i, line in enumerate(lines):
        if i >= end or _is_prompt(line):
            removed.append(("paywall prompt", line))
            found.evidence.append("prompt")
        else:
            kept.append(line)
    return kept, prompt_at_end


def _follows_text(found: Paywall, lines: list[str]) -> tuple[bool, bool]:
    """Whether a box or prompt marks the page, and whether one directly follows the text's last line
    (at most FOLLOW_GAP letters and digits of the page between them)."""
    marked = any(m == PROMPT_BOX for _, m in found.marks)
    if not found.runs:
        return marked, False
    line = _key(lines[-1]) if lines else ""
    runs = found.runs
    # The last run of the page that ends the text's last line (a piece of 4 letters or more of it).
    last = next(
        (i for i in range(len(runs) - 1, -1, -1) if len(k := _key(runs[i])) >= 4 and line.endswith(k[-60:])), None
    )
    if last is None:
        return marked, False
    boxes = {i: m for i, m in found.marks if m}
    gap = 0
    for i in range(last + 1, len(runs) + 1):
        if boxes.get(i):
            return True, True
        if i == len(runs) or gap > FOLLOW_GAP:
            break
        run = runs[i]
        if len(run) <= 2 * PROMPT_MAX_CHARS and _is_prompt(" ".join(run.split())):
            return True, True
        gap += len(_key(run))
    return marked, False


def judge(found: Paywall, lines: list[str], prompt_at_end: bool) -> tuple[str, bool]:
    """``access`` and ``truncated`` of the text ``lines`` (prompts already removed).

    Restricted: the JSON-LD says the article is not free, or a declared paywalled part is missing or
    empty, or a prompt is in the text, or a paywall box with a prompt is on the page. Truncated (only
    restricted): a prompt ends the text, or a paywall box or prompt directly follows its last line in
    the page, or a declared paywalled part is empty or none of its paragraphs is in the text. A
    declared part missing altogether does not say the text is cut: a site that sends the whole
    article may add that class with its scripts (measured on a dev page).
    """
    marked, cut_by_mark = _follows_text(found, lines)
    prompt = "prompt" in found.evidence
    if found.declared == "false" or marked or prompt or found.missing or found.empty:
        access = RESTRICTED
    elif found.declared == "true":
        access = FREE
    else:
        access = UNKNOWN
    if access != RESTRICTED or not lines:
        return access, False
    text = set(lines)
    cut_by_part = found.empty > 0 or any(not text.intersection(part) for part in found.parts)
    return access, prompt_at_end or cut_by_part or cut_by_mark
