"""How each language names the performance figures a notice may state: the data `metrics` reads.

`RATE_LABELS[language][key]` are the labels of a percentage (Order Defect Rate, "Quote gültiger
Sendungsverfolgungsnummern", "有效追踪率"), `RATING_LABELS` those of Amazon's Account Health
Rating (a number 0-1000), `POINT_PATTERNS` the ways a violation-points count is written (value in
group 1), and `BOUNDS` the words that turn a figure after a label into a threshold ("below our
target of 95%", "über dem Grenzwert", "低于"). Labels are regexes matched case-insensitively; a new
wording is one entry in its language. Keys not listed here (eBay's transaction defect rate, SHEIN's
发货及时率) are deliberately not read: a rule can only escalate on a figure it can name.
"""

from __future__ import annotations

METRIC_KEYS: tuple[str, ...] = (
    "account_health_rating",
    "order_defect_rate",
    "late_shipment_rate",
    "late_dispatch_rate",
    "valid_tracking_rate",
    "pre_fulfillment_cancel_rate",
    "cancellation_rate",
    "on_time_delivery_rate",
    "seller_response_rate",
    "violation_points",
)

RATE_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "order_defect_rate": (r"order defect rate", r"\bODR\b"),
        "late_shipment_rate": (r"late shipment rate", r"\bLSR\b"),
        "late_dispatch_rate": (r"late dispatch rate", r"\bLDR\b"),
        "valid_tracking_rate": (r"valid tracking(?: rate)?", r"\bVTR\b"),
        "pre_fulfillment_cancel_rate": (r"pre-?fulfil?lment cancel(?:lation)? rate",),
        "cancellation_rate": (r"cancel(?:l?ation)? rate",),
        "on_time_delivery_rate": (r"on-?time delivery(?: rate)?", r"\bOTDR\b"),
        "seller_response_rate": (r"(?:seller )?response rate",),
    },
    "de": {
        "order_defect_rate": (r"Bestellmängelquote", r"(?:Rate|Quote) mangelhafter Bestellungen"),
        "late_shipment_rate": (
            r"Verspätungsrate",
            r"(?:Quote|Rate) verspäteter (?:Lieferungen|Sendungen|Versendungen)",
        ),
        "valid_tracking_rate": (
            r"(?:Quote|Rate) gültiger Sendungsverfolgungsnummern",
            r"Rate der gültigen Sendungsverfolgung",
        ),
        "pre_fulfillment_cancel_rate": (
            r"Stornoquote vor (?:der )?(?:Auftragsabwicklung|Versand)",
        ),
        "cancellation_rate": (r"Stornierungsrate", r"Stornoquote"),
        "on_time_delivery_rate": (r"(?:Quote|Rate) pünktlicher Lieferungen",),
        "seller_response_rate": (r"Antwortrate", r"Antwortquote"),
    },
    "fr": {
        "order_defect_rate": (r"taux de défauts? (?:de|des) commandes?",),
        "late_shipment_rate": (r"taux d'expéditions? en retard", r"taux de retard d'expédition"),
        "valid_tracking_rate": (r"taux de (?:numéros de )?suivi valides?",),
        "pre_fulfillment_cancel_rate": (r"taux d'annulation avant (?:l'exécution|expédition)",),
        "cancellation_rate": (r"taux d'annulation",),
        "on_time_delivery_rate": (r"taux de livraisons? (?:à temps|dans les délais)",),
        "seller_response_rate": (r"taux de réponse",),
    },
    "es": {
        "order_defect_rate": (r"tasa de (?:pedidos defectuosos|defectos en (?:los )?pedidos)",),
        "late_shipment_rate": (r"tasa de envíos? (?:con retraso|tardíos?)",),
        "valid_tracking_rate": (r"tasa de (?:números de )?seguimiento válidos?",),
        "pre_fulfillment_cancel_rate": (r"tasa de cancelación previa al (?:envío|cumplimiento)",),
        "cancellation_rate": (r"tasa de cancelaci(?:ón|ones)", r"tasa de pedidos cancelados"),
        "on_time_delivery_rate": (r"tasa de entregas? a tiempo",),
        "seller_response_rate": (r"tasa de respuesta",),
    },
    "it": {
        "order_defect_rate": (r"tasso di (?:difettosità degli ordini|ordini difettosi)",),
        "late_shipment_rate": (r"tasso di spedizion[ei] in ritardo",),
        "valid_tracking_rate": (r"tasso di (?:tracciabilità valida|tracciamento valido)",),
        "pre_fulfillment_cancel_rate": (r"tasso di (?:cancellazione|annullamento) prima"
                                        r" dell'evasione",),
        "cancellation_rate": (r"tasso di (?:cancellazione|annullamento)",),
        "on_time_delivery_rate": (r"tasso di consegn[ae] puntual[ei]",),
        "seller_response_rate": (r"tasso di risposta",),
    },
    "ja": {
        "order_defect_rate": (r"注文不良率",),
        "late_shipment_rate": (r"出荷遅延率",),
        "valid_tracking_rate": (r"有効な?追跡(?:可能)?率", r"追跡可能率"),
        "pre_fulfillment_cancel_rate": (r"出荷前キャンセル率",),
        "cancellation_rate": (r"キャンセル率",),
        "on_time_delivery_rate": (r"(?:定時|期日内|納期内)配達率",),
        "seller_response_rate": (r"(?:返信|応答)率",),
    },
    "zh": {
        "order_defect_rate": (r"订单缺陷率",),
        "late_shipment_rate": (r"(?:延迟发货|发货延迟|迟发)率",),
        "valid_tracking_rate": (r"有效(?:物流)?(?:追踪|跟踪)率",),
        "pre_fulfillment_cancel_rate": (r"配送前取消率",),
        "cancellation_rate": (r"(?:订单)?取消率",),
        "on_time_delivery_rate": (r"(?:准时|按时)(?:送达|交付|妥投)率",),
        "seller_response_rate": (r"(?:卖家)?(?:回复|响应)率",),
    },
}

