"""Language detection on compact profiles: langdetect's answers, bit for bit, in under a third of the memory."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import pytest
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

from newsclean.extraction.language import SEED, CompactFactory, detect_language
from newsclean.fixtures import load_fixtures

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


def _texts() -> list[str]:
    found = list(SAMPLES)
    for fixture in load_fixtures():
        text = (fixture.expected or {}).get("text") or ""
        found += [text[i : i + 1000] for i in range(0, min(len(text), 3000), 500)]
    return [t for t in found if t.strip()]


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
        return [(language.lang, language.prob) for language in detector.get_probabilities()]
    except Exception as exc:  # the same failure counts as the same answer
        return repr(exc)


def test_compact_profiles_give_langdetects_answers_bit_for_bit() -> None:
    stock, compact = _stock(), _compact()
    assert compact.langlist == stock.langlist
    assert set(compact.word_lang_prob_map) == set(stock.word_lang_prob_map)
    texts = _texts()
    assert len(texts) > 40
    for text in texts:
        assert _answers(compact, text) == _answers(stock, text), text[:80]
    languages = {_answers(compact, t)[0][0] for t in SAMPLES}  # type: ignore[index]
    assert {"de", "fr", "es", "ru", "ar", "ja", "ko", "hi", "el", "tr"} <= languages


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
