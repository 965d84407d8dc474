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
        r"(?:rescindido|resuelto|terminado|puesto fin a) (?:su|tu|el) (?:contrato|acuerdo)",
        r"reactivar (?:su|tu) cuenta",
        r"(?:desactivado|suspendido|retirado|eliminado|revocado).{0,30}privilegios de venta",
        r"(?:limitado|restringido|suspendido|bloqueado) (?:tu|su|tus|sus) (?:actividad(?:es)? de"
        r" venta|capacidad de vender|ventas|posibilidad de vender)",
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
        r"documento (?:de identidad|nacional de identidad)|comprobante de domicilio|extracto"
        r" bancario",
        r"verificación (?:de (?:su |tu )?identidad|de la cuenta|de la empresa)|verificar (?:su|tu)",
        r"verific(?:a|ar|e|amos) (?:tu|su|la) (?:información|identidad|cuenta|empresa|datos)",
        r"(?:confirm|verific|actualic|actualiz)\w* (?:tu|su|la) información (?:fiscal|de identidad"
        r"|bancaria|de la empresa)",
        r"(?:sube|suba|subir|envía|envíe|enviar|adjunta|adjunte|presenta|presente|aporta|aporte"
        r"|proporciona|proporcione|carga|cargue)\b.{0,40}\b(?:documentos?|documentación"
        r"|certificados?|facturas?|comprobantes?|fotos?)",
        r"complet(?:a|ar|e) (?:la|tu|su) verificación|código de verificación (?:requerido"
        r"|necesario)",
        r"(?:documentos?|facturas?|certificados?).{0,40}(?:requeridos|solicitados|proporcionar"
        r"|subir|enviar|presentar)",
        r"declaración de conformidad|informe de pruebas",
    ),
    "listing_removed": (
        r"(?:ofertas?|anuncios?|productos?|artículos?|listings?|publicaciones?).{0,60}(?:ha|han)"
        r" sido (?:eliminad|retirad|desactivad|bloquead|suprimid|despublicad|pausad)[oa]s?",
        r"(?:hemos|ha) (?:eliminado|retirado|desactivado|bloqueado|suprimido|despublicado)"
        r" (?:el|la|los|las|tu|su|tus|sus) (?:siguientes? )?(?:productos?|anuncios?|ofertas?"
        r"|artículos?|publicaciones?)",
        r"(?:productos?|anuncios?|ofertas?|artículos?|publicaciones?) (?:eliminad|retirad"
        r"|desactivad|bloquead|despublicad)[oa]s?\b",
    ),
    "claim_dispute": (
        r"garantía de la A a la Z|Garantía A-Z",
        r"contracargo",
        r"\bdisputa",
        r"solicitud de (?:devolución|reembolso)",
        r"reclamación",
        r"no (?:ha|han) (?:recibido|llegado)|no recibió|artículo no recibido|pedido no recibido",
    ),
    "policy_warning": (
        r"infracción de (?:la|las|nuestras) (?:política|normas)|incumplimiento de",
        r"estado de la cuenta",
        r"advertencia",
        r"tasa de (?:defectos|envíos con retraso|cancelación)",
        r"penalizaci(?:ón|ones)|sanci(?:ón|ones)|\bmulta",
        r"envíos? (?:con retraso|tardíos?)",
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
        r"(?:estamos actualizando|actualizamos|vamos a (?:cambiar|actualizar|modificar)"
        r"|modificaremos|cambiaremos)",
        r"nuev[oa]s? (?:requisitos?|políticas?|tarifas?|normas?)",
    ),
}

# Cues for the precedence rules (see `maild.parsers.patterns.en`).
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (r"\b(?:puede|pueden|podrá|podrán|podría|podrían|riesgo|posibles?|futur[oa]s?)\b",),
    "condition": (r"\b(?:si|de lo contrario|evitar)\b",),
    "newsletter": (r"\bbolet[ií]n\b|\bnewsletter\b|\bdarse de baja\b|\ben este número\b",),
    "report": (r"\b(?:informe|resumen) (?:mensual|semanal)",),
    "all_clear": (
        r"\bno se requiere ninguna acción\b|\bno (?:es necesario|necesita) hacer nada\b",
    ),
    "rights_owner": (r"\btitular de (?:los )?derechos|\bpropietario de la marca|\bVeRO\b",),
    "hold": (r"\b(?:retenid[oa]s?|reserva|congelad[oa]s?|suspendid[oa]s?)\b",),
}
