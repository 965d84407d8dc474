"""What each category sounds like, per language: the classifier's data (one wording per line).

Each entry is a regular expression matched case-insensitively against the subject and body of
the original notice. Prefer phrases in the platforms' own wording ("selling privileges have been
removed") over single words; a subject hit weighs more than a body hit (see classify.py).
`PRECEDENCE` settles ties: the cause wins over the consequence (an IP complaint that removed a
listing is an IP complaint).
"""

from __future__ import annotations

PRECEDENCE: tuple[str, ...] = (
    "appeal_decision",
    "legal",
    "suspension",
    "ip_complaint",
    "verification_request",
    "listing_removed",
    "claim_dispute",
    "policy_warning",
    "payment",
    "buyer_message",
    "policy_update",
)

# A category that wins outright once it scores this much: an appeal decision always talks about
# the suspension or complaint it decides on, so those words must not outvote it.
DOMINANT: dict[str, int] = {"appeal_decision": 3}

# Mail from no platform is only ever `legal` (a law firm's TRO notice) or `other`.
NON_PLATFORM_CATEGORIES: frozenset[str] = frozenset({"legal"})

_DONE = (
    r"(?:has been|have been|was|were|is now|are now|got|been)"
    r"(?:\s(?:permanently|temporarily|indefinitely|automatically|now|also))?"
)