RATING_LABELS: dict[str, tuple[str, ...]] = {
    "en": (r"Account Health Rating", r"\bAHR\b"),
    "de": (r"Kontostatus-?Bewertung", r"Kontozustandsbewertung"),
    "fr": (r"évaluation de l'état du compte", r"note de santé du compte"),
    "es": (r"calificación del estado de la cuenta", r"calificación de (?:la )?salud de la cuenta"),
    "it": (r"valutazione dello stato dell'account", r"valutazione della salute dell'account"),
    "ja": (r"アカウント健全性(?:評価|スコア)",),
    "zh": (r"账户健康(?:评级|评分)", r"账户状况(?:评级|评分)"),
}

# Violation points (AliExpress, Temu): the count in group 1. A running total ("累计12分", "total of
# 12 points") wins over the points one notice deducts, since escalation thresholds are on totals.
POINT_PATTERNS: dict[str, tuple[str, ...]] = {
    "en": (
        r"(?:violation|penalty)[^\n.;]{0,60}?\(?(\d{1,3}) (?:violation |penalty )?points?\b",
        r"(\d{1,3}) (?:violation|penalty) points?\b",
    ),
    "de": (
        r"(\d{1,3}) (?:Verstoß|Straf)punkte?\b",
        r"(?:Verstoß|Straf)punkte?\D{0,20}?(\d{1,3})\b",
    ),
    "fr": (r"(\d{1,3}) points? de (?:pénalité|violation)",),
    "es": (r"(\d{1,3}) puntos? de (?:penalización|infracción)",),
    "it": (r"(\d{1,3}) punti (?:di penalità|di violazione)",),
    "ja": (r"違反(?:点数|ポイント)[^\n。、]{0,12}?(\d{1,3}) ?(?:点|ポイント)",),
    "zh": (r"(?:违规|扣分|积分|累计)[^\n。；;，,\d]{0,12}?(\d{1,3}) ?分(?![钟时的以])",),
}
# One of these must follow a points figure: a cheap second gate before the patterns run.
POINT_UNITS: tuple[str, ...] = ("point", "punkt", "punti", "punto", "分", "点", "ポイント")
# Words that make a points figure a running total.
TOTAL_CUES = r"累计|累積|\btotal\b|insgesamt|\bcumul|acumulad|cumulativ"
# Words that make a points figure a rule, not the store's count ("每单扣除2分", "per order").
RULE_CUES = r"每|\bper\b|\bje\b|\bpar\b|\bpor\b|ごと"

# A figure after one of these (between label and figure) is a threshold, not the store's value:
# "Late shipment rate above 4%", "über dem Grenzwert von 7 %", "低于95%".
BOUNDS: tuple[str, ...] = (
    r"\b(?:above|below|under|over|target|standard|maximum|minimum|threshold|limit|less than"
    r"|more than|at least|at most|exceed)",
    r"\b(?:über|unter|Ziel|Grenz|mindestens|höchstens)",
    r"\b(?:supérieur|inférieur|objectif|seuil|au moins|au plus)",
    r"\b(?:por encima|por debajo|máximo|mínimo|objetivo|límite|supera)",
    r"\b(?:sopra|sotto|superiore|inferiore|obiettivo|soglia|massimo|minimo)",
    r"以上|以下|未満|超え|目標|基準",
    r"超过|超出|低于|高于|不低于|不高于|标准|目标|达到",
)
