"""The figures a notice states (`maild.parsers.metrics`): in each language, in tables, and the
numbers that are not figures of the store (thresholds, counts, dates, fees, rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maild.parsers import metrics, parse_message, tables
from maild.parsers.notice import Notice

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("amazon/au_policy_warning_valid_tracking_rate", {"valid_tracking_rate": 88.0}),
        ("amazon/us_policy_warning_ahr_at_risk_html", {"account_health_rating": 150.0}),
        ("amazon/uk_suspension_odr_rfc822", {"order_defect_rate": 3.4}),
        ("amazon/de_policy_warning_late_shipment_thunderbird", {"late_shipment_rate": 6.2}),
        ("ebay/de_late_shipment_warning_latin1", {"late_shipment_rate": 9.8}),
        ("amazon/fr_suspension_late_shipment_gmail", {"late_shipment_rate": 9.7}),
        ("holdout/wm_mx_advertencia_cancelaciones_5_dias_habiles", {"cancellation_rate": 4.8}),
        ("aliexpress/zh_violation_points_gb18030", {"violation_points": 12.0}),
        ("aliexpress/zh_store_closed_original_message_forward", {"violation_points": 48.0}),
        ("aliexpress/en_product_removed_battery_policy", {"violation_points": 2.0}),
        (
            "walmart/performance_standards_warning_redirect",
            {"on_time_delivery_rate": 86.4, "valid_tracking_rate": 95.1,
             "seller_response_rate": 91.0},
        ),
    ],
)
def test_corpus_notices_in_each_language(name: str, expected: dict[str, float]) -> None:
    """GIVEN a corpus notice stating figures (en, de, fr, es, zh; GB18030, latin-1, forwards)
    WHEN parsed
    THEN `metrics` holds exactly those figures, percentages in percent."""
    notice = parse_message((CORPUS / f"{name}.eml").read_bytes())
    assert notice.metrics == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your Valid Tracking Rate is 93.5%.", {"valid_tracking_rate": 93.5}),
        ("Account Health Rating: 982 (Healthy)", {"account_health_rating": 982.0}),
        ("Your Late Dispatch Rate is 5.2%.", {"late_dispatch_rate": 5.2}),
        ("Pre-fulfilment Cancel Rate: 3,1 %", {"pre_fulfillment_cancel_rate": 3.1}),
        (
            "Ihre Quote gültiger Sendungsverfolgungsnummern beträgt 93,5 %.",
            {"valid_tracking_rate": 93.5},
        ),
        ("Ihre Kontostatus-Bewertung ist auf 180 gesunken.", {"account_health_rating": 180.0}),
        ("Votre taux de défaut de commande est de 1,4 %.", {"order_defect_rate": 1.4}),
        ("Tu tasa de entregas a tiempo es del 88 %.", {"on_time_delivery_rate": 88.0}),
        ("La calificación de salud de la cuenta es 180.", {"account_health_rating": 180.0}),
        ("账户健康评级：230", {"account_health_rating": 230.0}),
        ("Il tasso di spedizioni in ritardo è del 5,1%.", {"late_shipment_rate": 5.1}),
        ("Il tasso di risposta è 72%.", {"seller_response_rate": 72.0}),
        ("お客様の出荷遅延率は5.1%です。", {"late_shipment_rate": 5.1}),
        ("注文不良率：1.2％", {"order_defect_rate": 1.2}),
        ("您的有效追踪率为93.5%，请尽快改善。", {"valid_tracking_rate": 93.5}),
        ("违规扣分 12 分", {"violation_points": 12.0}),
        ("扣除违规积分6分（本年度累计12分）。", {"violation_points": 12.0}),
    ],
)
def test_labels_in_each_language(text: str, expected: dict[str, float]) -> None:
    """GIVEN one figure written as the platforms write it in en, de, fr, es, it, ja or zh
    WHEN extracted
    THEN it is filed under its metric key (a running points total over the points deducted)."""
    assert metrics.extract(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "You had 120 orders in the last 30 days; 4 were late.",
        "Ihre nächste Bewertung erfolgt am 20.03.2026.",
        "Late shipment rate above 4% can lead to deactivation.",
        "Keep your valid tracking rate at or above 95%.",
        "Due to an increase in your order defect rate, we've applied a rolling reserve of 20%.",
        "Final value fees increase from 13.25% to 13.6%.",
        "Your Account Health Rating is updated daily. Ratings of 200 or above are Healthy.",
        "Account Health Rating below 200 may lead to deactivation.",
        "二、上传无效物流单号的，每单扣除违规积分2分。",
        "累计积分达到12分时，平台将对店铺进行冻结7天的处罚。",
        "订单缺陷率已超出我们的绩效目标。",
        "发货及时率：99.2%",
    ],
)
def test_numbers_that_are_not_the_stores_figures(text: str) -> None:
    """GIVEN counts, dates, thresholds, fees, a reserve after a comma, a points rule, a rate
    with no figure, and a rate maild has no key for
    WHEN extracted
    THEN no figure is read."""
    assert metrics.extract(text) == {}


def test_table_with_the_metric_in_the_first_cell() -> None:
    """GIVEN Walmart's scorecard table: Metric | Your rate | Standard, one row per metric
    WHEN read with an unhelpful flattened text
    THEN each row's rate is filed under the metric its first cell names, not the standard."""
    grid = tables.read_tables(
        "<table><tr><th>Metric</th><th>Your rate</th><th>Standard</th></tr>"
        "<tr><td>On-time delivery</td><td>97.8%</td><td>90% or higher</td></tr>"
        "<tr><td>Valid tracking</td><td>94.0%</td><td>99% or higher</td></tr>"
        "<tr><td>Cancellation rate</td><td>0.4%</td><td>2% or lower</td></tr></table>"
    )
    assert metrics.extract("Your monthly scorecard", grid) == {
        "on_time_delivery_rate": 97.8,
        "valid_tracking_rate": 94.0,
        "cancellation_rate": 0.4,
    }


