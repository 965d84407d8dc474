"""Italian wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"Grazie per (?:il tuo|aver inviato il tuo|il) (?:ricorso|appello|piano d'azione)",
        r"(?:ricorso|appello|piano d'azione|contestazione).{0,60}(?:accettat|respint|approvat"
        r"|esaminat|rifiutat)[oa]",
        r"(?:ripristinat|riattivat)[oaie]",
    ),
    "legal": (
        r"causa legale",
        r"ordinanza del tribunale",
        r"provvedimento giudiziario",
        r"tribunale",
    ),
    "suspension": (
        r"privilegi di vendita.{0,40}(?:sospes|disattivat|rimoss|revocat)i",
        r"account(?: venditore)?.{0,30}(?:è stato|è|risulta) (?:temporaneamente"
        r" |definitivamente )?(?:sospeso|disattivato|bloccato|limitato|chiuso|congelato|revocato)",
        r"(?:abbiamo|ha) (?:temporaneamente )?(?:sospeso|disattivato|bloccato|limitato|chiuso"
        r"|congelato|revocato|rimosso) (?:il tuo|il suo|i tuoi|i suoi|l')\s?(?:account|privilegi"
        r"|negozio)",
        r"(?:sospensione|disattivazione|chiusura|blocco) (?:del(?:l')? ?)?account",
        r"(?:sospeso|disattivato|rimosso|revocato).{0,30}privilegi di vendita",
    ),
    "ip_complaint": (
        r"proprietà intellettuale",
        r"marchio",
        r"diritto d'autore|diritti d'autore",
        r"contraffa",
        r"titolare dei diritti",
        r"\bbrevett",
    ),
    "verification_request": (
        r"verifica (?:dell'identità|dell'account|dell'azienda)|verificare (?:la tua|il tuo)",
        r"(?:documenti|fatture|certificati).{0,40}(?:richiesti|fornire|caricare|inviare)",
        r"dichiarazione di conformità|rapporto di prova",
    ),
    "listing_removed": (
        r"(?:offert[ae]|inserzion[ei]|prodott[oi]|articol[oi]).{0,60}(?:è stat[oa]|sono stat[ie])"
        r" (?:rimoss|disattivat|bloccat|soppress)[oaie]",
    ),
    "claim_dispute": (
        r"garanzia dalla A alla Z|Garanzia A-Z",
        r"chargeback|riaddebito|storno",
        r"controversia",
        r"richiesta di (?:reso|rimborso)",
        r"reclamo",
    ),
    "policy_warning": (
        r"violazione (?:delle|della|di) (?:norme|politica|politiche|regole)",
        r"stato dell'account",
        r"avvertimento|avviso",
        r"tasso di (?:difettosità|ritardo|cancellazione)",
    ),
    "payment": (
        r"pagamento|bonifico|versamento",
        r"riserva",
    ),
    "buyer_message": (r"messaggio (?:da un|dall'|del) (?:acquirente|cliente)",),
    "policy_update": (
        r"aggiornamento",
        r"modifiche (?:alle|alla|ai|al|delle)",
        r"entrerà(?:nno)? in vigore",
        r"nuov[oaie] (?:requisit|politic|tariff|regol)",
    ),
}
