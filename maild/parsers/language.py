"""Detect the main language of a notice body: script counts for ja/zh/ar/ko/he/th, stop words
for the Latin-script rest.

Cheap and good enough for platform mail, which is written in one language or bilingual
(Chinese first). Kana means Japanese; Han characters that outnumber Latin words mean Chinese.
"""

from __future__ import annotations

import re

SAMPLE_CHARS = 6000
# Frequent short words per language; a word list is one string so a language is one line.
_STOP_TEXT: dict[str, str] = {
    "en": "the and you your to of is are for this that with we have please will be on our has not "
    "if it by",
    "de": "der die das und sie ihr ihre ist nicht mit wir zu den von für bitte auf dem des "
    "eine ein wurde wurden haben können ihren ihrem oder auch",
    "fr": "le la les et vous votre vos est des nous pour une pas avec dans sur du au ce cette été "
    "être sont ou de un ne qui avons",
    "es": "el la los las y su sus usted es para con una por que del en nos hemos ha este "
    "esta ser tu de un no se lo al como más tus pero están puede",
    "it": "il la le e di che per con una del della sono è ci non tuo tua vostro abbiamo questo gli "
    "nel alla dei",
    "nl": "de het een en je uw is niet met voor op van wij zijn we dat deze",
    "pl": "i w z na nie się jest do że to od przez dla oraz lub jak ten ta twoja twoje",
    "sv": "och att det är som på för med har inte vi du din ditt av till om",
}
STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in _STOP_TEXT.items()
}
# Alphabets that belong to one language of the platforms' markets: a body written mostly in one
# of them is in that language (Amazon.ae/.sa buyers write Arabic).
SCRIPTS: dict[str, str] = {
    "ar": "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff",
    "ko": "\uac00-\ud7af\u1100-\u11ff",
    "he": "\u0590-\u05ff",
    "th": "\u0e00-\u0e7f",
}
_SCRIPT_WORDS = {lang: re.compile(f"[{chars}]+") for lang, chars in SCRIPTS.items()}
_ANY_SCRIPT = re.compile("[" + "".join(SCRIPTS.values()) + "]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_WORD = re.compile(r"[a-zà-ÿąćęłńóśźż]+(?:'[a-z]+)?")


def detect(text: str, default: str = "en") -> str:
    """`ja` `zh`, a `SCRIPTS` language (`ar` ...), or by stop words `en` `de` `fr` `es` `it` `nl`
    `pl` `sv`; `default` when nothing tells."""
    sample = text[:SAMPLE_CHARS]
    kana = len(_KANA.findall(sample))
    han = len(_HAN.findall(sample))
    words = _WORD.findall(sample.lower())
    if kana >= 5 and kana + han >= len(words) * 0.5:
        return "ja"
    if han >= 8 and han >= len(words):
        return "zh"
    if _ANY_SCRIPT.search(sample):
        for lang, pattern in _SCRIPT_WORDS.items():
            script_words = len(pattern.findall(sample))
            if script_words >= 3 and script_words >= len(words):
                return lang
    counts = {lang: 0 for lang in STOP_WORDS}
    for word in words[:1500]:
        for lang, stops in STOP_WORDS.items():
            if word in stops:
                counts[lang] += 1
    best = max(counts, key=lambda lang: counts[lang])
    if counts[best] == 0:
        return "ja" if kana else ("zh" if han else default)
    return best
