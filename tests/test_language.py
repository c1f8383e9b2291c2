"""Language detection on compact profiles: langdetect's answers, bit for bit, in under a third of the memory."""

from __future__ import annotations

import gc
import gzip
import json
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.utils.ngram import NGram

from benchmarks import language as language_benchmark
from newsclean.extraction import language
from newsclean.extraction.language import SEED, CompactDetector, CompactFactory, detect_language
from newsclean.fixtures import load_fixtures

from .conftest import ROOT

# Written for this test, one paragraph per language, each long enough to be detected.
SAMPLES = [
    "Die Regierung hat am Dienstag neue Maßnahmen angekündigt, um die steigenden Energiepreise für "
    "Haushalte und kleine Unternehmen abzufedern.",
    "Le gouvernement a annoncé mardi de nouvelles mesures pour atténuer la hausse des prix de l'énergie "
    "pour les ménages et les petites entreprises.",
    "El gobierno anunció el martes nuevas medidas para amortiguar el aumento de los precios de la energía "
    "para los hogares y las pequeñas empresas.",
    "Il governo ha annunciato martedì nuove misure per attenuare l'aumento dei prezzi dell'energia per le "
    "famiglie e le piccole imprese.",
    "O governo anunciou na terça-feira novas medidas para amortecer a subida dos preços da energia para as "
    "famílias e as pequenas empresas.",
    "De regering heeft dinsdag nieuwe maatregelen aangekondigd om de stijgende energieprijzen voor "
    "huishoudens en kleine bedrijven te verzachten.",
    "Rząd ogłosił we wtorek nowe środki, które mają złagodzić rosnące ceny energii dla gospodarstw "
    "domowych i małych firm.",
    "Hükümet salı günü hane halkı ve küçük işletmeler için artan enerji fiyatlarını hafifletmek amacıyla "
    "yeni önlemler açıkladı.",
    "Правительство во вторник объявило о новых мерах, которые должны смягчить рост цен на энергию для "
    "домохозяйств и малого бизнеса.",
    "Η κυβέρνηση ανακοίνωσε την Τρίτη νέα μέτρα για να μετριάσει την αύξηση των τιμών της ενέργειας για "
    "τα νοικοκυριά και τις μικρές επιχειρήσεις.",
    "أعلنت الحكومة يوم الثلاثاء عن إجراءات جديدة للتخفيف من ارتفاع أسعار الطاقة على الأسر والشركات الصغيرة "
    "في جميع أنحاء البلاد.",
    "政府は火曜日、家庭や中小企業のエネルギー価格の上昇を和らげるための新たな対策を発表した。対策には電気料金"
    "とガス料金への補助金が含まれる。",
    "政府周二宣布了新的措施，以缓解家庭和小企业面临的能源价格上涨。这些措施包括对电费和燃气费的补贴以及对低收入"
    "家庭的直接援助。",
    "정부는 화요일 가계와 중소기업의 에너지 가격 상승을 완화하기 위한 새로운 대책을 발표했다. 대책에는 전기 요금"
    "과 가스 요금 보조금이 포함된다.",
    "सरकार ने मंगलवार को घरों और छोटे व्यवसायों के लिए बढ़ती ऊर्जा कीमतों को कम करने के लिए नए उपायों की घोषणा की।",
    "Short, mixed: Kremlin says talks in Istanbul were useful; Ankara confirms the meeting took place.",
]


# The texts newsclean extracts from the 83 pages of the article-extraction-benchmark's dev set, in
# runs of 1,000 characters (tests/data/README.md says where they come from and how they were made).
BENCHMARK_TEXTS = ROOT / "tests" / "data" / "language-aeb-dev.json.gz"

