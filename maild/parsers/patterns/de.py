"""German wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"(?:Vielen )?Dank für Ihren (?:Einspruch|Widerspruch|Aktionsplan)",
        r"(?:Einspruch|Widerspruch|Aktionsplan|Beschwerde gegen die"
        r" Entscheidung).{0,60}(?:angenommen|abgelehnt|genehmigt|geprüft|stattgegeben)",
        r"(?:wieder ?hergestellt|wieder aktiviert|reaktiviert|wieder freigeschaltet)",
    ),
    "legal": (
        r"\bKlage\b",
        r"einstweilige(?:n)? Verfügung",
        r"Gerichtsbeschluss",
        r"gerichtlich",
        r"Landgericht|Amtsgericht",
    ),
    "suspension": (
        r"Verkaufsberechtigung.{0,60}(?:entzogen|deaktiviert|gesperrt|ausgesetzt|entfernt"
        r"|eingeschränkt)",
        r"(?:Konto|Shop|Verkaufsberechtigungen?|Verkaufsrechte?|Verkaufsprivilegien).{0,30}(?:wurde"
        r"|ist|wurden|sind)\s(?:\w+\s){0,2}(?:deaktiviert|gesperrt|eingeschränkt|ausgesetzt"
        r"|entzogen|eingefroren|geschlossen|gekündigt|widerrufen|stillgelegt)",
        r"(?:haben|hat) (?:Ihr|Ihren|Ihre|dein|deinen|deine) .{0,30}(?:Konto|Shop"
        r"|Verkaufsberechtigung|Verkaufsrecht|Verkaufsprivileg).{0,30}(?:gesperrt|deaktiviert"
        r"|eingeschränkt|ausgesetzt|entzogen|eingefroren|geschlossen|gekündigt|widerrufen)",
        r"(?:haben|hat) Ihnen (?:die |Ihre )?(?:Verkaufsrechte|Verkaufsberechtigung(?:en)?"
        r"|Verkaufsprivilegien)\b.{0,40}\bentzogen",
        r"(?:Vertrag|Vereinbarung|Verkäufervereinbarung|Händlervertrag)\b.{0,40}\b(?:gekündigt|beendet"
        r"|aufgelöst)",
        r"(?:Ihr|Ihren|dein|deinen) (?:Verkäufer)?[Kk]onto (?:wieder )?(?:zu )?reaktivieren",
        r"Kontosperrung|Kontodeaktivierung|Sperrung (?:Ihres|deines) (?:\w+)?[Kk]ontos",
        r"(?:Verkaufsaktivitäten|Verkaufsmöglichkeiten|Verkaufsfunktionen|Verkaufen)\b.{0,30}"
        r"(?:eingeschränkt|beschränkt|gesperrt|ausgesetzt)",
    ),
    "ip_complaint": (
        r"geistige[ns]? Eigentum",
        r"Marke(?:nrecht|nverletzung|ninhaber)?\b",
        r"Urheberrecht",
        r"\bPatent",
        r"Rechteinhaber",
        r"Fälschung|gefälscht",
        r"Rechtsverletzung|Verletzung von Rechten",
    ),
    "verification_request": (
        r"Identitätsnachweis|Personalausweis|Adressnachweis|Kontoauszug",
        r"(?:Nachweis|Registrierung|Registrierungsnummer|Zertifikat|Unterlagen"
        r"|Dokumente)\b.{0,40}\b(?:erforderlich|benötigt|angefordert)",
        r"hinterlegen Sie",
        r"Verifizierung|Identitätsprüfung|verifizieren|Identität",
        r"(?:bestätigen|verifizieren|überprüfen) Sie Ihre (?:Identität|Angaben|Daten"
        r"|Geschäftsdaten)",
        r"laden Sie .{0,60}(?:Unterlagen|Dokumente|Nachweise|Zertifikate"
        r"|Rechnungen).{0,80}\bhoch\b",
        r"(?:Dokumente|Unterlagen|Nachweise?|Rechnungen|Zertifikate?).{0,40}(?:hochladen"
        r"|einreichen|bereitstellen|vorlegen|übermitteln)",
        r"Konformitätserklärung|Prüfbericht|Sicherheitsdatenblatt",
    ),
    "listing_removed": (
        r"(?:Angebote?|Artikel|Produkte?|ASINs?|Listings?).{0,60}(?:wurden?|ist|sind) (?:entfernt"
        r"|deaktiviert|gesperrt|unterdrückt|gelöscht)",
        r"(?:entfernte|deaktivierte|gesperrte|unterdrückte) (?:Angebote|Artikel|Produkte|Listings)",
        r"(?:haben|hat) (?:das|die|den|Ihr|Ihre|Ihren) (?:\w+ )?(?:Angebot|Angebote|Artikel"
        r"|Produkt|Produkte|Listing|Listings) (?:\w+ )?(?:entfernt|deaktiviert|gesperrt|gelöscht"
        r"|unterdrückt)",
        r"(?:Angebote?|Artikel|Produkte?|Listings?) (?:entfernt|deaktiviert|gesperrt|gelöscht"
        r"|unterdrückt)\b",
    ),
    "claim_dispute": (
        r"A-bis-z|A-z-Garantie",
        r"Rückbuchung|Rücklastschrift",
        r"(?:Rückgabe|Rücksendung|Erstattung)s?(?:anfrage|antrag)",
        r"Fall (?:eröffnet|geöffnet)|Käuferschutz|eBay-Garantie|Streitfall",
        r"(?:Käufer|Kunde|Kundin)\b.{0,40}\bnicht (?:erhalten|angekommen|zugestellt)",
        r"Artikel nicht erhalten|Sendung nicht erhalten",
    ),
    "policy_warning": (
        r"Richtlinienverstoß|Verstoß gegen|verstößt gegen",
        r"Kontozustand",
        r"Warnung",
        r"Leistungskennzahl|Fehlerquote|Stornoquote|Verspätungsquote",
        r"Verkäuferleistung|Verkäuferstatus|Verkäuferstandard",
        r"verspätete(?:n)? (?:Lieferungen|Versand|Zustellungen)",
        r"Grenzwert|Unter Standard|herabgestuft",
        r"Vertragsstrafe|Strafgebühr|Strafzahlung|Sanktion|Bußgeld",
    ),
    "payment": (
        r"Auszahlung",
        r"Zahlung(?:en)? (?:zurückgehalten|ausgesetzt|verzögert)",
        r"Rücklage|Reserve",
    ),
    "buyer_message": (
        r"Nachricht von (?:einem |Ihrem )?(?:Käufer|Kunden)",
        r"Käufer hat (?:Ihnen )?eine Nachricht",
    ),
    "policy_update": (
        r"Änderung(?:en)? (?:der|an den|unserer|an unseren|von)",
        r"Aktualisierung",
        r"tritt .{0,40}in Kraft",
        r"neue (?:Anforderung|Richtlinie|Gebühr)",
        r"Gebührenänderung",
        r"wir (?:aktualisieren|ändern|passen .{0,50}\ban\b|führen .{0,50}\bein\b)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (r"\b(?:können|kann|könnte|könnten|möglicherweise|künftig|drohen|droht)\b",),
    "condition": (r"\b(?:falls|wenn|sofern|andernfalls|sonst|vermeiden)\b",),
    "newsletter": (r"\bNewsletter\b|\bin dieser Ausgabe\b|\babmelden\b|\bWochenrückblick\b",),
    "report": (r"\b(?:monatlich|wöchentlich)\w*\b.{0,30}\b(?:Bericht|Übersicht|Zusammenfassung)",),
    "all_clear": (
        r"\bkeine (?:weiteren )?(?:Maßnahmen|Schritte) (?:erforderlich|nötig)\b",
        r"\berfüllen alle\b|\bkeine Richtlinienverstöße\b",
    ),
    "rights_owner": (r"\bRechteinhaber|\bMarkeninhaber|\bVeRO\b",),
    "hold": (r"\b(?:zurückgehalten|einbehalten|Rücklage|Reserve|eingefroren|ausgesetzt)\b",),
}
