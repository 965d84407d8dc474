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
        r"(?:risolto|terminato|rescisso|cessato) (?:il tuo|il suo|il) (?:contratto|accordo)",
        r"riattivare (?:il tuo|il suo) account",
        r"(?:sospeso|disattivato|rimosso|revocato).{0,30}privilegi di vendita",
        r"(?:limitato|sospeso|bloccato|ridotto) (?:la tua|le tue|la sua|le sue) (?:attività di"
        r" vendita|possibilità di vendere|vendite|capacità di vendere)",
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
        r"documento d'identità|carta d'identità|prova di residenza|estratto conto",
        r"verifica (?:dell'identità|dell'account|dell'azienda)|verificare (?:la tua|il tuo)",
        r"(?:documenti|fatture|certificati).{0,40}(?:richiesti|fornire|caricare|inviare)",
        r"(?:carica|caricare|invia|inviare|fornisci|fornire|allega|allegare|presenta)\b.{0,40}"
        r"\b(?:documenti|documentazione|fatture|certificati|foto|attestazioni)",
        r"codice di verifica (?:richiesto|necessario)|verifica (?:le tue|i tuoi) (?:informazioni"
        r"|dati)",
        r"dichiarazione di conformità|rapporto di prova",
    ),
    "listing_removed": (
        r"(?:offert[ae]|inserzion[ei]|prodott[oi]|articol[oi]).{0,60}(?:è stat[oa]|sono stat[ie])"
        r" (?:rimoss|disattivat|bloccat|soppress)[oaie]",
        r"abbiamo (?:rimosso|disattivato|bloccato|eliminato|sospeso) (?:il|la|i|le|l'|il tuo|la tua"
        r"|i tuoi|le tue) ?(?:seguent[ei] )?(?:offert[ae]|inserzion[ei]|prodott[oi]|articol[oi])",
        r"(?:offert[ae]|inserzion[ei]|prodott[oi]|articol[oi]) (?:rimoss|disattivat"
        r"|bloccat)[oaie]\b",
    ),
    "claim_dispute": (
        r"garanzia dalla A alla Z|Garanzia A-Z",
        r"chargeback|riaddebito|storno",
        r"controversia",
        r"richiesta di (?:reso|rimborso)",
        r"reclamo",
        r"non (?:ha|hanno) (?:ancora )?ricevuto|non è (?:ancora )?arrivat|oggetto non ricevuto",
    ),
    "policy_warning": (
        r"violazione (?:delle|della|di) (?:norme|politica|politiche|regole)",
        r"stato dell'account",
        r"avvertimento|avviso (?:relativo (?:alle|alla|al)|sulle|sulla|di|per) (?:norm|politic"
        r"|violazion|prestazion|rendiment)",
        r"\bviol(?:a|ano|ato) (?:le|la) (?:nostre |nostra )?(?:norme|politica|politiche|regole)",
        r"tasso di (?:difettosità|ritardo|cancellazione)",
        r"penal(?:e|i|ità)\b|sanzion[ei]",
        r"spedizion[ei] in ritardo",
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
        r"(?:stiamo aggiornando|aggiorneremo|modificheremo|cambieremo|introdurremo)",
        r"nuov[oaie] (?:requisit|politic|tariff|regol)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (
        r"\b(?:può|possono|potrà|potranno|potrebbe|potrebbero|rischio|eventual\w*|futur\w*)\b",
    ),
    "condition": (r"\b(?:se|altrimenti|evitare)\b",),
    "newsletter": (r"\bnewsletter\b|\bdisiscriviti\b|\bin questo numero\b",),
    "report": (r"\b(?:report|riepilogo|resoconto) (?:mensile|settimanale)",),
    "all_clear": (r"\bnessuna azione (?:è )?(?:richiesta|necessaria)\b",),
    "rights_owner": (r"\btitolare (?:dei|del) diritt|\bproprietario del marchio|\bVeRO\b",),
    "hold": (r"\b(?:trattenut[oaie]|riserva|congelat[oaie]|sospes[oaie])\b",),
}