# What langdetect's text handling has rules for: URLs and e-mail addresses, Vietnamese
# diacritics as combining marks (and precomposed, in Latin Extended Additional), words in capitals,
# runs of spaces and other blanks, Latin amid other scripts, Romanian commas and cedillas, Farsi
# yeh, kana, bopomofo, Hangul, the CJK ideographs it folds, Latin-1 signs and general punctuation.
EDGE_TEXTS = [
    "See https://example.com/news/2024/05/story?id=1&x=y#top and write to desk.news@example.co.uk "
    "for the full report on the regional elections held over the weekend in the north.",
    "Vie\u0323\u0302t Nam: Ho\u0300a bi\u0300nh va\u0300 pha\u0301t trie\u0309n kinh te\u0302\u0301 "
    "la\u0300 nhu\u031bo\u0323ng mu\u0323c tie\u0302u ha\u0300ng \u0111a\u0302\u0300u cu\u0309a "
    "chi\u0301nh phu\u0309 trong na\u0306m nay.",
    "Việt Nam: Hòa bình và phát triển kinh tế là những mục tiêu hàng đầu của chính phủ trong năm nay, "
    "theo báo cáo của bộ kế hoạch và đầu tư.",
    "THE PRIME MINISTER SAID ON TUESDAY that NATO and the EU would meet again; McDonald's, iPhone and "
    "O'Neill were named, ABCdef GHi jKL, A B C D, and the UNHCR's report followed.",
    "Words   with    runs\tof\t\tblanks\n\nand   new\r\nlines,   then   more    words   to   read   here.",
    "   leading spaces, then words, and trailing spaces too, in a sentence long enough to detect it   ",
    "Правительство заявило, что BBC и CNN сообщили о встрече в Москве; Reuters добавило детали, а "
    "министр подтвердил переговоры во вторник.",
    "Guvernul a anunțat că școlile și spitalele vor primi fonduri; Guvernul a anunţat că şcolile şi "
    "spitalele vor primi fonduri pentru ţară.",
    "این یک متن فارسی است که برای آزمایش نوشته شده است و شامل حرف ی می‌باشد، یعنی یای فارسی در آن زیاد است.",
    "ひらがなとカタカナ、そして漢字が混ざった文章です。テレビのニュースでアナウンサーが伝えました。東京都",
    "ㄅㄆㄇㄈ ㄉㄊㄋㄌ 注音符號是一種中文的拼音方式，台灣的小學生都會學習注音。ㆠㆡㆢ",
    "裏佼椴漢字の異体字を含む文章：國際關係與經濟發展，臺灣與日本的學術交流。",
    "한국어 문장입니다. 정부는 화요일에 새로운 정책을 발표했으며 국민들은 이를 환영했다. 서울에서",
    "Prices rose 3% × 2 ÷ 4 « quoted » ° degrees — an em dash… ‘curly’ “quotes” • bullets ‰ and more "
    "punctuation in an English sentence.",
    "x",
    "1234 5678 !!! ??? ... --- 9999",
    "Ab",
    "A" * 300,
    "Το κείμενο περιέχει ελληνικά, English words, русские слова και αριθμούς 123 στο ίδιο κείμενο.",
    "中文新闻：政府周二宣布了新的措施 with some English words in the middle, 以缓解家庭和小企业面临的能源价格上涨。",
    "emoji 😀 text 🇩🇪 and symbols ★ ☂ ♪ within a German sentence: Die Regierung hat heute getagt.",
]


def _benchmark_texts() -> list[str]:
    texts: list[str] = json.loads(gzip.decompress(BENCHMARK_TEXTS.read_bytes()))
    return texts


def _texts() -> list[str]:
    found = list(SAMPLES)
    for fixture in load_fixtures():
        text = (fixture.expected or {}).get("text") or ""
        found += [text[i : i + 1000] for i in range(0, min(len(text), 3000), 500)]
    found += _benchmark_texts()
    return [t for t in found if t.strip()]


def _mixed_texts(count: int) -> list[str]:
    """Seeded texts of words and chars from every script and rule above, in random case and spacing."""
    rnd = random.Random(7)
    words = [w for text in SAMPLES + EDGE_TEXTS for w in text.split()]
    chars = (
        "abcXYZ019.,;-'\"()[]^_`{}~@#\xa0«°»×÷ßÀÆÐÞàæðþ\u0219\u021b\u015f\u0163ƠơƯư\u0300\u0301\u0303\u0309"
        "\u0323ạẠếỹἀΩωЖжاي\u06cc\u064aअआ\u3042\u304b\u30a2\u30ab\u3105\u31a0\u4e00\u4f7c\u6934\u88cf"
        "\uac00\ud55c\u2014\u2019\u2026\u3000\u3001 \t\n😀"
    )
    texts = []
    for _ in range(count):
        parts: list[str] = []
        for _ in range(rnd.randint(5, 160)):
            roll = rnd.random()
            if roll < 0.6:
                word = rnd.choice(words)
                parts.append(word.upper() if rnd.random() < 0.1 else word)
            elif roll < 0.9:
                parts.append("".join(rnd.choice(chars) for _ in range(rnd.randint(1, 8))))
            elif roll < 0.95:
                parts.append(f"https://site{rnd.randint(1, 9)}.example/path?q={rnd.randint(1, 99)}")
            else:
                parts.append(f"name{rnd.randint(1, 9)}@mail.example.org")
            parts.append(rnd.choice([" ", " ", " ", "  ", "\n", "\t", ", ", ". "]))
        texts.append("".join(parts))
    return texts


