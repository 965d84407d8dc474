"""Matching a notice to its client: every address it arrived through, then the text (issue 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maild.config_clients import Client, ServiceHours, Store
from maild.routing.matching import arrival_addresses, arrivals, match_client

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def store(name: str, *addresses: str, platform: str = "amazon",
          marketplaces: tuple[str, ...] = (), merchant_ids: tuple[str, ...] = ()) -> Store:
    return Store(platform=platform, name=name, addresses=addresses,
                 marketplaces=marketplaces, merchant_ids=merchant_ids)


def client(client_id: str, *stores: Store) -> Client:
    return Client(id=client_id, name=client_id.title(), languages=("zh", "en"),
                  timezone="Asia/Shanghai", calendar="CN", hours=ServiceHours(540, 1260),
                  decision_maker=f"boss@{client_id}.example",
                  summary_to=(f"ops@{client_id}.example",),
                  advisors=("anna@advisor.example",), stores=stores)


def mail(headers: str, body: str = "Your listing was removed.\n",
         sender: str = "Amazon.de <seller-notification@amazon.de>") -> bytes:
    return (f"From: {sender}\r\nSubject: Listing removed\r\nMessage-ID: <n1@amazon.de>\r\n"
            f"Date: Thu, 12 Mar 2026 09:40:00 +0000\r\n{headers}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


ACME = client("acme", store("AcmeLight EU", "acme@inbox.advisor.example",
                            marketplaces=("amazon.de", "amazon.co.uk"),
                            merchant_ids=("A1ACME2EU3",)))
BETA = client("beta", store("Beta Home", "beta@inbox.advisor.example"))


@pytest.mark.parametrize("header", ["Delivered-To", "X-Original-To", "X-Forwarded-To",
                                    "X-Forwarded-For", "Resent-To", "Envelope-To", "To", "Cc"])
def test_each_arrival_header_matches_the_client(header: str) -> None:
    """GIVEN a platform notice whose client alias appears in one header only (another
    recipient beside it) WHEN it is matched THEN that client and store are chosen, and the
    reason names the address and the header."""
    raw = mail(f"{header}: someone@elsewhere.example, <Acme@Inbox.Advisor.Example>\r\n")
    assert "acme@inbox.advisor.example" in arrival_addresses(raw)
    match = match_client(raw, "amazon", "amazon.de", "", [BETA, ACME])
    assert match.client is ACME and match.store is ACME.stores[0]
    assert match.candidates == (ACME,)
    assert "acme@inbox.advisor.example" in match.reason and f"({header})" in match.reason


def test_addresses_are_bare_lower_case_in_header_order_without_repeats() -> None:
    """GIVEN envelope headers of several hops, display names, mixed case, a repeat, a
    space-separated X-Forwarded-For and a ';'-separated To
    WHEN the arrival addresses are read
    THEN each address appears once, bare and lower-cased, in the documented header order."""
    raw = mail("To: \"Seller, Main\" <Seller@Shop.example>; ops@shop.example\r\n"
               "Delivered-To: inbox@maild.example\r\n"
               "X-Forwarded-For: seller@shop.example fwd@shop.example\r\n"
               "Delivered-To: Acme@Inbox.Advisor.Example\r\n"
               "Cc: undisclosed-recipients:;\r\n")
    assert arrival_addresses(raw) == [
        "inbox@maild.example", "acme@inbox.advisor.example",
        "seller@shop.example", "fwd@shop.example", "ops@shop.example",
    ]
    kinds = {a.address: a.header for a in arrivals(raw)}
    assert kinds["seller@shop.example"] == "X-Forwarded-For"
    assert kinds["ops@shop.example"] == "To"


FORWARDS = [
    ("amazon/uk_ip_copyright_outlook.eml", "amy.lin@example-shop.cn"),
    ("amazon/uk_buyer_message_qq.eml", "wang@example-shop.cn"),
    ("amazon/zh_legal_tro_163_gbk.eml", "finance@example-shop.cn"),
    ("aliexpress/en_fund_release_delayed_thunderbird_forward.eml", "chenjing@example-shop.cn"),
    ("ebay/de_vero_removal_gmail_forward.eml", "zhangwei@example-shop.cn"),
    ("ebay/de_appeal_more_info_outlook_de_forward.eml", "t.weber@example-shop.cn"),
    ("amazon/uk_suspension_odr_rfc822.eml", "liwei@example-shop.cn"),
    ("ebay/com_vero_removal_attached.eml", "zhangwei@example-shop.cn"),
]


@pytest.mark.parametrize(("name", "forwarder"), FORWARDS,
                         ids=["outlook", "qq", "163", "thunderbird", "gmail-de", "outlook-de",
                              "rfc822", "attached"])
def test_forwarded_message_to_and_forwarders_from(name: str, forwarder: str) -> None:
    """GIVEN a seller's forward from the corpus (inline in one client's style, or attached),
    sent to the shared monitored inbox
    WHEN it is matched
    THEN the original's To (the seller's mailbox) and the forwarder's From are arrival
    addresses, and a store listing either one matches through it."""
    raw = (CORPUS / name).read_bytes()
    kinds = {a.address: a.header for a in arrivals(raw)}
    assert kinds["seller@example-shop.cn"] == "forwarded To"
    assert kinds[forwarder] == "forwarder's From"
    assert "inbox@maild.example" in kinds
    for address, kind in (("seller@example-shop.cn", "forwarded To"),
                          (forwarder, "forwarder's From")):
        shop = client("shop", store("Shop", address, platform="other"))
        match = match_client(raw, "other", None, "", [BETA, shop])
        assert match.client is shop, match.reason
        assert f"{address} ({kind})" in match.reason


def test_inline_forward_recipients_by_label_without_reply_to() -> None:
    """GIVEN an Outlook inline forward whose quoted block has To with two recipients split by
    ';' and [mailto:], a Cc and a Reply-To
    WHEN the arrival addresses are read
    THEN To and Cc recipients are there as forwarded To/Cc, the Reply-To is not."""
    block = ("-----Original Message-----\nFrom: Amazon <seller-notification@amazon.de>\n"
             "Sent: Wednesday, March 11, 2026 9:40 PM\n"
             "To: 'Main' <main@shop.example>; eu@shop.example [mailto:eu@shop.example]\n"
             "Cc: Legal <legal@shop.example>\nReply-To: noreply@amazon.de\n"
             "Subject: Listing removed\n\nHello,\nYour listing was removed.\n")
    raw = mail("To: inbox@maild.example\r\n", f"Please handle.\n\n{block}",
               sender="Boss <boss@shop.example>")
    kinds = {a.address: a.header for a in arrivals(raw)}
    assert kinds == {"inbox@maild.example": "To", "main@shop.example": "forwarded To",
                     "eu@shop.example": "forwarded To", "legal@shop.example": "forwarded Cc",
                     "boss@shop.example": "forwarder's From"}


def test_platform_mail_quoting_earlier_mail_is_not_a_forward() -> None:
    """GIVEN genuine platform mail (not a forward) that quotes the seller's earlier message
    WHEN the arrival addresses are read
    THEN neither the quoted block's To nor the platform's From counts."""
    quoted = ("Thank you for your reply.\n\n-----Original Message-----\n"
              "From: Seller <seller@shop.example>\nSent: Monday, March 9, 2026 10:00 AM\n"
              "To: other-client@inbox.advisor.example\nSubject: Appeal\n\nPlease reinstate.\n")
    raw = mail("To: seller@shop.example\r\n", quoted)
    assert arrival_addresses(raw) == ["seller@shop.example"]


def test_redirect_counts_resent_from_as_the_forwarder() -> None:
    """GIVEN a server-side redirect from the corpus (Resent-*, X-Forwarded-*)
    WHEN the arrival addresses are read
    THEN the original To, the X-Forwarded-For pair and the redirecting Resent-From are there,
    not the platform's From."""
    raw = (CORPUS / "amazon/de_ip_marke_redirect.eml").read_bytes()
    assert arrival_addresses(raw) == ["inbox@maild.example", "seller@example-shop.cn",
                                      "ops@example-shop.cn"]
    assert arrivals(raw)[-1].header == "Resent-From"


