"""Spanish wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"Gracias por (?:tu|su|enviar (?:tu|su)) (?:apelación|recurso|plan de acción)",
        r"(?:apelación|recurso|plan de acción).{0,60}(?:aceptad|rechazad|aprobad|revisad"
        r"|denegad)[oa]",
        r"(?:restablecid|reactivad|restaurad)[oa]s?",
    ),
    "legal": (
        r"demanda judicial",
        r"orden judicial",
        r"procedimiento judicial",
        r"tribunal",
    ),
    "suspension": (
        r"privilegios de venta.{0,40}(?:suspendid|desactivad|retirad|eliminad|revocad)os",
        r"cuenta(?: de vendedor)?.{0,30}(?:ha sido|está|fue|queda) (?:temporalmente"
        r" |permanentemente )?(?:desactivad|suspendid|bloquead|restringid|congelad|cerrad"
        r"|cancelad|inhabilitad)a",
        r"(?:hemos|ha) (?:temporalmente )?(?:suspendido|desactivado|bloqueado|restringido"
        r"|congelado|cerrado|cancelado|retirado|revocado|inhabilitado) (?:tu|su|sus|tus|la)"
        r" (?:cuenta|privilegios|tienda)",
        r"(?:suspensión|desactivación|cierre|bloqueo) de (?:la |su |tu )?cuenta",
        r"(?:desactivado|suspendido|retirado|eliminado|revocado).{0,30}privilegios de venta",
    ),
    "ip_complaint": (
        r"propiedad intelectual",
        r"marca (?:registrada|comercial)",
        r"derechos de autor",
        r"falsificad[oa]s?|falsificación",
        r"titular de (?:los )?derechos",
        r"\bpatente",
        r"infracción de (?:marca|derechos)",
    ),
    "verification_request": (
        r"verificación (?:de (?:su |tu )?identidad|de la cuenta|de la empresa)|verificar (?:su|tu)",
        r"(?:documentos?|facturas?|certificados?).{0,40}(?:requeridos|solicitados|proporcionar"
        r"|subir|enviar|presentar)",
        r"declaración de conformidad|informe de pruebas",
    ),
    "listing_removed": (
        r"(?:ofertas?|anuncios?|productos?|artículos?|listings?).{0,60}(?:ha|han) sido"
        r" (?:eliminad|retirad|desactivad|bloquead|suprimid)[oa]s?",
    ),
    "claim_dispute": (
        r"garantía de la A a la Z|Garantía A-Z",
        r"contracargo",
        r"\bdisputa",
        r"solicitud de (?:devolución|reembolso)",
        r"reclamación",
    ),
    "policy_warning": (
        r"infracción de (?:la|las|nuestras) (?:política|normas)|incumplimiento de",
        r"estado de la cuenta",
        r"advertencia",
        r"tasa de (?:defectos|envíos con retraso|cancelación)",
    ),
    "payment": (
        r"desembolso",
        r"pagos? (?:retenidos?|suspendidos?|en espera)",
        r"reserva de",
    ),
    "buyer_message": (r"mensaje (?:de un|del) (?:comprador|cliente)",),
    "policy_update": (
        r"actualización",
        r"cambios? (?:en|de) (?:la|las|los|nuestr)",
        r"entrará(?:n)? en vigor",
        r"nuev[oa]s? (?:requisitos?|políticas?|tarifas?|normas?)",
    ),
}