def _stock() -> DetectorFactory:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(SEED)
    return factory


def _compact() -> CompactFactory:
    factory = CompactFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(SEED)
    return factory


def _answers(factory: DetectorFactory, text: str) -> list[tuple[str, float]] | str:
    detector = factory.create()
    try:
        detector.append(text)
        return [(found.lang, found.prob) for found in detector.get_probabilities()]
    except Exception as exc:  # the same failure counts as the same answer
        return repr(exc)


def _all_probabilities(factory: DetectorFactory, text: str) -> list[float] | str:
    """Every language's probability, not only those over langdetect's 0.1 threshold."""
    detector = factory.create()
    try:
        detector.append(text)
        detector.get_probabilities()
    except Exception as exc:
        return repr(exc)
    return list(detector.langprob)


@pytest.fixture(scope="module")
def stock() -> DetectorFactory:
    return _stock()


@pytest.fixture(scope="module")
def compact() -> CompactFactory:
    return _compact()


def test_compact_profiles_give_langdetects_answers_bit_for_bit(stock: DetectorFactory, compact: CompactFactory) -> None:
    assert compact.langlist == stock.langlist
    assert set(compact.word_lang_prob_map) == set(stock.word_lang_prob_map)
    texts = _texts()
    assert len(texts) > 250
    for text in texts:
        assert _all_probabilities(compact, text) == _all_probabilities(stock, text), text[:80]
        assert _answers(compact, text) == _answers(stock, text), text[:80]
    languages = {_answers(compact, t)[0][0] for t in SAMPLES}  # type: ignore[index]
    assert {"de", "fr", "es", "ru", "ar", "ja", "ko", "hi", "el", "tr"} <= languages
    found = {answer[0][0] for answer in map(lambda t: _answers(compact, t), _benchmark_texts()) if answer}
    assert found >= {"en", "ja", "ru", "pt"}, found


def test_langdetects_text_rules_are_kept_step_by_step(stock: DetectorFactory, compact: CompactFactory) -> None:
    # The text after append() and after cleaning, the n-grams in order (those of the whole text and
    # those word by word), and the answers, on texts made to meet every rule of langdetect's text
    # handling, on seeded mixtures of them all and on the benchmark texts.
    texts = EDGE_TEXTS + _mixed_texts(150) + _benchmark_texts()
    failures = set()
    for text in texts:
        ours, theirs = compact.create(), stock.create()
        assert isinstance(ours, CompactDetector)
        for part in (text[:100], text[100:]):  # two appends, as langdetect allows
            ours.append(part)
            theirs.append(part)
        assert ours.text == theirs.text, text[:80]
        ours.cleaning_text()
        theirs.cleaning_text()
        assert ours.text == theirs.text, text[:80]
        ngrams = ours._extract_ngrams()
        assert ours._whole_text
        assert ngrams == theirs._extract_ngrams(), text[:80]
        assert ours._ngram_rows() == [compact.word_lang_prob_map[gram] for gram in ngrams]
        ours._whole_text = False
        assert ours._extract_ngrams() == ngrams, text[:80]
        answer = _all_probabilities(compact, text)
        assert answer == _all_probabilities(stock, text), text[:80]
        if isinstance(answer, str):
            failures.add(answer)
    assert failures == {"LangDetectException('No features in text.')"}  # some texts have no n-gram


def test_detector_settings_are_langdetects(stock: DetectorFactory, compact: CompactFactory) -> None:
    text = SAMPLES[0] + " " + SAMPLES[1] + " https://example.com/x " + SAMPLES[8]
    for configure in (
        lambda d: d.set_max_text_length(60),
        lambda d: d.set_prior_map({"fr": 0.7, "de": 0.3}),
        lambda d: d.set_alpha(1.5),
    ):
        answers = []
        for factory in (stock, compact):
            detector = factory.create()
            configure(detector)
            detector.append(text)
            detector.get_probabilities()
            answers.append(detector.langprob)
        assert answers[0] == answers[1]
    # Another seed draws other numbers, alike.
    stock.set_seed(12345)
    compact.set_seed(12345)
    try:
        assert _all_probabilities(compact, SAMPLES[5]) == _all_probabilities(stock, SAMPLES[5])
    finally:
        stock.set_seed(SEED)
        compact.set_seed(SEED)