PATTERNS: dict[str, dict[str, tuple[str, ...]]] = {
    "appeal_decision": {
        "nl": (
            r"(?:bedankt|dank) voor (?:je|uw) (?:beroep|bezwaar)",
            r"informatie nodig voor (?:je|uw) (?:beroep|bezwaar)",
            r"(?:beroep|bezwaar|actieplan).{0,60}(?:goedgekeurd|afgewezen|beoordeeld|geaccepteerd)",
            r"(?:opnieuw geactiveerd|hersteld)",
        ),
        "pl": (
            r"(?:odwołanie|plan działania).{0,60}(?:zaakceptowan|odrzucon|rozpatrzon)",
            r"(?:przywrócon|ponownie aktywowan)",
        ),
        "sv": (
            r"(?:överklagande|åtgärdsplan).{0,60}(?:godkänt|avslaget|granskat)",
            r"återställ|återaktiver",
        ),
        "en": (
            r"(?:your|the) (?:appeal|plan of action|POA|reinstatement request)\b.{0,40}\b"
            r"(?:has been|was|is) (?:approved|accepted|granted|rejected|denied|declined|reviewed"
            r"|unsuccessful|successful)",
            r"(?:reviewed|received and reviewed|evaluated) your (?:appeal|plan of action|POA"
            r"|reinstatement request)",
            r"(?:selling privileges|account|listings?|selling account)\s"
            + _DONE
            + r" (?:reinstated|reactivated|restored)",
            r"we (?:have )?(?:reinstated|reactivated|restored) your",
            r"(?:unable|not able) to (?:accept|approve|reinstate)",
            r"appeal (?:decision|outcome|result|status)",
            r"need(?:s)? (?:more|additional) information (?:to|before we can) (?:reinstate|review"
            r" your appeal)",
            r"(?:removed|lifted) the (?:\w+ )?restrictions? (?:on|from)",
            r"restrictions? (?:has|have) been (?:removed|lifted)",
            r"thank(?:s| you) for (?:your |submitting (?:your |an? )?)(?:appeal|plan of action"
            r"|POA)",
            r"(?:more|additional) information (?:about|regarding|on|for) your (?:appeal|plan of"
            r" action|POA)",
            r"reviewed the information you (?:sent|provided|submitted)",
        ),
        "de": (
            r"(?:Vielen )?Dank für Ihren (?:Einspruch|Widerspruch|Aktionsplan)",
            r"(?:Einspruch|Widerspruch|Aktionsplan|Beschwerde gegen die Entscheidung).{0,60}"
            r"(?:angenommen|abgelehnt|genehmigt|geprüft|stattgegeben)",
            r"(?:wieder ?hergestellt|wieder aktiviert|reaktiviert|wieder freigeschaltet)",
        ),
        "fr": (
            r"Merci (?:pour|d'avoir soumis) votre (?:appel|recours|plan d'action)",
            r"(?:appel|recours|plan d'action|contestation).{0,60}(?:accepté|rejeté|refusé|examiné"
            r"|approuvé)",
            r"(?:rétabli|réactivé|restauré)e?s?",
        ),
        "es": (
            r"Gracias por (?:tu|su|enviar (?:tu|su)) (?:apelación|recurso|plan de acción)",
            r"(?:apelación|recurso|plan de acción).{0,60}(?:aceptad|rechazad|aprobad|revisad"
            r"|denegad)[oa]",
            r"(?:restablecid|reactivad|restaurad)[oa]s?",
        ),
        "it": (
            r"Grazie per (?:il tuo|aver inviato il tuo|il) (?:ricorso|appello|piano d'azione)",
            r"(?:ricorso|appello|piano d'azione|contestazione).{0,60}(?:accettat|respint|approvat"
            r"|esaminat|rifiutat)[oa]",
            r"(?:ripristinat|riattivat)[oaie]",
        ),
        "ja": (
            r"(?:申し立て|改善計画書?|再開リクエスト|異議).{0,20}(?:審査結果|結果)",
            r"再開(?:することは)?できません",
            r"改善計画書?をご提出いただき",
            r"(?:申し立て|異議申し立て|改善計画|再開リクエスト).{0,30}(?:承認|却下|審査しました|確認しました|受理)",
            r"(?:再開|復元|回復)(?:されました|しました)",
        ),
        "zh": (
            r"感谢您(?:提交)?的?申诉",
            r"申诉(?:结果|审核结果|未通过|已通过|被驳回)",
            r"申诉[^，。,.\n]{0,8}(?:通过|成功|驳回|被拒|未通过|失败|结果|已审核|已处理)",
            r"(?:已|成功)恢复|恢复.{0,6}(?:销售|权限|账户|账号|店铺|商品|listing)",
        ),
    },
    "legal": {
        "nl": (r"rechtszaak", r"gerechtelijk(?:e)? (?:bevel|procedure)", r"rechtbank"),
        "pl": (r"pozew", r"nakaz sądowy|postanowienie sądu", r"\bsąd"),
        "sv": (r"stämning", r"domstolsbeslut|domstol"),
        "en": (
            r"lawsuit",
            r"temporary restraining order",
            r"\bTRO\b",
            r"court order",
            r"preliminary injunction",
            r"subpoena",
            r"schedule a defendants?",
            r"district court",
            r"(?:legal|court) proceedings?",
            r"funds?\b.{0,40}\b(?:frozen|restrained|held) .{0,40}(?:court|legal|judicial)",
            r"asset (?:freeze|restraint)",
        ),
        "de": (
            r"\bKlage\b",
            r"einstweilige(?:n)? Verfügung",
            r"Gerichtsbeschluss",
            r"gerichtlich",
            r"Landgericht|Amtsgericht",
        ),
        "fr": (
            r"action en justice",
            r"ordonnance (?:du tribunal|judiciaire)",
            r"procédure judiciaire",
            r"tribunal",
        ),
        "es": (r"demanda judicial", r"orden judicial", r"procedimiento judicial", r"tribunal"),
        "it": (
            r"causa legale",
            r"ordinanza del tribunale",
            r"provvedimento giudiziario",
            r"tribunale",
        ),
        "ja": (r"訴訟", r"裁判所", r"仮差止|差し止め命令"),
        "zh": (r"诉讼", r"法院", r"律师函", r"临时禁令|禁令", r"起诉", r"司法(?:冻结|程序)"),
    },
    "suspension": {
        "nl": (
            r"verkoopprivileges?.{0,40}(?:ingetrokken|gedeactiveerd|opgeschort|verwijderd)",
            r"(?:ingetrokken|gedeactiveerd|opgeschort).{0,30}verkoopprivileges?",
            r"(?:verkopers)?account.{0,30}(?:is|werd) (?:gedeactiveerd|opgeschort|geblokkeerd)",
        ),
        "pl": (
            r"uprawnienia do sprzedaży.{0,40}(?:zostały )?(?:zawieszone|cofnięte|dezaktywowane"
            r"|usunięte)",
            r"(?:zawiesiliśmy|dezaktywowaliśmy|cofnęliśmy).{0,30}(?:uprawnienia|konto)",
            r"konto.{0,30}zostało (?:zawieszone|dezaktywowane|zablokowane)",
        ),
        "sv": (
            r"försäljningsrättigheter.{0,40}(?:har )?(?:tagits bort|stängts av|inaktiverats"
            r"|spärrats)",
            r"(?:stängt av|inaktiverat|spärrat).{0,30}(?:ditt )?(?:konto|försäljningsrättigheter)",
            r"konto.{0,30}har (?:stängts av|inaktiverats|spärrats)",
        ),
        "en": (
            r"(?:privileges|account|store|shop)\s"
            + _DONE
            + r"\s(?:temporarily )?(?:suspended|deactivated|restricted|blocked|frozen|removed"
            r"|closed|disabled)",
            r"(?:deactivated|suspended|restricted|removed|blocked|frozen) your (?:[\w-]+ ){0,2}"
            r"(?:privileges|account|store|shop)",
            r"account (?:suspension|deactivation|restriction)",
            r"(?:your )?(?:account|store) (?:is|remains) (?:suspended|deactivated|on hold"
            r"|restricted|frozen)",
            r"selling privileges (?:removed|suspended)",
            r"(?:deactivated|suspended|removed|revoked)\b.{0,30}\bselling privileges",
        ),
        "de": (
            r"Verkaufsberechtigung.{0,60}(?:entzogen|deaktiviert|gesperrt|ausgesetzt|entfernt|eingeschränkt)",
            r"(?:Verkäuferkonto|Konto|Shop|Verkaufsberechtigungen?).{0,30}(?:wurde|ist|wurden|sind)\s(?:\w+\s){0,2}"
            r"(?:deaktiviert|gesperrt|eingeschränkt|ausgesetzt|entzogen)",
            r"(?:haben|hat) (?:Ihr|Ihren|Ihre|dein|deinen) .{0,30}(?:Konto"
            r"|Verkaufsberechtigung).{0,30}"
            r"(?:gesperrt|deaktiviert|eingeschränkt|ausgesetzt|entzogen)",
            r"Kontosperrung|Kontodeaktivierung",
        ),
        "fr": (
            r"privilèges de vente.{0,40}(?:supprimés|suspendus|désactivés|retirés|révoqués)",
            r"compte(?: vendeur)?.{0,30}(?:a été|est) (?:désactivé|suspendu|bloqué|restreint|gelé)",
            r"suspension de (?:votre )?compte",
            r"(?:désactivé|suspendu|supprimé|retiré|révoqué)s?.{0,30}privilèges de vente",
        ),
        "es": (
            r"privilegios de venta.{0,40}(?:suspendid|desactivad|retirad|eliminad|revocad)os",
            r"cuenta(?: de vendedor)?.{0,30}(?:ha sido|está) (?:desactivad|suspendid|bloquead"
            r"|restringid|congelad)a",
            r"suspensión de (?:su |tu )?cuenta",
            r"(?:desactivado|suspendido|retirado|eliminado|revocado).{0,30}privilegios de venta",
        ),
        "it": (
            r"privilegi di vendita.{0,40}(?:sospes|disattivat|rimoss|revocat)i",
            r"account(?: venditore)?.{0,30}(?:è stato|è) (?:sospeso|disattivato|bloccato|limitato)",
            r"sospensione (?:del(?:l')? ?)?account",
            r"(?:sospeso|disattivato|rimosso|revocato).{0,30}privilegi di vendita",
        ),
        "ja": (
            r"(?:出品|販売)(?:用)?(?:アカウント|権限).{0,20}(?:停止|無効|削除|制限)",
            r"アカウント(?:が|は).{0,10}(?:停止|無効化|制限)",
        ),
        "zh": (
            r"(?:店铺|账户|账号|帐户|帐号|销售权限|销售权)[^，。,.\n将会]{0,6}(?:已被|已经被|已|被)(?:冻结|封禁|关闭|暂停|停用|限制|移除|封)",
            r"(?<![将会能])(?:冻结|封禁|暂停|停用|关闭)(?:了)?(?:您的)?(?:店铺|账户|账号|销售权限)",
            r"(?:店铺|账户|账号)(?:冻结|封禁|关闭|停用)(?:通知|告知)",
        ),
    },
    "ip_complaint": {
        "nl": (
            r"intellectuele eigendom",
            r"merkinbreuk|handelsmerk|merkrecht",
            r"auteursrecht",
            r"namaak|nagemaakt",
            r"rechthebbende",
            r"inbreuk",
        ),
        "pl": (
            r"własności intelektualnej",
            r"znaku towarowego|znak towarowy",
            r"prawa autorskie|praw autorskich",
            r"podróbk|podrobion",
            r"właściciel praw",
            r"naruszeni[ea] praw",
        ),
        "sv": (
            r"immateriella rättigheter",
            r"varumärke",
            r"upphovsrätt",
            r"förfalskad|piratkopi",
            r"rättighetsinnehavare",
            r"intrång",
        ),
        "en": (
            r"intellectual property (?:complaint|rights?|infringement|violation|notice|policy)",
            r"(?:trademark|copyright|patent|design)s? (?:infringement|complaint|owner|holder"
            r"|violation|claim|rights)",
            r"\b(?:trademark|copyright|patent)\b(?! (?:©|\(c\)|\d))(?!s? of (?:amazon|ebay"
            r"|walmart))",
            r"counterfeit",
            r"rights? (?:owner|holder)",
            r"infring",
            r"\bVeRO\b",
            r"verified rights owner",
            r"notice of (?:claimed )?infringement",
            r"design right",
        ),
        "de": (
            r"geistige[ns]? Eigentum",
            r"Marke(?:nrecht|nverletzung|ninhaber)?\b",
            r"Urheberrecht",
            r"\bPatent",
            r"Rechteinhaber",
            r"Fälschung|gefälscht",
            r"Rechtsverletzung|Verletzung von Rechten",
        ),
        "fr": (
            r"propriété intellectuelle",
            r"marque(?: déposée| commerciale)?\b",
            r"droits? d'auteur",
            r"contrefaçon|contrefait",
            r"titulaire des droits",
            r"\bbrevet",
        ),
        "es": (
            r"propiedad intelectual",
            r"marca (?:registrada|comercial)",
            r"derechos de autor",
            r"falsificad[oa]s?|falsificación",
            r"titular de (?:los )?derechos",
            r"\bpatente",
            r"infracción de (?:marca|derechos)",
        ),
        "it": (
            r"proprietà intellettuale",
            r"marchio",
            r"diritto d'autore|diritti d'autore",
            r"contraffa",
            r"titolare dei diritti",
            r"\bbrevett",
        ),
        "ja": (r"知的財産", r"商標", r"著作権", r"特許", r"偽造品", r"権利者", r"権利侵害"),
        "zh": (r"知识产权", r"商标", r"版权", r"著作权", r"专利", r"侵权", r"假冒|仿冒", r"权利人"),
    },
    "verification_request": {
        "nl": (
            r"verificatie|verifiëren",
            r"(?:documenten|conformiteitsverklaring|testrapporten?|facturen)"
            r".{0,40}(?:uploaden|indienen|verstrekken)|(?:upload|verstrek).{0,40}(?:documenten|conformiteitsverklaring|testrapport)",
        ),
        "pl": (
            r"weryfikacj",
            r"(?:prześlij|dostarcz|przedłóż).{0,40}(?:dokumenty|certyfikat|deklaracj|faktur)",
        ),
        "sv": (
            r"verifiering|verifiera",
            r"(?:ladda upp|skicka in|tillhandahåll).{0,40}(?:dokument|intyg|fakturor)",
        ),
        "en": (
            r"(?:provide|submit|update|enter|add)\b.{0,30}\b(?:VAT|tax|EPR|WEEE|EORI|registration"
            r"|licen[cs]e) (?:registration )?(?:number|ID|information|details)",
            r"verify your (?:identity|information|business|account|details)",
            r"(?:identity|business|seller|account) verification(?! code)",
            r"(?:upload|provide|submit|send)(?: us)? (?:the )?(?:following |required |additional )?"
            r"(?:documents?|documentation|invoices?|certificates?|test reports?|information)",
            r"certificate of conformity|children's product certificate|\bCPC\b|\bGCC\b|test"
            r" reports?",
            r"\bFDA\b|\bCE (?:marking|certificate|mark)|declaration of conformity|\bUKCA\b|EPR"
            r" registration",
            r"\bKYC\b|know your customer|tax interview|W-8BEN|proof of address|safety data sheet",
            r"compliance (?:documents?|documentation|requirements?|review)",
            r"documents? (?:required|requested|needed)",
            r"(?:attach|send|provide|upload|submit)\b(?s:.{0,60})\b(?:invoices?|documents?|certificates?|receipts?|licen[cs]es?)\b",
        ),
        "de": (
            r"(?:Nachweis|Registrierung|Registrierungsnummer|Zertifikat|Unterlagen|Dokumente)\b.{0,40}\b(?:erforderlich|benötigt|angefordert)",
            r"hinterlegen Sie",
            r"Verifizierung|Identitätsprüfung|verifizieren|Identität",
            r"(?:bestätigen|verifizieren|überprüfen) Sie Ihre (?:Identität|Angaben|Daten"
            r"|Geschäftsdaten)",
            r"laden Sie .{0,60}(?:Unterlagen|Dokumente|Nachweise|Zertifikate"
            r"|Rechnungen).{0,80}\bhoch\b",
            r"(?:Dokumente|Unterlagen|Nachweise?|Rechnungen|Zertifikate?).{0,40}(?:hochladen|einreichen|bereitstellen|vorlegen|übermitteln)",
            r"Konformitätserklärung|Prüfbericht|Sicherheitsdatenblatt",
        ),
        "fr": (
            r"vérification (?:de votre |d'identité|du compte|de l'entreprise)|vérifier votre",
            r"(?:documents?|justificatifs?|factures?|certificats?).{0,40}(?:requis|demandés|fournir|télécharger|soumettre)",
            r"déclaration de conformité|rapport d'essai",
        ),
        "es": (
            r"verificación (?:de (?:su |tu )?identidad|de la cuenta|de la empresa)|verificar (?:su"
            r"|tu)",
            r"(?:documentos?|facturas?|certificados?).{0,40}(?:requeridos|solicitados|proporcionar|subir|enviar|presentar)",
            r"declaración de conformidad|informe de pruebas",
        ),
        "it": (
            r"verifica (?:dell'identità|dell'account|dell'azienda)|verificare (?:la tua|il tuo)",
            r"(?:documenti|fatture|certificati).{0,40}(?:richiesti|fornire|caricare|inviare)",
            r"dichiarazione di conformità|rapporto di prova",
        ),
        "ja": (
            r"本人確認",
            r"確認書類",
            r"書類.{0,10}(?:提出|アップロード)",
            r"適合証明|適合宣言|試験報告書",
        ),
        "zh": (
            r"核验|视频认证|实名认证",
            r"(?:身份|资质|账户|企业|店铺)(?:验证|认证|审核)",
            r"\bKYC\b",
            r"(?:提交|上传|提供|补充).{0,12}(?:资料|文件|证明|证书|发票|材料|资质)",
            r"(?:检测报告|合格证书|CPC|CE认证|认证证书)",
        ),
    },
    "listing_removed": {
        "nl": (
            r"(?:aanbieding|advertentie|product|artikel).{0,40}(?:is|werd|zijn) (?:verwijderd"
            r"|gedeactiveerd|geblokkeerd|onderdrukt)",
            r"(?:hebben|heeft) (?:je|uw|de) (?:aanbieding|advertentie|product).{0,30}(?:verwijderd"
            r"|gedeactiveerd)",
        ),
        "pl": (
            r"(?:oferta|ofertę|ogłoszenie|produkt).{0,40}(?:została|zostało|został) (?:usunięt"
            r"|dezaktywowan|zablokowan)",
            r"(?:usunęliśmy|dezaktywowaliśmy|zablokowaliśmy).{0,30}(?:ofert|ogłoszeni|produkt)",
        ),
        "sv": (
            r"(?:erbjudande|annons|produkt).{0,40}har (?:tagits bort|inaktiverats|spärrats)",
            r"(?:tagit bort|inaktiverat|spärrat) (?:ditt |det |följande )?(?:erbjudande|annons)",
        ),
        "en": (
            r"(?:listings?|products?|items?|ASINs?|offers?)\b.{0,60}\b"
            + _DONE
            + r" (?:removed|suppressed|deactivated|blocked|unpublished|delisted|taken down|ended"
            r"|cancelled by eBay)",
            r"(?:we|eBay|Amazon|Walmart) (?:have |has )?(?:removed|suppressed|deactivated|blocked"
            r"|unpublished|delisted)"
            r" (?:your |the |these |this |following |some )",
            r"(?:suppressed|removed|blocked|inactive|deactivated|unpublished) (?:listings?|items?"
            r"|products?)",
            r"listing (?:removal|deactivation|suppression)",
            r"(?:listings?|offers?|products?) (?:removed|suppressed|deactivated|blocked"
            r"|delisted)\b",
        ),
        "de": (
            r"(?:Angebote?|Artikel|Produkte?|ASINs?|Listings?).{0,60}(?:wurden?|ist|sind)"
            r" (?:entfernt|deaktiviert|gesperrt|unterdrückt|gelöscht)",
            r"(?:entfernte|deaktivierte|gesperrte|unterdrückte) (?:Angebote|Artikel|Produkte"
            r"|Listings)",
        ),
        "fr": (
            r"(?:offres?|annonces?|produits?|articles?|fiches?).{0,60}(?:a|ont) été"
            r" (?:supprimée?s?|retirée?s?|désactivée?s?|bloquée?s?|masquée?s?)",
        ),
        "es": (
            r"(?:ofertas?|anuncios?|productos?|artículos?|listings?).{0,60}(?:ha|han) sido"
            r" (?:eliminad|retirad|desactivad|bloquead|suprimid)[oa]s?",
        ),
        "it": (
            r"(?:offert[ae]|inserzion[ei]|prodott[oi]|articol[oi]).{0,60}(?:è stat[oa]|sono"
            r" stat[ie]) (?:rimoss|disattivat|bloccat|soppress)[oaie]",
        ),
        "ja": (
            r"(?:出品|商品|ASIN).{0,20}(?:削除|停止|非表示|無効)(?:されました|しました|されています)",
        ),
        "zh": (
            r"下架",
            r"(?:商品|产品|链接|listing|Listing).{0,10}(?:已被|被|已)(?:删除|移除|屏蔽|禁售|下线|停售)",
            r"(?:删除|移除|屏蔽)了?(?:您的)?(?:商品|产品|链接)",
        ),
    },
    "claim_dispute": {
        "nl": (
            r"A-tot-z-garantie|A-tot-z",
            r"terugboeking|chargeback",
            r"geschil",
            r"retourverzoek",
        ),
        "pl": (r"gwarancj[ai] od A do Z", r"obciążenie zwrotne", r"spór", r"wniosek o zwrot"),
        "sv": (r"A-till-Ö-garanti|A-till-Z", r"återkrav|chargeback", r"tvist", r"returbegäran"),
        "en": (
            r"A-to-z(?: Guarantee)? claim",
            r"A-to-z Guarantee",
            r"chargeback",
            r"\bdispute",
            r"(?:buyer|customer) (?:has )?(?:opened|filed|started|escalated) (?:a |an )?(?:case"
            r"|claim|return|dispute|request)",
            r"(?:return|refund) (?:request|case|dispute)",
            r"money back guarantee",
            r"item not received",
            r"not as described",
            r"SAFE-T claim",
            r"case (?:was|has been) (?:opened|escalated)",
        ),
        "de": (
            r"A-bis-z|A-z-Garantie",
            r"Rückbuchung|Rücklastschrift",
            r"(?:Rückgabe|Rücksendung|Erstattung)s?(?:anfrage|antrag)",
            r"Fall (?:eröffnet|geöffnet)|Käuferschutz|eBay-Garantie|Streitfall",
        ),
        "fr": (
            r"garantie A à Z|garantie A-à-z|garantie A-Z",
            r"rétrofacturation|contestation de paiement",
            r"\blitige",
            r"demande de (?:retour|remboursement)",
            r"réclamation",
        ),
        "es": (
            r"garantía de la A a la Z|Garantía A-Z",
            r"contracargo",
            r"\bdisputa",
            r"solicitud de (?:devolución|reembolso)",
            r"reclamación",
        ),
        "it": (
            r"garanzia dalla A alla Z|Garanzia A-Z",
            r"chargeback|riaddebito|storno",
            r"controversia",
            r"richiesta di (?:reso|rimborso)",
            r"reclamo",
        ),
        "ja": (
            r"マーケットプレイス保証",
            r"チャージバック",
            r"返品リクエスト|返金リクエスト",
            r"Ato?zリクエスト|申請",
        ),
        "zh": (
            r"(?:消费者|买家|顾客).{0,6}(?:申请|发起)(?:了)?(?:退货|退款|售后|纠纷)",
            r"退货退款",
            r"【售后】",
            r"A-to-Z|亚马逊商城交易保障",
            r"拒付|退单",
            r"纠纷",
            r"(?:退货|退款|售后)(?:请求|申请|纠纷)",
            r"争议",
        ),
    },
    "policy_warning": {
        "nl": (
            r"waarschuwing",
            r"schending van (?:ons |het )?beleid",
            r"accountstatus",
            r"in strijd met",
        ),
        "pl": (r"ostrzeżenie", r"naruszeni[ea] (?:zasad|polityki)", r"kondycja konta", r"niezgodn"),
        "sv": (r"varning", r"brott mot (?:vår |policyn)", r"kontohälsa", r"överträdelse"),
        "en": (
            r"policy violation",
            r"violat(?:ed|ion|es|ing)\b.{0,30}\bpolic",
            r"account health",
            r"at risk",
            r"performance (?:notification|warning|standards?|issue)",
            r"\bwarning\b",
            r"order defect rate|late shipment rate|cancellation rate|valid tracking rate|defect"
            r" rate",
            r"below (?:our|the) (?:standard|target|threshold)s?",
            r"below standard",
            r"seller level",
        ),
        "de": (
            r"Richtlinienverstoß|Verstoß gegen|verstößt gegen",
            r"Kontozustand",
            r"Warnung",
            r"Leistungskennzahl|Fehlerquote|Stornoquote|Verspätungsquote",
            r"Verkäuferleistung|Verkäuferstatus|Verkäuferstandard",
            r"verspätete(?:n)? (?:Lieferungen|Versand|Zustellungen)",
            r"Grenzwert|Unter Standard|herabgestuft",
        ),
        "fr": (
            r"violation (?:de|des) (?:la |nos )?(?:politique|règles|conditions)",
            r"santé du compte",
            r"avertissement",
            r"taux de (?:défaut|retard|annulation)",
        ),
        "es": (
            r"infracción de (?:la|las|nuestras) (?:política|normas)|incumplimiento de",
            r"estado de la cuenta",
            r"advertencia",
            r"tasa de (?:defectos|envíos con retraso|cancelación)",
        ),
        "it": (
            r"violazione (?:delle|della|di) (?:norme|politica|politiche|regole)",
            r"stato dell'account",
            r"avvertimento|avviso",
            r"tasso di (?:difettosità|ritardo|cancellazione)",
        ),
        "ja": (
            r"ポリシー違反|規約違反",
            r"アカウント健全性|アカウントヘルス",
            r"警告",
            r"注文不良率|出荷遅延率|キャンセル率",
        ),
        "zh": (
            r"违约金|罚款|扣款通知|处罚通知",
            r"(?:发货|履约|揽收)(?:超时|时效)",
            r"预警",
            r"超标",
            r"(?:客诉率|退货率|差评率|缺陷率|迟发率|取消率|纠纷率).{0,10}(?:超标|过高|高于|超过)",
            r"高于平台标准|低于平台标准",
            r"违反.{0,10}(?:政策|规则|规定|条款)",
            r"违规",
            r"账户(?:状况|健康)",
            r"警告",
            r"(?:绩效|指标|缺陷率|迟发率|取消率).{0,8}(?:不达标|过高|低于|超过)",
        ),
    },
    "payment": {
        "nl": (r"uitbetaling", r"betaling(?:en)? (?:ingehouden|opgeschort|vertraagd)", r"reserve"),
        "pl": (r"wypłat", r"płatnoś(?:ć|ci) (?:wstrzyman|opóźnion)", r"rezerw"),
        "sv": (r"utbetalning", r"betalning(?:ar)? (?:spärrad|försenad|innehållen)", r"reserv"),
        "en": (
            r"(?:holding|withholding|hold(?:ing)? back) (?:the |your )?(?:funds|payouts?|payments?"
            r"|disbursements?|proceeds)",
            r"(?:amount|funds|payouts?|payments?)s? on hold",
            r"(?:payouts?|payments?|funds) (?:is |are )?(?:on hold|paused|delayed)",
            r"disbursements? (?:is |are |has been |have been |was )?(?:delayed|on hold|held"
            r"|suspended|deferred|failed|paused)",
            r"(?:unable|could not|couldn't|were unable) (?:to )?(?:disburse|charge|collect"
            r"|transfer|pay)",
            r"(?:charge|payment|card) (?:was |has been )?(?:declined|failed|rejected)",
            r"(?:placed|put) (?:a )?(?:temporary )?hold on",
            r"(?:fund|payment|payout|disbursement)s? release",
            r"release of (?:the |your )?funds",
            r"funds?\b.{0,30}\b(?:delayed|on hold|held|frozen|withheld)",
            r"withdrawals?\b.{0,30}\b(?:on hold|suspended|delayed|frozen|rejected)",
            r"payment (?:hold|on hold|reserve|delay|schedule)",
            r"\breserve\b",
            r"funds? (?:are|is|have been|has been) (?:held|on hold|delayed|released)",
            r"payments? (?:are|is) (?:on hold|delayed)",
        ),
        "de": (
            r"Auszahlung",
            r"Zahlung(?:en)? (?:zurückgehalten|ausgesetzt|verzögert)",
            r"Rücklage|Reserve",
        ),
        "fr": (
            r"virement|versement",
            r"paiements? (?:retenus?|suspendus?|différés?)",
            r"réserve de",
        ),
        "es": (r"desembolso", r"pagos? (?:retenidos?|suspendidos?|en espera)", r"reserva de"),
        "it": (r"pagamento|bonifico|versamento", r"riserva"),
        "ja": (r"支払い|入金|振込", r"保留"),
        "zh": (
            r"提现.{0,10}(?:暂停|冻结|延迟|失败|审核)",
            r"资金.{0,6}(?:冻结|暂扣|延迟)",
            r"放款|回款|打款|提现|结算",
            r"(?:冻结|暂扣|预留).{0,6}(?:资金|货款)",
            r"货款|保证金",
        ),
    },
    "buyer_message": {
        "nl": (r"bericht van (?:een )?(?:koper|klant)",),
        "pl": (r"wiadomość od (?:kupującego|klienta)",),
        "sv": (r"meddelande från (?:en )?(?:köpare|kund)",),
        "en": (
            r"message from (?:a |the |your )?(?:buyer|customer)",
            r"(?:buyer|customer) (?:has )?sent you a message",
            r"you have (?:a )?new message",
            r"question from (?:a )?(?:buyer|customer)",
        ),
        "de": (
            r"Nachricht von (?:einem |Ihrem )?(?:Käufer|Kunden)",
            r"Käufer hat (?:Ihnen )?eine Nachricht",
        ),
        "fr": (r"message (?:d'un|de l'|du) (?:acheteur|client)",),
        "es": (r"mensaje (?:de un|del) (?:comprador|cliente)",),
        "it": (r"messaggio (?:da un|dall'|del) (?:acquirente|cliente)",),
        "ja": (r"購入者からのメッセージ|お客様からのメッセージ",),
        "zh": (r"买家(?:消息|留言|来信|咨询)|顾客(?:消息|留言)",),
    },
    "policy_update": {
        "nl": (
            r"wijziging(?:en)? (?:in|van|aan)",
            r"treedt .{0,30}in werking",
            r"nieuwe (?:vereiste|regels?|kosten)",
        ),
        "pl": (
            r"zmian[ay] (?:w|zasad|opłat)",
            r"wchodzi w życie|wejdzie w życie",
            r"nowe (?:wymagania|zasady|opłaty)",
        ),
        "sv": (r"ändring(?:ar)? (?:i|av)", r"träder i kraft", r"nya (?:krav|regler|avgifter)"),
        "en": (
            r"\bsellers (?:who|that) .{0,60}\b(?:must|will need to|are required to)\b",
            r"(?:policy|fee|fees|requirement|requirements|rules?|program|programme|terms)"
            r" (?:update|updates|change|changes)",
            r"we are (?:updating|changing|introducing|launching)",
            r"important (?:changes|update)",
            r"new (?:requirements?|policy|policies|fees?|rules?)",
            r"(?:will|to) (?:take effect|become effective|go into effect)",
            r"(?:takes?|goes?) (?:effect|into effect)",
            r"effective (?:from|on|as of)",
            r"changes to (?:our|the|\w+ fees|(?:\w+ )?(?:fees?|polic|requirements?|terms|rules?))",
            r"updates? to (?:\w+ )?(?:fees?|polic\w+|requirements?|terms|rules?)",
            r"updated? (?:our|the) ",
        ),
        "de": (
            r"Änderung(?:en)? (?:der|an den|unserer|an unseren|von)",
            r"Aktualisierung",
            r"tritt .{0,40}in Kraft",
            r"neue (?:Anforderung|Richtlinie|Gebühr)",
            r"Gebührenänderung",
        ),
        "fr": (
            r"mise à jour",
            r"évolution (?:des|de nos) (?:frais|tarifs|règles|conditions|politiques?)",
            r"(?:frais|tarifs)\b.{0,60}\b(?:évolueront|changeront|augmenteront|évoluent)",
            r"modifications? (?:de|des|apportées)",
            r"entrer(?:a|ont) en vigueur",
            r"nouvel(?:le)?s? (?:exigences?|politiques?|frais|règles?)",
        ),
        "es": (
            r"actualización",
            r"cambios? (?:en|de) (?:la|las|los|nuestr)",
            r"entrará(?:n)? en vigor",
            r"nuev[oa]s? (?:requisitos?|políticas?|tarifas?|normas?)",
        ),
        "it": (
            r"aggiornamento",
            r"modifiche (?:alle|alla|ai|al|delle)",
            r"entrerà(?:nno)? in vigore",
            r"nuov[oaie] (?:requisit|politic|tariff|regol)",
        ),
        "ja": (r"変更のお知らせ|改定|更新のお知らせ|新しい(?:要件|ポリシー|手数料)|施行",),
        "zh": (
            r"政策(?:更新|调整|变更)|规则(?:更新|变更|调整)|新规|费用调整|(?:将于|自).{0,20}(?:生效|起实施|起执行)",
        ),
    },
}
