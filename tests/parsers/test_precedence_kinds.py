"""DESIGN §4.2's precedence, kind by kind and language by language (issue 12).

Every sentence here is new (not from any corpus notice): each row is another way a platform
words the same kind — a suspension stated in the body beside claims that are only mentioned,
documents asked for under a threat, newsletters with alarming words, routine reports with
nothing wrong, holds and reserves, rights-owner removals, removals in each platform's own word.
"""

from __future__ import annotations

import pytest

from maild.parsers import classify


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        (
            "We have deactivated your selling account. Amounts refunded for A-to-z Guarantee"
            " claims or chargebacks may be deducted from your balance. Disputes can still be"
            " opened by buyers.",
            "en",
        ),
        (
            "Your seller account and all of your offers have been suspended. If buyers file"
            " chargebacks or claims, we may charge them to your account.",
            "en",
        ),
        (
            "Wir haben Ihr Verkäuferkonto deaktiviert. Rückbelastungen und A-bis-z-Garantieanträge"
            " können weiterhin von Ihrem Guthaben abgezogen werden.",
            "de",
        ),
        (
            "Nous avons suspendu votre compte vendeur. Les réclamations au titre de la garantie A"
            " à Z pourront être déduites de votre solde.",
            "fr",
        ),
        (
            "Hemos desactivado su cuenta de vendedor. Las reclamaciones y contracargos pueden"
            " deducirse de su saldo.",
            "es",
        ),
        (
            "Abbiamo sospeso il tuo account venditore. I reclami e i chargeback potranno essere"
            " addebitati sul tuo saldo.",
            "it",
        ),
        (
            "出品用アカウントを停止しました。チャージバックや保証申請の金額は差し引かれる場合があります。",
            "ja",
        ),
        ("平台已关闭您的店铺。买家如有纠纷或退款申请，相关金额可能从货款中扣除。", "zh"),
    ],
)
def test_stated_suspension_outweighs_mentioned_claims(body: str, lang: str) -> None:
    """GIVEN a body that states a suspension and only mentions claims, chargebacks and disputes
    WHEN classified with a generic subject
    THEN it is a suspension."""
    assert classify.classify("Notification", body, lang) == "suspension"


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        (
            "To keep selling, upload your business licence and a utility bill within 14 days."
            " If we don't receive them, your account may be deactivated.",
            "en",
        ),
        (
            "Bitte laden Sie innerhalb von 10 Tagen einen Identitätsnachweis hoch. Andernfalls"
            " kann Ihr Konto gesperrt werden.",
            "de",
        ),
        (
            "Veuillez fournir une pièce d'identité sous 10 jours. Sinon, votre compte pourra être"
            " suspendu.",
            "fr",
        ),
        ("请在7日内提交营业执照，逾期未提交的，店铺可能会被冻结。", "zh"),
        ("请在3个工作日内上传营业执照，否则您的店铺将被限制销售。", "zh"),
        (
            "Please send your supplier invoices within 5 days. Otherwise we will deactivate"
            " your selling account.",
            "en",
        ),
        (
            "7日以内に請求書をアップロードしてください。提出がない場合、アカウントを停止します。",
            "ja",
        ),
    ],
)
def test_documents_under_threat_are_a_verification_request(body: str, lang: str) -> None:
    """GIVEN documents asked for under the threat of a future deactivation
    WHEN classified
    THEN it is a verification_request, not a suspension."""
    assert classify.classify("Action required", body, lang) == "verification_request"


@pytest.mark.parametrize(
    ("subject", "body", "lang"),
    [
        (
            "Seller digest: week 12",
            "In this issue: a court ordered funds frozen in a counterfeit lawsuit; why accounts"
            " get suspended; new deal types. Unsubscribe in your settings.",
            "en",
        ),
        (
            "Newsletter März",
            "In dieser Ausgabe: Klage gegen Fälscher, Kontosperrung vermeiden, neue Gebühren.",
            "de",
        ),
        (
            "Lettre d'information vendeurs",
            "Dans ce numéro : un procès contre des contrefacteurs, comment éviter la suspension"
            " de votre compte.",
            "fr",
        ),
        (
            "卖家资讯 第8期",
            "本期要闻：法院冻结侵权卖家资金；店铺被封的五大原因；新品推广技巧。",
            "zh",
        ),
    ],
)
def test_newsletters_with_alarming_words_are_other(subject: str, body: str, lang: str) -> None:
    """GIVEN a newsletter whose articles mention lawsuits, frozen funds and suspensions
    WHEN classified
    THEN it is `other` (no false P0)."""
    assert classify.classify(subject, body, lang) == "other"


@pytest.mark.parametrize(
    ("subject", "body", "lang", "category"),
    [
        (
            "Weekly performance summary",
            "Late shipment rate 0.5%, cancellation rate 0.1%. No action is required.",
            "en",
            "other",
        ),
        (
            "Monthly account health report",
            "Order defect rate 2.4% is above the 1% target. Your account is at risk.",
            "en",
            "policy_warning",
        ),
        ("店铺月度报告", "迟发率0.3%，取消率0.2%，均达到平台标准，无需任何操作。", "zh", "other"),
        ("月次レポート", "注文不良率は0.2%です。対応は必要ありません。", "ja", "other"),
    ],
)
def test_routine_reports_are_other_unless_they_warn(
    subject: str, body: str, lang: str, category: str
) -> None:
    """GIVEN a periodic report that says nothing is wrong, and one that warns
    WHEN classified
    THEN the first is `other`, the second keeps its warning."""
    assert classify.classify(subject, body, lang) == category


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        (
            "Buyers opened several disputes last month, so 15% of your proceeds is held as a"
            " reserve for 90 days.",
            "en",
        ),
        (
            "Your settlement is on hold while we review the documents you uploaded for your"
            " account verification.",
            "en",
        ),
        ("因退款纠纷较多，本期货款暂缓结算。", "zh"),
    ],
)
def test_holds_and_reserves_are_payment(body: str, lang: str) -> None:
    """GIVEN money held back, with disputes or documents as the reason
    WHEN classified
    THEN it is `payment`."""
    assert classify.classify("Funds update", body, lang) == "payment"