def test_normalisation_table_is_langdetects_for_every_char() -> None:
    # Every char of the Basic Multilingual Plane (all of langdetect's special cases), a sample beyond.
    table = language._Normalized()
    text = "".join(chr(code) for code in [*range(0x10000), *range(0x10000, 0x110000, 97)])
    normalised = text.translate(table)
    assert len(normalised) == len(text)
    assert list(normalised) == [NGram.normalize(ch) for ch in text]
    assert len(table) == language.MAX_CACHED  # remembers no more than that
    assert list(text.translate(language._Case())) == ["U" if ch.isupper() else "." for ch in text]


@pytest.mark.parametrize("gram", [" ", "a  ", "e t"])
def test_a_table_with_spaced_ngrams_is_read_word_by_word(stock: DetectorFactory, gram: str) -> None:
    # langdetect's own profiles have no such n-gram (the whole-text way is taken, tested above); with
    # one, the n-grams come word by word, and are still langdetect's.
    table = dict(_compact().word_lang_prob_map)
    assert language._whole_text_fits(table)
    table[gram] = (0.5,) * len(stock.langlist)
    assert not language._whole_text_fits(table)
    factories = []
    for factory in (CompactFactory(), DetectorFactory()):
        factory.word_lang_prob_map = table
        factory.langlist = list(stock.langlist)
        factory.set_seed(SEED)
        factories.append(factory)
    text = "Nette Leute  essen et trinken. Voila, une table,  et alors?  " + SAMPLES[0]
    theirs, ours = Detector(factories[1]), factories[0].create()
    assert not ours._whole_text
    for detector in (theirs, ours):
        detector.append(text)
        detector.cleaning_text()
    expected = theirs._extract_ngrams()
    assert ours._extract_ngrams() == expected
    assert ours._ngram_rows() == [table[g] for g in expected]
    ours._whole_text = True  # the whole-text way would look the n-gram up
    assert gram in ours._extract_ngrams()


def test_a_verbose_detector_runs_langdetects_own_loop(
    stock: DetectorFactory, compact: CompactFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = []
    for factory in (stock, compact):
        detector = factory.create()
        detector.set_verbose()
        detector.append(SAMPLES[2])
        answers.append(detector.get_probabilities()[0].lang)
    assert answers == ["es", "es"]
    assert "==>" in capsys.readouterr().out


def test_language_benchmark_runs_and_finds_no_difference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "pages"
    (data / "html").mkdir(parents=True)
    truth = {}
    for i, fixture in enumerate(f for f in load_fixtures() if f.kind == "article"):
        truth[f"page{i:02d}"] = {"url": fixture.url}
        (data / "html" / f"page{i:02d}.html.gz").write_bytes(gzip.compress(fixture.body()))
    (data / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    saved = tmp_path / "texts.json.gz"
    assert language_benchmark.main([str(data), "--passes", "2", "--save-texts", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "answers differing from langdetect's: 0 (" in out, out
    assert "time ratio langdetect/newsclean" in out, out
    windows = json.loads(gzip.decompress(saved.read_bytes()))
    assert windows
    assert all(0 < len(w) <= 1000 for w in windows)


def _retained(load: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        kept = load()
        gc.collect()
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return size


def test_compact_profiles_hold_under_a_third_of_the_memory() -> None:
    stock, compact = _retained(_stock), _retained(_compact)
    assert compact < stock / 3, (compact, stock)  # measured: 18 MB against 58 MB


@pytest.mark.parametrize(
    ("text", "html_lang", "expected"),
    [
        ("Kurz.", "de-AT", ("de", 1.0)),
        ("", "", ("", 0.0)),
        ("Short.", "", ("", 0.0)),
        ("1234567890 " * 20, "en", ("en", 1.0)),  # no letters: the detector has nothing, <html lang> answers
    ],
)
def test_short_or_letterless_text_falls_back_to_the_page_language(
    text: str, html_lang: str, expected: tuple[str, float]
) -> None:
    assert detect_language(text, html_lang) == expected