def test_plus_addresses_match_exactly() -> None:
    """GIVEN one client on a plus-address of the monitored inbox and another on the inbox
    itself WHEN mail arrives through the plus-address THEN only the plus-address's client
    matches (addresses are compared whole: no plus-address folding)."""
    plus = client("plus", store("Plus Shop", "inbox+plus@advisor.example"))
    bare = client("bare", store("Bare Shop", "inbox@advisor.example"))
    raw = mail("Delivered-To: Inbox+Plus@advisor.example\r\nTo: seller@shop.example\r\n")
    assert match_client(raw, "amazon", None, "", [bare, plus]).client is plus
    other = mail("Delivered-To: inbox+other@advisor.example\r\n")
    assert match_client(other, "amazon", None, "", [bare, plus]).client is None


SHARED = "seller-desk@inbox.advisor.example"


def test_marketplace_restriction_tells_clients_apart() -> None:
    """GIVEN two clients whose Amazon stores share an arrival address, one selling on
    amazon.de and one on amazon.com
    WHEN an amazon.de notice, an amazon.com notice and one of unknown marketplace arrive
    THEN the de notice goes to the de store's client, the com one to the other, and the
    unknown marketplace rules out neither (ambiguous)."""
    de = client("de", store("DE Shop", SHARED, marketplaces=("amazon.de",)))
    us = client("us", store("US Shop", SHARED, marketplaces=("amazon.com",)))
    raw = mail(f"Delivered-To: {SHARED}\r\n")
    assert match_client(raw, "amazon", "amazon.de", "", [us, de]).client is de
    assert match_client(raw, "amazon", "amazon.com", "", [us, de]).client is us
    unknown = match_client(raw, "amazon", None, "", [us, de])
    assert unknown.client is None and unknown.candidates == (us, de)