@pytest.mark.parametrize(
    ("subject", "body", "lang"),
    [
        (
            "Listing ended",
            "We ended your listing because the rights owner reported it through VeRO.",
            "en",
        ),
        (
            "Angebot entfernt",
            "Wir haben Ihr Angebot entfernt, nachdem der Rechteinhaber eine Markenverletzung"
            " gemeldet hat.",
            "de",
        ),
        ("商品已下架", "因权利人投诉您的商品侵犯其商标权，平台已将该商品下架。", "zh"),
    ],
)
def test_removal_on_a_rights_owner_report_is_ip_complaint(
    subject: str, body: str, lang: str
) -> None:
    """GIVEN a removal caused by a rights owner's report
    WHEN classified
    THEN it is an ip_complaint."""
    assert classify.classify(subject, body, lang) == "ip_complaint"


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        ("Three of your products were taken offline for a missing battery label.", "en"),
        ("The items below have been retired from the site because they are prohibited.", "en"),
        ("您的商品因缺少安全标识已做下线处理。", "zh"),
        ("以下商品已停止销售，请整改后重新提交。", "zh"),
        ("您的商品图片缺少CE标识，已被强制下线。", "zh"),
        ("下記の商品の出品を停止いたしました。", "ja"),
    ],
)
def test_removals_in_each_platforms_own_word(body: str, lang: str) -> None:
    """GIVEN a removal worded as taken offline, retired, 下线, 停止销售 or 出品停止
    WHEN classified with a generic subject
    THEN it is listing_removed."""
    assert classify.classify("Notice", body, lang) == "listing_removed"


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        (
            "Effective immediately, we have terminated your Seller Agreement. Open orders will"
            " be refunded and chargebacks may be charged to your balance.",
            "en",
        ),
        (
            "Mit sofortiger Wirkung haben wir Ihren Händlervertrag gekündigt. Rückbuchungen"
            " können von Ihrem Guthaben abgezogen werden.",
            "de",
        ),
        (
            "Nous avons résilié votre contrat vendeur avec effet immédiat. Les réclamations"
            " pourront être déduites.",
            "fr",
        ),
        ("Hemos rescindido su contrato de vendedor. Los contracargos pueden deducirse.", "es"),
        (
            "Abbiamo risolto il tuo contratto di vendita. I chargeback potranno essere addebitati.",
            "it",
        ),
        ("经平台审核，决定终止与您的合作协议，店铺内纠纷订单仍需处理。", "zh"),
    ],
)
def test_ending_the_sellers_agreement_is_a_suspension(body: str, lang: str) -> None:
    """GIVEN the platform ending the seller's agreement, with claims or chargebacks mentioned
    WHEN classified with a generic subject
    THEN it is a suspension."""
    assert classify.classify("Account update", body, lang) == "suspension"


@pytest.mark.parametrize(
    ("body", "category"),
    [
        (
            "While we review your account you cannot sell on Amazon. Within 30 days, send us a"
            " utility bill and your business licence.",
            "suspension",
        ),
        (
            "Your offers are inactive and payouts are paused. How do I reactivate my account?"
            " Send a plan of action that explains the root cause.",
            "suspension",
        ),
        (
            "Please upload a valid business licence within 5 days. Sellers without a valid"
            " licence cannot sell on Amazon.",
            "verification_request",
        ),
    ],
)
def test_selling_stopped_during_a_review_is_a_suspension(body: str, category: str) -> None:
    """GIVEN a seller told they cannot sell (or must reactivate the account) while documents
    are asked for, and a rule that only says who may sell
    WHEN classified
    THEN the first two are suspensions, the rule stays a verification_request."""
    assert classify.classify("Your seller account", body, "en") == category


@pytest.mark.parametrize(
    ("subject", "body", "lang", "category"),
    [
        (
            "Important information",
            "After reviewing your sales we decided to permanently close your seller account."
            " Remaining funds are held for 90 days to cover refunds.",
            "en",
            "suspension",
        ),
        (
            "Your account",
            "You can't create listings because your account is restricted. To lift the"
            " restriction, confirm your identity.",
            "en",
            "suspension",
        ),
        ("通知", "平台已暂停您店铺的全部销售功能，相关纠纷订单可能影响结算。", "zh", "suspension"),
        ("Payout", "We paused your payout because of a high refund rate.", "en", "payment"),
        (
            "Verification",
            "We couldn't verify your business details. Upload a bank statement within 10 days.",
            "en",
            "verification_request",
        ),
        (
            "Funds withheld due to legal proceedings",
            "As a freezing injunction issued by the High Court requires, we have withheld the"
            " balance of your seller account.",
            "en",
            "legal",
        ),
    ],
)
def test_more_wordings_of_each_kind(subject: str, body: str, lang: str, category: str) -> None:
    """GIVEN a closure decided, selling blocked by a restriction, a paused payout, failed
    verification and funds withheld under a court's injunction
    WHEN classified
    THEN each gets the category that drives the seller's response."""
    assert classify.classify(subject, body, lang) == category
