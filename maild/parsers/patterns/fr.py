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
        r"(?:désactivé|suspendu|supprimé|retiré|révoqué)s?.{0,30}privilèges de vente",
    ),
    "ip_complaint": (
        r"propriété intellectuelle",
        r"atteinte aux droits|violation (?:de (?:la )?marque|des droits|du droit d'auteur)",
        r"marque(?: déposée| commerciale)?\b",
        r"droits? d'auteur",
        r"contrefaçon|contrefait",
        r"titulaire des droits",
        r"\bbrevet",
    ),
    "verification_request": (
        r"vérification (?:de votre |d'identité|du compte|de l'entreprise)|vérifier votre",
        r"(?:documents?|justificatifs?|factures?|certificats?).{0,40}(?:requis|demandés|fournir"
        r"|télécharger|soumettre)",
        r"déclaration de conformité|rapport d'essai",
    ),
    "listing_removed": (
        r"(?:offres?|annonces?|produits?|articles?|fiches?).{0,60}(?:a|ont) été (?:supprimée?s?"
        r"|retirée?s?|désactivée?s?|bloquée?s?|masquée?s?)",
    ),
    "claim_dispute": (
        r"garantie A à Z|garantie A-à-z|garantie A-Z",
        r"rétrofacturation|contestation de paiement",
        r"\blitige",
        r"demande de (?:retour|remboursement)",
        r"réclamation",
    ),
    "policy_warning": (
        r"violation (?:de|des) (?:la |nos )?(?:politique|règles|conditions)",
        r"santé du compte",
        r"avertissement",
        r"taux de (?:défaut|retard|annulation)",
    ),
    "payment": (
        r"virement|versement",
        r"paiements? (?:retenus?|suspendus?|différés?)",
        r"réserve de",
    ),
    "buyer_message": (r"message (?:d'un|de l'|du) (?:acheteur|client)",),
    "policy_update": (
        r"mise à jour",
        r"évolution (?:des|de nos) (?:frais|tarifs|règles|conditions|politiques?)",
        r"(?:frais|tarifs)\b.{0,60}\b(?:évolueront|changeront|augmenteront|évoluent)",
        r"modifications? (?:de|des|apportées)",
        r"entrer(?:a|ont) en vigueur",
        r"nouvel(?:le)?s? (?:exigences?|politiques?|frais|règles?)",
    ),
}