def test_table_with_metrics_as_column_headers() -> None:
    """GIVEN a table whose header row names the metrics and the row below holds the values,
    which the flattened text puts on separate lines
    WHEN read
    THEN each value gets the metric of its column."""
    markup = (
        "<table><tr><th>Order Defect Rate</th><th>Late Shipment Rate</th>"
        "<th>Account Health Rating</th><th>Orders</th></tr>"
        "<tr><td>1.8%</td><td>4.6%</td><td>190</td><td>1,240</td></tr></table>"
    )
    flattened = "Order Defect Rate Late Shipment Rate Account Health Rating Orders\n1.8% 4.6% 190"
    assert metrics.extract(flattened, tables.read_tables(markup)) == {
        "order_defect_rate": 1.8,
        "late_shipment_rate": 4.6,
        "account_health_rating": 190.0,
    }


def test_phishing_mail_figures_are_not_read() -> None:
    """GIVEN a look-alike sender claiming the Account Health Rating dropped to 120
    WHEN parsed
    THEN it is a phishing suspect and states no metrics (no rule may escalate on it)."""
    raw = (
        b"From: Amazon Seller Central <account-health@amazon-seller-alerts.example>\r\n"
        b"To: acme@inbox.advisor.example\r\nSubject: Account Health Rating at risk\r\n"
        b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <p1@x>\r\n\r\n"
        b"Your Amazon Account Health Rating has dropped to 120. Verify your account at "
        b"http://amazon-verify.example/login within 24 hours.\r\n"
    )
    notice = parse_message(raw)
    assert notice.category == "phishing_suspect"
    assert notice.metrics == {}


def test_contract_carries_metrics_only_when_stated() -> None:
    """GIVEN a notice with figures and one without
    WHEN rendered as the DESIGN 4.1 object
    THEN the first has a `metrics` object and the second no `metrics` key."""
    stated = Notice(message_id="<a@x>", metrics={"account_health_rating": 150.0})
    assert stated.to_contract("a.eml")["metrics"] == {"account_health_rating": 150.0}
    assert "metrics" not in Notice(message_id="<b@x>").to_contract("b.eml")
