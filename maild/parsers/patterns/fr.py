"""French wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"Merci (?:pour|d'avoir soumis) votre (?:appel|recours|plan d'action)",
        r"(?:appel|recours|plan d'action|contestation).{0,60}(?:accepté|rejeté|refusé|examiné"
        r"|approuvé)",
        r"(?:rétabli|réactivé|restauré)e?s?",
    ),
    "legal": (
        r"action en justice",
        r"ordonnance (?:du tribunal|judiciaire)",
        r"procédure judiciaire",
        r"tribunal",
    ),
    "suspension": (
        r"privilèges de vente.{0,40}(?:supprimés|suspendus|désactivés|retirés|révoqués)",
        r"compte(?: vendeur)?.{0,30}(?:a été|est) (?:temporairement |définitivement )?(?:désactivé"
        r"|suspendu|bloqué|restreint|gelé|fermé|clôturé|résilié)",
        r"(?:avons|a) (?:temporairement |définitivement )?(?:désactivé|suspendu|bloqué|restreint"
        r"|gelé|fermé|clôturé|retiré|révoqué) (?:votre|vos|le) (?:compte|privilèges|boutique)",
        r"(?:suspension|désactivation|fermeture|blocage) (?:de |du )?(?:votre )?compte",
        r"(?:résilié|mis fin à|rompu) (?:votre|le) (?:contrat|accord)",
        r"réactiver votre compte",
        r"(?:désactivé|suspendu|supprimé|retiré|révoqué)s?.{0,30}privilèges de vente",
        r"(?:limité|restreint|suspendu|bloqué) (?:vos|votre) (?:ventes|activités? de vente"
        r"|possibilités? de vendre|capacité à vendre)",
    ),
    "ip_complaint": (
        r"propriété intellectuelle",
        r"atteinte aux droits|violation (?:de (?:la )?marque|des droits|du droit d'auteur)",
        r"(?:violation|atteinte|usurpation|contrefaçon|plainte|réclamation|signalement)"
        r" (?:de|à|concernant) (?:la |votre |une |cette )?marque",
        r"marque (?:déposée|commerciale)\b",
        r"droits? d'auteur",
        r"contrefaçon|contrefait",
        r"titulaire des droits",
        r"\bbrevet",
    ),
    "verification_request": (
        r"vérification (?:de votre |d'identité|du compte|de l'entreprise)|vérifier votre",
        r"vérification de (?:la |votre )?marque",
        r"code de vérification (?:requis|nécessaire|obligatoire)|(?:saisir|saisissez|entrer|entrez"
        r"|renseigner|renseignez) (?:ce|le) code",
        r"(?:téléverser|téléversez|télécharger|téléchargez|fournir|fournissez|soumettre|soumettez"
        r"|envoyer|envoyez|joindre|joignez|transmettre|transmettez)\b.{0,40}\b(?:documents?"
        r"|justificatifs?|factures?|certificats?|photos?|attestations?)",
        r"(?:confirmer|confirmez|mettre à jour|mettez à jour) vos (?:informations|coordonnées)"
        r" (?:fiscales|d'identité|bancaires|d'entreprise)",
        r"(?:documents?|justificatifs?|factures?|certificats?).{0,40}(?:requis|demandés|fournir"
        r"|télécharger|soumettre)",
        r"déclaration de conformité|rapport d'essai",
        r"pièce d'identité|justificatif de domicile|extrait K-?bis|relevé bancaire",
    ),
    "listing_removed": (
        r"(?:offres?|annonces?|produits?|articles?|fiches?).{0,60}(?:a|ont) été (?:supprimée?s?"
        r"|retirée?s?|désactivée?s?|bloquée?s?|masquée?s?|dépubliée?s?)",
        r"(?:avons|a) (?:supprimé|retiré|désactivé|bloqué|masqué|dépublié) (?:l'|la |le |les"
        r" |votre |vos |cette |ces |cet )(?:\w+ )?(?:annonces?|offres?|objets?|produits?|articles?"
        r"|fiches?)",
        r"(?:annonces?|offres?|objets?|produits?|articles?) (?:supprimée?s?|retirée?s?"
        r"|désactivée?s?|bloquée?s?|dépubliée?s?)\b",
        r"retrait (?:de (?:l'|la |votre |vos )|des )(?:annonces?|offres?|produits?|articles?)",
    ),
    "claim_dispute": (
        r"garantie A à Z|garantie A-à-z|garantie A-Z",
        r"rétrofacturation|contestation de paiement",
        r"\blitige",
        r"demande de (?:retour|remboursement)",
        r"réclamation",
        r"(?:n'a|n'ont|n'avez) (?:pas|jamais) (?:reçu|été livrée?)|objet non reçu|colis non reçu",
    ),
    "policy_warning": (
        r"violation (?:de|des) (?:la |nos )?(?:politique|règles|conditions)",
        r"santé du compte",
        r"avertissement",
        r"taux de (?:défaut|retard|annulation)",
        r"pénalités?|sanctions?|\bamende",
        r"(?:expéditions?|livraisons?|envois?) en retard",
    ),
    "payment": (
        r"virement|versement",
        r"paiements? (?:retenus?|suspendus?|différés?)",
        r"réserve de",
    ),
    "buyer_message": (r"message (?:d'un|de l'|du) (?:acheteur|client)",),
    "policy_update": (
        r"mise à jour",
        r"nous (?:mettons à jour|modifions|changeons|introduisons|lançons|révisons)",
        r"évolution (?:des|de nos) (?:frais|tarifs|règles|conditions|politiques?)",
        r"(?:frais|tarifs)\b.{0,60}\b(?:évolueront|changeront|augmenteront|évoluent)",
        r"modifications? (?:de|des|apportées)",
        r"entrer(?:a|ont) en vigueur",
        r"nouvel(?:le)?s? (?:exigences?|politiques?|frais|règles?)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (
        r"\b(?:peut|peuvent|pourra|pourront|pourrait|pourraient|risque|éventuel\w*|futur\w*)\b",
    ),
    "condition": (r"\b(?:si|sinon|éviter)\b|\bà défaut\b",),
    "newsletter": (r"\blettre d'information\b|\bnewsletter\b|\bdésabonner\b|\bdans ce numéro\b",),
    "report": (
        r"\b(?:mensuel|hebdomadaire)\w*\b.{0,30}\b(?:rapport|bilan|résumé)",
        r"\b(?:rapport|bilan|résumé) (?:mensuel|hebdomadaire)",
    ),
    "all_clear": (r"\baucune action n'est (?:requise|nécessaire)\b|\baucune violation\b",),
    "rights_owner": (r"\btitulaire des droits|\bpropriétaire de la marque|\bVeRO\b",),
    "hold": (r"\b(?:retenus?|retenues?|réserve|gelés?|suspendus?|bloqués?)\b",),
}
