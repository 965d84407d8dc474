"""Swedish wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"(?:överklagande|åtgärdsplan).{0,60}(?:godkänt|avslaget|granskat)",
        r"återställ|återaktiver",
    ),
    "legal": (
        r"stämning",
        r"domstolsbeslut|domstol",
    ),
    "suspension": (
        r"försäljningsrättigheter.{0,40}(?:har )?(?:tagits bort|stängts av|inaktiverats|spärrats)",
        r"(?:stängt av|inaktiverat|spärrat).{0,30}(?:ditt )?(?:konto|försäljningsrättigheter)",
        r"konto.{0,30}(?:har|är) (?:tillfälligt )?(?:stängts av|inaktiverats|spärrats|avstängt"
        r"|spärrat|inaktiverat|fryst|stängts)",
    ),
    "ip_complaint": (
        r"immateriella rättigheter",
        r"varumärke",
        r"upphovsrätt",
        r"förfalskad|piratkopi",
        r"rättighetsinnehavare",
        r"intrång",
    ),
    "verification_request": (
        r"verifiering|verifiera",
        r"(?:ladda upp|skicka in|tillhandahåll).{0,40}(?:dokument|intyg|fakturor)",
    ),
    "listing_removed": (
        r"(?:erbjudande|annons|produkt).{0,40}har (?:tagits bort|inaktiverats|spärrats)",
        r"(?:tagit bort|inaktiverat|spärrat) (?:ditt |det |följande )?(?:erbjudande|annons)",
    ),
    "claim_dispute": (
        r"A-till-Ö-garanti|A-till-Z",
        r"återkrav|chargeback",
        r"tvist",
        r"returbegäran",
    ),
    "policy_warning": (
        r"varning",
        r"brott mot (?:vår |policyn)",
        r"kontohälsa",
        r"överträdelse",
    ),
    "payment": (
        r"utbetalning",
        r"betalning(?:ar)? (?:spärrad|försenad|innehållen)",
        r"reserv",
    ),
    "buyer_message": (r"meddelande från (?:en )?(?:köpare|kund)",),
    "policy_update": (
        r"ändring(?:ar)? (?:i|av)",
        r"träder i kraft",
        r"nya (?:krav|regler|avgifter)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (r"\b(?:kan|kunna|kommer att kunna|risk)\b",),
    "condition": (r"\b(?:om|annars|undvika)\b",),
    "newsletter": (r"\bnyhetsbrev\b|\bavregistrera\b|\bi detta nummer\b",),
    "report": (r"\b(?:månatlig|veckovis)\w*\b.{0,30}\b(?:rapport|sammanfattning|översikt)",),
    "all_clear": (r"\bingen åtgärd (?:krävs|behövs)\b",),
    "rights_owner": (r"\brättighetsinnehavare|\bvarumärkesinnehavare|\bVeRO\b",),
    "hold": (r"\b(?:innehållna?|reserv|frysta|pausade)\b",),
}
