"""Dutch wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"(?:bedankt|dank) voor (?:je|uw) (?:beroep|bezwaar)",
        r"informatie nodig voor (?:je|uw) (?:beroep|bezwaar)",
        r"(?:beroep|bezwaar|actieplan).{0,60}(?:goedgekeurd|afgewezen|beoordeeld|geaccepteerd)",
        r"(?:opnieuw geactiveerd|hersteld)",
    ),
    "legal": (
        r"rechtszaak",
        r"gerechtelijk(?:e)? (?:bevel|procedure)",
        r"rechtbank",
    ),
    "suspension": (
        r"verkoopprivileges?.{0,40}(?:ingetrokken|gedeactiveerd|opgeschort|verwijderd)",
        r"(?:ingetrokken|gedeactiveerd|opgeschort).{0,30}verkoopprivileges?",
        r"(?:verkopers)?account.{0,30}(?:is|werd) (?:tijdelijk |permanent )?(?:gedeactiveerd"
        r"|opgeschort|geblokkeerd|bevroren|gesloten)",
        r"(?:hebben|heeft) (?:je|uw) (?:verkopers)?account .{0,20}(?:gedeactiveerd|opgeschort"
        r"|geblokkeerd|bevroren|gesloten)",
    ),
    "ip_complaint": (
        r"intellectuele eigendom",
        r"merkinbreuk|handelsmerk|merkrecht",
        r"auteursrecht",
        r"namaak|nagemaakt",
        r"rechthebbende",
        r"inbreuk",
    ),
    "verification_request": (
        r"verificatie|verifiëren",
        r"(?:documenten|conformiteitsverklaring|testrapporten?|facturen).{0,40}(?:uploaden"
        r"|indienen|verstrekken)|(?:upload|verstrek).{0,40}(?:documenten|conformiteitsverklaring"
        r"|testrapport)",
    ),
    "listing_removed": (
        r"(?:aanbieding|advertentie|product|artikel).{0,40}(?:is|werd|zijn) (?:verwijderd"
        r"|gedeactiveerd|geblokkeerd|onderdrukt)",
        r"(?:hebben|heeft) (?:je|uw|de) (?:aanbieding|advertentie|product).{0,30}(?:verwijderd"
        r"|gedeactiveerd)",
    ),
    "claim_dispute": (
        r"A-tot-z-garantie|A-tot-z",
        r"terugboeking|chargeback",
        r"geschil",
        r"retourverzoek",
    ),
    "policy_warning": (
        r"waarschuwing",
        r"schending van (?:ons |het )?beleid",
        r"accountstatus",
        r"in strijd met",
    ),
    "payment": (
        r"uitbetaling",
        r"betaling(?:en)? (?:ingehouden|opgeschort|vertraagd)",
        r"reserve",
    ),
    "buyer_message": (r"bericht van (?:een )?(?:koper|klant)",),
    "policy_update": (
        r"wijziging(?:en)? (?:in|van|aan)",
        r"treedt .{0,30}in werking",
        r"nieuwe (?:vereiste|regels?|kosten)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (r"\b(?:kan|kunnen|zou|zouden|mogelijk|risico)\b",),
    "condition": (r"\b(?:als|indien|anders|voorkomen)\b",),
    "newsletter": (r"\bnieuwsbrief\b|\bafmelden\b|\bin deze editie\b",),
    "report": (r"\b(?:maandelijks|wekelijks)\w*\b.{0,30}\b(?:rapport|overzicht|samenvatting)",),
    "all_clear": (r"\bgeen actie (?:vereist|nodig)\b",),
    "rights_owner": (r"\brechthebbende|\bmerkeigenaar|\bVeRO\b",),
    "hold": (r"\b(?:ingehouden|vastgehouden|reserve|bevroren|opgeschort)\b",),
}
