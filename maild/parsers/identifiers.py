"""Pull ASINs, order, case, item, SKU and complaint identifiers out of a notice.

Each identifier kind is a row of `RULES`: a pattern, and the platforms it applies to (None: all).
Bare shapes are used only where the shape itself is unmistakable (ASIN `B0…`, Amazon `3-7-7`,
eBay `NN-NNNNN-NNNNN`, Temu `PO-NNN-…`); everything else must follow its label ("Case ID:",
"Artikelnummer", "订单号"), which keeps phone numbers, dates, postcodes and tracking numbers out.
Labels are tables per kind (`CASE_LABELS`, `SKU_LABELS`, ...); the separator after a label
allows a bracketed gloss, a French space before the colon and a full-width colon.
Results are deduplicated and kept in order of appearance. Table cells (`tables`) are read as
"label: value" lines, so a value under an "Item ID" column header counts as labelled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from maild.parsers.notice import IDENTIFIER_KEYS
from maild.parsers.regexkit import required_literals

SCAN_CHARS = 100_000
# Between a label and its value: an optional gloss in brackets ("Numéro d'article (Item ID)"), a
# closing bracket when the label itself is the gloss ("(Item ID) :"), a colon (ASCII or
# full-width, with or without the French space before it), "#", "No.", or "is" in a sentence.
_GLOSS = r"[)）\]】]?(?:\s?[(（][^()（）\n]{1,24}[)）])?"
_SEP = (
    _GLOSS + r"\s{0,3}(?:[:：#]|No\.?|Nr\.?|n[°º]\.?|number)?(?:\s(?:is|ist|est|es|è|lautet))?"
    r"\s{0,3}[:：#]?\s{0,3}"
)
_COLON = _GLOSS + r"\s{0,3}[:：#]\s{0,3}"


def _labels(*labels: str) -> str:
    return "(?:" + "|".join(labels) + ")"


# Labels per identifier kind, in the languages notices are written in; a new wording is one entry.
CASE_LABELS = _labels(
    r"\bcase(?: ID| number| no\.?)?",
    r"Fall-?ID",
    r"Fallnummer",
    r"(?:ID|N[°º]\.?|Numéro|Número|Numero|n\.) ?(?:du |de |del |di )?(?:cas|caso|dossier)\b",
    r"案例编号",
    r"案例ID",
    r"案例号",
    r"ケースID",
    r"ケース番号",
    r"\bticket(?: ID| number)?",
    r"工单号",
    r"工单编号",
)
EBAY_CASE_LABELS = _labels(
    r"\bcase(?: ID| number)?",
    r"\breturn(?: ID| number)?",
    r"Fallnummer",
    r"Rücksendenummer",
    r"Fall-ID",
    r"dispute(?: ID)?",
    r"(?:ID|N[°º]\.?|Numéro|Número|Numero) ?(?:du |de |del |della |di )?(?:cas|caso|litige"
    r"|retour|devolución|reso|controversia)\b",
)
EBAY_ITEM_LABELS = _labels(
    r"\bitem(?: ID| number| no\.?)?",
    r"Artikelnummer",
    r"Artikel-?Nr",
    r"Artikel-ID",
    r"(?:numéro|N[°º]) (?:de l'|d')objet",
    r"número (?:de|del) artículo",
    r"numero (?:dell')?oggetto",
    r"物品编号",
    r"\b(?:your |the )?listing(?: ID| number)?",
    r"\banuncio",
    r"\binserzione",
    r"\bAngebot(?:snummer)?",
)
WALMART_ITEM_LABELS = _labels(
    r"\bitem(?: ID| number)?",
    r"商品ID",
    r"(?:numéro|N[°º]) d'article",
    r"(?:número|ID) (?:de|del) artículo",
)
SKU_LABELS = _labels(
    r"Seller SKU",
    r"Merchant SKU",
    r"Händler-SKU",
    r"Verkäufer-SKU",
    r"(?<![A-Za-z])(?:SKU|UGS)(?:[ -]?(?:code|No\.?|number|ID|编码|编号|号|コード|番号))?(?:"
    r" (?:del vendedor|de vendedor|vendeur|du vendeur|venditore|del venditore|des Verkäufers))?",
    r"商品编码",
    r"商家编码",
    r"卖家SKU",
    r"货号",
    r"出品者SKU",
)
COMPLAINT_LABELS = _labels(
    r"Complaint(?: ID| reference| number)?",
    r"Beschwerde-?ID",
    r"Beschwerdenummer",
    r"ID de (?:la )?(?:plainte|réclamation|reclamación|denuncia)",
    r"(?:Numéro|Référence) de (?:la )?(?:plainte|réclamation|notification)",
    r"ID (?:del )?(?:reclamo|segnalazione)",
    r"(?:Número|Referencia) de (?:la )?(?:reclamación|denuncia|notificación)",
    r"投诉编号",
    r"投诉ID",
    r"投诉单号",
    r"申し立てID",
    r"Rights owner (?:notice )?reference",
    r"(?:Notice|Report|VeRO) (?:ID|reference|ref\.?)",
    r"(?:Reference|Ref\.?)(?: number| no\.?| ID)?\sof\sthe\s(?:rights owner'?s? )?(?:notice"
    r"|complaint|report)",
    r"Report ID",
)


@dataclass(frozen=True)
class Rule:
    """One way an identifier of kind `key` is written; the value is group 1 of `pattern`."""

    key: str
    pattern: re.Pattern[str]
    platforms: frozenset[str] | None = None
    listable: bool = False
    gate: tuple[str, ...] | None = None


LISTABLE_KEYS = frozenset({"sku", "complaint_id", "case_id"})


def _rule(key: str, pattern: str, platforms: str | None = None, flags: int = re.I) -> Rule:
    return Rule(
        key,
        re.compile(pattern, flags),
        frozenset(platforms.split()) if platforms else None,
        key in LISTABLE_KEYS,
        required_literals(pattern),
    )


RULES: tuple[Rule, ...] = (
    _rule("asin", r"(?<![A-Za-z0-9])(B0[A-Z0-9]{8})(?![A-Za-z0-9])", flags=0),
    _rule("asin", r"(?<![A-Za-z])ASIN" + _SEP + r"(\d{9}[\dX])(?![A-Za-z0-9])"),
    _rule("order_id", r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])"),
    _rule("order_id", r"(?<![\d-])(\d{2}-\d{5}-\d{5})(?![\d-])", "ebay"),
    _rule(
        "order_id",
        r"(?:(?<![A-Za-z])PO|(?<![A-Za-z])Purchase Order|采购单号?)" + _SEP + r"(\d{13,15})(?!\d)",
        "walmart",
    ),
    _rule("order_id", r"(?<![\w-])(PO-\d{3}-\d{6,20})(?![A-Za-z0-9_-])", "temu"),
    _rule(
        "order_id",
        r"(?:\border (?:id|no\.?|number|#)|订单号|订单编号|訂單號|订单ID|注文番号|Bestellnummer"
        r"|numéro de commande|número de pedido|numero (?:di |dell')ordine)"
        r"\s{0,3}[:：#]?\s{0,3}([A-Z0-9][A-Z0-9-]{5,30})(?![A-Za-z0-9_-])",
        "temu shein aliexpress",
    ),
    _rule("case_id", CASE_LABELS + _SEP + r"(\d{8,11})(?!\d)", "amazon walmart"),
    _rule("case_id", EBAY_CASE_LABELS + _SEP + r"(\d{8,12})(?!\d)", "ebay"),
    _rule("item_id", EBAY_ITEM_LABELS + _SEP + r"(\d{12})(?!\d)", "ebay"),
    _rule("item_id", WALMART_ITEM_LABELS + _SEP + r"(\d{6,14})(?!\d)", "walmart"),
    _rule(
        "sku",
        SKU_LABELS + _COLON + r"([A-Za-z0-9][A-Za-z0-9._/-]{0,39})(?![A-Za-z0-9_-])",
    ),
    _rule(
        "sku",
        r"(?:Seller SKU|(?<![A-Za-z])SKU(?: code| No\.?)?)\s([A-Za-z0-9]*(?:\d"
        r"|-)[A-Za-z0-9._/-]{0,39})(?![A-Za-z0-9_-])",
    ),
    _rule(
        "complaint_id",
        COMPLAINT_LABELS + _SEP + r"([A-Za-z0-9][A-Za-z0-9-]{4,30})(?![A-Za-z0-9_-])",
    ),
)
_HAS_DIGIT = re.compile(r"\d")
# "SKU: A-1, A-2" / "SKU：sw1、sw2": more values after a labelled one.
_MORE = re.compile(
    r"\s{0,2}(?:[,、，;；/]|\band\b|和|及)\s{0,2}([A-Za-z0-9][A-Za-z0-9._-]{1,39})(?![A-Za-z0-9_-])"
)
_SKU_SHAPE = re.compile(r"[\d_-]")


def extract(
    text: str, platform: str, cells: Sequence[tuple[str, str]] = ()
) -> dict[str, list[str]]:
    """All six identifier lists for `text` (subject + body) of a notice from `platform`.

    `cells` are the (label, value) pairs of the notice's HTML tables (`tables`): each is read as
    "label: value" after the text, and a value the tables file under one kind is dropped from
    any other kind the flattened text put it in.
    """
    if not cells:
        return _extract(text[:SCAN_CHARS], platform)
    table_text = "\n".join(f"{label}: {value}" for label, value in cells)
    found = _extract(f"{text[:SCAN_CHARS]}\n{table_text}", platform)
    kind_of = {
        value: key for key, values in _extract(table_text, platform).items() for value in values
    }
    return {
        key: [value for value in values if kind_of.get(value, key) == key]
        for key, values in found.items()
    }


def _extract(text: str, platform: str) -> dict[str, list[str]]:
    found: dict[str, list[tuple[int, str]]] = {key: [] for key in IDENTIFIER_KEYS}
    lowered = text.lower()
    for rule in RULES:
        if rule.platforms is not None and platform not in rule.platforms:
            continue
        if rule.gate is not None and not any(literal in lowered for literal in rule.gate):
            continue
        for match in rule.pattern.finditer(text):
            value = match.group(1)
            shape = _SKU_SHAPE if rule.key == "sku" else _HAS_DIGIT
            if rule.key in ("sku", "complaint_id", "order_id") and not shape.search(value):
                continue
            found[rule.key].append((match.start(1), value))
            end = match.end()
            while (
                rule.listable and (more := _MORE.match(text, end)) and shape.search(more.group(1))
            ):
                found[rule.key].append((more.start(1), more.group(1)))
                end = more.end()
    result: dict[str, list[str]] = {}
    for key, hits in found.items():
        seen: dict[str, None] = {}
        for _position, value in sorted(hits):
            seen.setdefault(value, None)
        result[key] = list(seen)
    return result
