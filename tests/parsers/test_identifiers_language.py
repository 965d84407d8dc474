"""identifiers, language and classify: the extractors on short texts."""

from __future__ import annotations

import pytest

from maild.parsers import classify, identifiers, language


def test_identifiers_in_order_deduplicated_without_false_positives() -> None:
    """GIVEN an Amazon notice with ASINs, an order, a case, a SKU list, a complaint, a phone
    number, a date, a postcode and a tracking number
    WHEN identifiers are extracted
    THEN only the labelled or unmistakable ones come out, deduplicated, in order."""
    text = (
        "ASIN: B0ABCDEF12 (also B0ZZZZZZ99, B0ABCDEF12)\nOrder ID: 123-1234567-1234567\n"
        "Case ID: 12345678901\nSKU: RED-MUG-01, BLUE-MUG-02\nComplaint ID: 5519028374\n"
        "Phone: +1 206-266-1000  Date: 2026-03-18  Postcode 10115  Tracking 1Z999AA10123456784"
    )
    got = identifiers.extract(text, "amazon")
    assert got == {
        "asin": ["B0ABCDEF12", "B0ZZZZZZ99"],
        "order_id": ["123-1234567-1234567"],
        "case_id": ["12345678901"],
        "item_id": [],
        "sku": ["RED-MUG-01", "BLUE-MUG-02"],
        "complaint_id": ["5519028374"],
    }


@pytest.mark.parametrize(
    ("platform", "text", "key", "values"),
    [
        (
            "ebay",
            "Item number: 405987654321\nOrder number: 14-11223-34455",
            "item_id",
            ["405987654321"],
        ),
        ("ebay", "Order number: 14-11223-34455", "order_id", ["14-11223-34455"]),
        ("walmart", "PO# 108829384756123 (order date 02/19/2026)", "order_id", ["108829384756123"]),
        (
            "temu",
            "订单号：PO-211-11223344556677889 下单时间",
            "order_id",
            ["PO-211-11223344556677889"],
        ),
        (
            "shein",
            "涉及商品SKU：sw2511204455、sw2511204456",
            "sku",
            ["sw2511204455", "sw2511204456"],
        ),
        (
            "aliexpress",
            "您针对投诉编号IPC2026031000184提交的反通知",
            "complaint_id",
            ["IPC2026031000184"],
        ),
        ("amazon", "Fall-ID: 11022938475", "case_id", ["11022938475"]),
        ("ebay", "Tracking number: RB123456785CN", "order_id", []),
    ],
)
def test_platform_identifiers(platform: str, text: str, key: str, values: list[str]) -> None:
    """GIVEN one platform's identifier wording
    WHEN extracted for that platform
    THEN the expected values (and no tracking numbers) come out."""
    assert identifiers.extract(text, platform)[key] == values


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Your listing has been removed because it violates our policy.", "en"),
        ("Wir haben Ihr Angebot entfernt, da die Angaben fehlen.", "de"),
        ("Nous avons supprimé votre offre car elle ne respecte pas nos règles.", "fr"),
        ("Hemos eliminado tu oferta porque no cumple con la política.", "es"),
        ("Abbiamo rimosso la tua offerta perché non è conforme alle norme.", "it"),
        ("We hebben je aanbieding verwijderd omdat deze niet voldoet aan het beleid.", "nl"),
        ("Usunęliśmy ofertę, ponieważ nie jest zgodna z zasadami i to jest problem.", "pl"),
        ("Vi har tagit bort erbjudandet och det är inte tillåtet för dig.", "sv"),
        ("出品用アカウントが停止されました。詳細を確認してください。", "ja"),
        ("您的店铺已被冻结，请及时处理。Your store is frozen.", "zh"),
    ],
)
def test_language(text: str, lang: str) -> None:
    """GIVEN a notice sentence in one language
    WHEN the language is detected
    THEN it is that language."""
    assert language.detect(text) == lang


@pytest.mark.parametrize(
    ("subject", "body", "lang", "category"),
    [
        (
            "Your Amazon selling account",
            "Your selling privileges have been deactivated.",
            "en",
            "suspension",
        ),
        ("Konto", "wir haben Ihr eBay-Konto dauerhaft gesperrt.", "de", "suspension"),
        (
            "Notice",
            "A rights owner reported a trademark infringement. We removed the listing.",
            "en",
            "ip_complaint",
        ),
        (
            "Appeal decision",
            "We reviewed your appeal. Your selling privileges have been deactivated.",
            "en",
            "appeal_decision",
        ),
        ("商品下架通知", "以下商品已被下架", "zh", "listing_removed"),
        (
            "Upcoming changes to selling fees",
            "These changes take effect on April 15, 2026.",
            "en",
            "policy_update",
        ),
        ("Hi", "Thanks for your order, it has shipped.", "en", "other"),
    ],
)
def test_classify(subject: str, body: str, lang: str, category: str) -> None:
    """GIVEN a subject and body
    WHEN classified
    THEN the category is the one the tables and precedence give."""
    assert classify.classify(subject, body, lang) == category


def test_non_platform_mail_is_other_unless_legal() -> None:
    """GIVEN a non-platform newsletter mentioning trademarks, and a law firm's TRO notice
    WHEN classified as mail from no platform
    THEN the newsletter is other and the TRO is legal."""
    assert classify.classify("News", "trademark infringement tips", "en", platform=False) == "other"
    tro = classify.classify(
        "Temporary Restraining Order - Schedule A",
        "The court order freezes your funds.",
        "en",
        platform=False,
    )
    assert tro == "legal"


def test_buyer_relay_is_a_buyer_message() -> None:
    """GIVEN mail from a buyer-relay domain that mentions a return
    WHEN classified
    THEN it is a buyer message."""
    assert (
        classify.classify("Question", "Can I return it?", "en", buyer_relay=True) == "buyer_message"
    )