def test_platform_restriction_tells_clients_apart() -> None:
    """GIVEN two clients sharing an address, one with an Amazon store, one with a Walmart store
    WHEN a Walmart notice arrives through it THEN the Walmart store's client is chosen."""
    amazon = client("amz", store("Amz", SHARED))
    walmart = client("wmt", store("Wmt", SHARED, platform="walmart"))
    match = match_client(mail(f"To: {SHARED}\r\n"), "walmart", None, "", [amazon, walmart])
    assert (match.client, match.store) == (walmart, walmart.stores[0])


def test_address_of_another_platforms_store_names_the_client_only() -> None:
    """GIVEN a client whose only store is on Amazon
    WHEN an eBay notice arrives through that store's address
    THEN the client is matched without a store, and the reason says so."""
    match = match_client(mail("Delivered-To: acme@inbox.advisor.example\r\n"), "ebay",
                         "ebay.de", "", [ACME, BETA])
    assert match.client is ACME and match.store is None and match.candidates == (ACME,)
    assert match.reason == ("client acme matched by address (delivered to "
                            "acme@inbox.advisor.example (Delivered-To): store 'AcmeLight EU'),"
                            " no store for marketplace ebay.de")


def test_address_of_another_store_then_the_text_picks_the_store() -> None:
    """GIVEN a client with an Amazon store and two eBay stores on other addresses
    WHEN an eBay notice arrives through the Amazon alias and names one eBay store
    THEN that eBay store is chosen; naming neither leaves the client without a store."""
    many = client("many", store("Many Amazon", "many@inbox.advisor.example"),
                  store("Gadget Corner", "g@shop.example", platform="ebay"),
                  store("Home Corner", "h@shop.example", platform="ebay"))
    raw = mail("Delivered-To: many@inbox.advisor.example\r\n")
    named = match_client(raw, "ebay", None, "Dear Home Corner, item 1234 ...", [many])
    assert named.store is many.stores[2] and "store name 'Home Corner'" in named.reason
    unnamed = match_client(raw, "ebay", None, "Dear seller", [many])
    assert unnamed.client is many and unnamed.store is None


def test_non_platform_mail_matches_any_store_of_the_client() -> None:
    """GIVEN a client whose store is an Amazon store
    WHEN non-platform mail (platform "other", e.g. phishing) arrives through its address
    THEN the client and that store are matched."""
    match = match_client(mail("X-Original-To: acme@inbox.advisor.example\r\n"), "other", None,
                         "", [BETA, ACME])
    assert (match.client, match.store) == (ACME, ACME.stores[0])


@pytest.mark.parametrize("text", [
    "Your store AcmeLight EU has been deactivated.",
    "your store acmelight\n eu has been deactivated",
    "您的店铺AcmeLight EU已被暂停。",
])
def test_store_name_in_the_text(text: str) -> None:
    """GIVEN a notice that arrived through no known address
    WHEN its text names a store (any case, wrapped, or amid Chinese)
    THEN that store's client is matched, the reason naming the store."""
    match = match_client(mail("To: inbox@maild.example\r\n"), "amazon", "amazon.de", text,
                         [BETA, ACME])
    assert match.client is ACME and match.store is ACME.stores[0]
    assert match.reason == "store name 'AcmeLight EU' in the text"


