"""Polish wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"(?:odwołanie|plan działania).{0,60}(?:zaakceptowan|odrzucon|rozpatrzon)",
        r"(?:przywrócon|ponownie aktywowan)",
    ),
    "legal": (
        r"pozew",
        r"nakaz sądowy|postanowienie sądu",
        r"\bsąd",
    ),
    "suspension": (
        r"uprawnienia do sprzedaży.{0,40}(?:zostały )?(?:zawieszone|cofnięte|dezaktywowane"
        r"|usunięte)",
        r"(?:zawiesiliśmy|dezaktywowaliśmy|cofnęliśmy).{0,30}(?:uprawnienia|konto)",
        r"konto.{0,30}zostało (?:tymczasowo )?(?:zawieszone|dezaktywowane|zablokowane"
        r"|zamknięte|zamrożone)",
    ),
    "ip_complaint": (
        r"własności intelektualnej",
        r"znaku towarowego|znak towarowy",
        r"prawa autorskie|praw autorskich",
        r"podróbk|podrobion",
        r"właściciel praw",
        r"naruszeni[ea] praw",
    ),
    "verification_request": (
        r"weryfikacj",
        r"(?:prześlij|dostarcz|przedłóż).{0,40}(?:dokumenty|certyfikat|deklaracj|faktur)",
    ),
    "listing_removed": (
        r"(?:oferta|ofertę|ogłoszenie|produkt).{0,40}(?:została|zostało|został) (?:usunięt"
        r"|dezaktywowan|zablokowan)",
        r"(?:usunęliśmy|dezaktywowaliśmy|zablokowaliśmy).{0,30}(?:ofert|ogłoszeni|produkt)",
    ),
    "claim_dispute": (
        r"gwarancj[ai] od A do Z",
        r"obciążenie zwrotne",
        r"spór",
        r"wniosek o zwrot",
    ),
    "policy_warning": (
        r"ostrzeżenie",
        r"naruszeni[ea] (?:zasad|polityki)",
        r"kondycja konta",
        r"niezgodn",
    ),
    "payment": (
        r"wypłat",
        r"płatnoś(?:ć|ci) (?:wstrzyman|opóźnion)",
        r"rezerw",
    ),
    "buyer_message": (r"wiadomość od (?:kupującego|klienta)",),
    "policy_update": (
        r"zmian[ay] (?:w|zasad|opłat)",
        r"wchodzi w życie|wejdzie w życie",
        r"nowe (?:wymagania|zasady|opłaty)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (r"\b(?:może|mogą|mogłoby|ryzyko)\b",),
    "condition": (r"\b(?:jeśli|jeżeli|w przeciwnym razie|uniknąć)\b",),
    "newsletter": (r"\bnewsletter\b|\bwypisz się\b|\bw tym wydaniu\b",),
    "report": (r"\b(?:miesięczn|tygodniow)\w*\b.{0,30}\b(?:raport|podsumowanie)",),
    "all_clear": (r"\bnie (?:jest wymagane|są wymagane) żadne działania\b",),
    "rights_owner": (r"\bwłaściciel (?:praw|znaku)|\bVeRO\b",),
    "hold": (r"\b(?:wstrzyman\w*|zatrzyman\w*|rezerw\w*|zamrożon\w*)\b",),
}