def test_chinese_store_name_and_empty_terms() -> None:
    """GIVEN a store with a Chinese name and one built in code with an empty merchant id
    WHEN a Chinese text names the first (no spaces around it) and names nothing of the second
    THEN the first matches and the empty id matches nothing."""
    zh = client("zh", store("极光照明旗舰店", "zh@inbox.advisor.example"))
    blank = client("blank", store("Blank", "b@inbox.advisor.example", merchant_ids=("",)))
    match = match_client(mail("To: inbox@maild.example\r\n"), "amazon", None,
                         "您的店铺极光照明旗舰店已被暂停。", [blank, zh])
    assert match.client is zh and match.reason == "store name '极光照明旗舰店' in the text"


def test_store_named_only_in_an_attached_original_or_the_subject() -> None:
    """GIVEN a corpus forward whose original is attached (the eBay user id only in the
    attachment's body, which the outer body text lacks), and a notice whose subject alone
    names a store
    WHEN matched with the outer body text
    THEN the store named in the attachment or the subject is found."""
    raw = (CORPUS / "ebay/com_vero_removal_attached.eml").read_bytes()
    ebay = client("bright", store("bright-deals-2018", "b@shop.example", platform="ebay"))
    match = match_client(raw, "ebay", "ebay.com", "Switch配件被任天堂投诉。", [ACME, ebay])
    assert match.client is ebay and match.reason == "store name 'bright-deals-2018' in the text"
    subject = mail("To: inbox@maild.example\r\n").replace(b"Subject: Listing removed",
                                                         b"Subject: AcmeLight EU: listing removed")
    assert match_client(subject, "amazon", "amazon.de", "", [ACME]).client is ACME


def test_merchant_id_in_the_text_as_a_whole_word() -> None:
    """GIVEN a notice with no known address WHEN its text carries a store's merchant id
    THEN that client matches; the id inside a longer word, or the store name inside a longer
    word, does not."""
    raw = mail("To: inbox@maild.example\r\n")
    match = match_client(raw, "amazon", "amazon.de", "Merchant token: A1ACME2EU3.", [ACME])
    assert match.client is ACME and match.reason == "merchant id 'A1ACME2EU3' in the text"
    for text in ("Token XA1ACME2EU3", "AcmeLight EUROPE"):
        assert match_client(raw, "amazon", "amazon.de", text, [ACME]).client is None


def test_text_respects_the_marketplace() -> None:
    """GIVEN a store limited to amazon.de and .co.uk WHEN an amazon.com notice names it
    THEN it does not match."""
    match = match_client(mail("To: inbox@maild.example\r\n"), "amazon", "amazon.com",
                         "AcmeLight EU", [ACME])
    assert match.client is None


def test_addresses_of_several_clients_are_ambiguous() -> None:
    """GIVEN a notice addressed to two clients' stores
    WHEN it is matched
    THEN no client is chosen, both are candidates, and the reason names them."""
    raw = mail("Delivered-To: beta@inbox.advisor.example\r\n"
               "To: acme@inbox.advisor.example\r\n")
    match = match_client(raw, "amazon", "amazon.de", "", [ACME, BETA])
    assert match.client is None and match.store is None
    assert match.candidates == (BETA, ACME)
    assert match.reason == ("ambiguous: beta, acme (beta: delivered to "
                            "beta@inbox.advisor.example (Delivered-To): store 'Beta Home'; "
                            "acme: addressed to acme@inbox.advisor.example (To): "
                            "store 'AcmeLight EU')")


def test_text_naming_several_clients_is_ambiguous() -> None:
    """GIVEN no known address and a text naming two clients' stores
    WHEN matched THEN ambiguous with both as candidates."""
    match = match_client(mail("To: inbox@maild.example\r\n"), "amazon", "amazon.de",
                         "AcmeLight EU and Beta Home", [ACME, BETA])
    assert match.client is None and match.candidates == (ACME, BETA)
    assert match.reason.startswith("ambiguous: acme, beta")


def test_address_decides_before_the_text() -> None:
    """GIVEN a notice delivered to one client's alias whose text names another's store
    WHEN matched THEN the address decides."""
    match = match_client(mail("Delivered-To: beta@inbox.advisor.example\r\n"), "amazon",
                         "amazon.de", "AcmeLight EU", [ACME, BETA])
    assert match.client is BETA


def test_no_client_matches() -> None:
    """GIVEN a notice through unknown addresses with no store named
    WHEN matched THEN no client, no candidates, reason "no client matches"."""
    match = match_client(mail("To: inbox@maild.example\r\n"), "amazon", "amazon.de",
                         "Dear seller", [ACME, BETA])
    assert match == type(match)(None, None, (), "no client matches")
