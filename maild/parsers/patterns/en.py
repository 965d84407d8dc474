"""English wording of each category (see `maild.parsers.patterns`)."""

from __future__ import annotations

PATTERNS: dict[str, tuple[str, ...]] = {
    "appeal_decision": (
        r"(?:your|the) (?:appeal|plan of action|POA|reinstatement request)\b.{0,40}\b(?:has been"
        r"|was|is) (?:approved|accepted|granted|rejected|denied|declined|reviewed|unsuccessful"
        r"|successful)",
        r"(?:reviewed|received and reviewed|evaluated) your (?:appeal|plan of action|POA"
        r"|reinstatement request)",
        r"(?:selling privileges|account|listings?|selling account)\s(?:has been|have been|was"
        r"|were|is now|are now|got|been)(?:\s(?:permanently|temporarily|indefinitely"
        r"|automatically|now|also))? (?:reinstated|reactivated|restored)",
        r"we (?:have )?(?:reinstated|reactivated|restored) your",
        r"(?:unable|not able) to (?:accept|approve|reinstate)",
        r"appeal (?:decision|outcome|result|status)",
        r"need(?:s)? (?:more|additional) information (?:to|before we can) (?:reinstate|review"
        r" your appeal)",
        r"(?:removed|lifted) the (?:\w+ )?restrictions? (?:on|from)",
        r"restrictions? (?:has|have) been (?:removed|lifted)",
        r"thank(?:s| you) for (?:your |submitting (?:your |an? )?)(?:appeal|plan of action|POA)",
        r"(?:more|additional) information (?:about|regarding|on|for) your (?:appeal|plan of"
        r" action|POA)",
        r"reviewed the information you (?:sent|provided|submitted)",
    ),
    "legal": (
        r"lawsuit",
        r"temporary restraining order",
        r"\bTRO\b",
        r"court order",
        r"preliminary injunction|freezing (?:injunction|order)|\binjunction issued",
        r"subpoena",
        r"schedule a defendants?",
        r"district court",
        r"(?:legal|court) proceedings?",
        r"funds?\b.{0,40}\b(?:frozen|restrained|held) .{0,40}(?:court|legal|judicial)",
        r"asset (?:freeze|restraint)",
        r"named (?:you |your (?:store|shop|account) )?as (?:a |one of the )?defendants?",
        r"restrain(?:ed|s)? (?:the |your )?(?:funds|assets|accounts?)\b.{0,40}\b(?:court|order)"
        r"|(?:court|order)\b.{0,60}\brestrain(?:ed)? (?:the )?(?:funds|assets)",
    ),
    "suspension": (
        r"(?:privileges|account|store|shop)\s(?:has been|have been|was|were|is now|are now|got"
        r"|been)(?:\s(?:permanently|temporarily|indefinitely|automatically|now|also"
        r"|immediately))?\s(?:temporarily )?(?:suspended|deactivated|restricted|blocked|frozen"
        r"|removed|closed|disabled|terminated|revoked|locked|limited|paused|banned"
        r"|(?:placed|put) on hold)",
        r"(?:deactivated|suspended|restricted|removed|blocked|frozen|revoked|terminated|closed"
        r"|disabled|locked|banned|paused) your (?:[\w.-]+ ){0,2}(?:privileges|account|store|shop)",
        r"account (?:suspension|deactivation|restriction|termination|closure)",
        r"(?:your )?(?:account|store) (?:is|remains) (?:currently )?(?:suspended|deactivated|on"
        r" hold|restricted|frozen|inactive|disabled|locked)",
        r"(?:selling|listing) privileges (?:removed|suspended|revoked|deactivated)",
        r"(?:deactivated|suspended|removed|revoked)\b.{0,30}\b(?:selling|listing) privileges",
        r"(?:can(?:no|')t|cannot|no longer) (?:sell|list)\b.{0,30}\bwhile your account",
        r"(?:limited|restricted|suspended|paused|blocked|revoked|removed) your (?:ability to"
        r" (?:sell|list)|selling(?: (?:privileges|activity|activities|rights))?)\b",
        r"your (?:ability to (?:sell|list)|selling(?: (?:privileges|activity|activities|rights))?)"
        r" (?:has been|have been|is|are|was|were) (?:now |temporarily )?(?:limited|restricted"
        r"|suspended|paused|blocked|revoked)",
        r"(?:selling|listing) (?:restriction|suspension|ban)s? (?:has|have) been (?:placed|applied"
        r"|put)",
        r"(?:selling privileges|selling account|seller account)\b.{0,30}\b(?:has|have) been"
        r" (?:taken away|withdrawn|removed|revoked|deactivated|suspended|terminated)",
        r"(?:ended|terminated|cancell?ed) (?:your|the) (?:[\w-]+ ){0,4}(?:Retailer|Seller|Selling"
        r"|Services|Partner) Agreement",
        r"(?:your|the) (?:seller |selling )?account and (?:[\w-]+ ){0,6}(?:have|has) been"
        r" (?:deactivated|suspended|closed|terminated)",
        r"\byou (?:will not|won't|can(?:no|')t|cannot|are not able to|will no longer be able to"
        r"|are unable to) (?:be able to )?sell (?:on|in|at) (?:Amazon|eBay|Walmart|Temu|SHEIN"
        r"|AliExpress|the (?:marketplace|site|store))",
        r"(?:how (?:do|can) I|to|request to) reactivate (?:your|my) (?:selling |seller )?account",
        r"(?:decided to|will now|are going to) (?:permanently )?(?:close|deactivate|suspend"
        r"|terminate|disable|restrict) your (?:[\w.-]+ ){0,2}(?:account|store|shop|privileges)",
    ),
    "ip_complaint": (
        r"intellectual property (?:complaint|rights?|infringement|violation|notice|policy)",
        r"(?:trademark|copyright|patent|design)s? (?:infringement|complaint|owner|holder"
        r"|violation|claim|rights)",
        r"\b(?:trademark|copyright|patent)\b(?! (?:©|\(c\)|\d))(?!s? of (?:amazon|ebay|walmart))",
        r"counterfeit",
        r"rights? (?:owner|holder)",
        r"infring",
        r"\bVeRO\b",
        r"verified rights owner",
        r"notice of (?:claimed )?infringement",
        r"design right",
    ),
    "verification_request": (
        r"(?:provide|submit|update|enter|add)\b.{0,30}\b(?:VAT|tax|EPR|WEEE|EORI|registration"
        r"|licen[cs]e) (?:registration )?(?:number|ID|information|details)",
        r"verify your (?:identity|information|business|account|details)",
        r"(?:identity|business|seller|account) verification(?! code)",
        r"verification code (?:is )?(?:required|needed)|(?:enter|submit) (?:the|this) verification"
        r" code|(?:brand|trademark|rights) (?:registry )?verification",
        r"(?:upload|submit|provide|send)\b.{0,30}\b(?:photos?|pictures?|images?) (?:of|showing)"
        r" (?:the |your )?(?:\w+ )?(?:products?|packaging|labels?|items?|invoices?|certificates?)",
        r"(?:confirm|verify|update) your (?:tax|identity|business|bank|payment) (?:information"
        r"|details)",
        r"(?:upload|provide|submit|send)(?: us)? (?:the )?(?:following |required |additional"
        r" )?(?:documents?|documentation|invoices?|certificates?|test reports?|information)",
        r"certificate of conformity|children's product certificate|\bCPC\b|\bGCC\b|test reports?",
        r"\bFDA\b|\bCE (?:marking|certificate|mark)|declaration of conformity|\bUKCA\b|EPR"
        r" registration",
        r"\bKYC\b|know your customer|tax interview|W-8BEN|proof of address|safety data sheet",
        r"bank statement|utility bill|business licen[cs]e|passport|national ID|(?:could(?: not|n't)"
        r"|were unable to|unable to) verify",
        r"compliance (?:documents?|documentation|requirements?|review)",
        r"documents? (?:required|requested|needed)",
        r"(?:attach|send|provide|upload|submit)\b(?s:.{0,60})\b(?:invoices?|documents?"
        r"|certificates?|receipts?|licen[cs]es?)\b",
    ),
    "listing_removed": (
        r"(?:listings?|products?|items?|ASINs?|offers?)\b.{0,60}\b(?:has been|have been|was|were"
        r"|is now|are now|got|been)(?:\s(?:permanently|temporarily|indefinitely|automatically|now"
        r"|also))? (?:removed|suppressed|deactivated|blocked|unpublished|delisted|taken down"
        r"|ended|cancelled by eBay|retired|deleted|disabled|hidden|made inactive)",
        r"(?:we|eBay|Amazon|Walmart) (?:have |has )?(?:removed|suppressed|deactivated|blocked"
        r"|unpublished|delisted|retired|deleted|taken down) (?:your |the |these |this |following"
        r" |some )",
        r"(?:suppressed|removed|blocked|inactive|deactivated|unpublished|retired|delisted)"
        r" (?:listings?|items?|products?|offers?)",
        r"listing (?:removal|deactivation|suppression)",
        r"(?:listings?|offers?|products?|items?|ASINs?|SKUs?) (?:removed|suppressed|deactivated"
        r"|blocked|delisted|unpublished|taken down|taken offline|retired|hidden|disabled)\b",
        r"(?:taken|set|put|gone) offline|(?:goods|products?|items?|listings?)\b.{0,40}\b(?:have"
        r" been|has been|were|was) (?:taken offline|retired|stopped)",
        r"(?:removed|taken down|unpublished|delisted|blocked) from (?:sale|search|the catalog|all"
        r" (?:\w+ )?(?:sites|marketplaces|stores))",
    ),
    "claim_dispute": (
        r"A-to-z(?: Guarantee)? claim",
        r"A-to-z Guarantee",
        r"chargeback",
        r"\bdispute",
        r"(?:buyer|customer) (?:has )?(?:opened|filed|started|escalated) (?:a |an )?(?:case|claim"
        r"|return|dispute|request)",
        r"(?:return|refund) (?:request|case|dispute)",
        r"money back guarantee",
        r"item not received",
        r"not as described",
        r"SAFE-T claim",
        r"case (?:was|has been) (?:opened|escalated)",
        r"(?:buyer|customer)s?\b.{0,20}\b(?:hasn't|has not|haven't|have not|didn't|did not"
        r"|never) (?:received|receive|gotten|got)\b",
        r"(?:item|order|package|parcel|shipment) (?:hasn't|has not|never|didn't|did not)"
        r" (?:arrived|arrive|been delivered|been received)",
        r"ask(?:s|ed)? (?:eBay|Amazon|Walmart|us) to (?:step in|get involved|help)",
    ),
    "policy_warning": (
        r"policy violation",
        r"violat(?:ed|ion|es|ing)\b.{0,30}\bpolic",
        r"account health",
        r"at risk",
        r"performance (?:notification|warning|standards?|issue)",
        r"\bwarning\b",
        r"order defect rate|late shipment rate|cancellation rate|valid tracking rate|defect rate",
        r"below (?:our|the) (?:standard|target|threshold)s?",
        r"below standard",
        r"seller level",
        r"\bpenalt(?:y|ies)\b|\bfined\b|\ba fine of\b",
        r"(?:fulfil?lment|shipping|shipment|listing|performance|conduct|operational?)"
        r" (?:violation|infraction)s?",
        r"violat(?:ed|ion|es|ing)\b.{0,40}\b(?:rules?|standards?|requirements?|guidelines|terms)",
        r"\blate (?:shipments?|dispatch(?:es)?|deliver(?:y|ies))\b",
    ),
    "payment": (
        r"(?:paused|held|withheld|delayed|suspended|stopped|froze|frozen) (?:your |the |all )?"
        r"(?:payouts?|payments?|disbursements?|settlements?|funds|proceeds)",
        r"settlements?\b.{0,50}\b(?:is|are|has been|have been|was|were|remains?) (?:on hold|held"
        r"|delayed|deferred|paused|suspended|withheld)",
        r"(?:settlement|payout|payment) holds?\b|held as (?:a )?reserve|reserve of",
        r"(?:holding|withholding|hold(?:ing)? back) (?:the |your )?(?:funds|payouts?|payments?"
        r"|disbursements?|proceeds)",
        r"(?:amount|funds|payouts?|payments?)s? on hold",
        r"(?:payouts?|payments?|funds) (?:is |are )?(?:on hold|paused|delayed)",
        r"disbursements? (?:is |are |has been |have been |was )?(?:delayed|on hold|held|suspended"
        r"|deferred|failed|paused)",
        r"(?:unable|could not|couldn't|were unable) (?:to )?(?:disburse|charge|collect|transfer"
        r"|pay)",
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
    "buyer_message": (
        r"message from (?:a |the |your )?(?:buyer|customer)",
        r"(?:buyer|customer) (?:has )?sent you a message",
        r"you have (?:a )?new message",
        r"question from (?:a )?(?:buyer|customer)",
    ),
    "policy_update": (
        r"\bsellers (?:who|that) .{0,60}\b(?:must|will need to|are required to)\b",
        r"(?:policy|fee|fees|requirement|requirements|rules?|program|programme|terms) (?:update"
        r"|updates|change|changes)",
        r"we(?:'re| are| will be) (?:updating|changing|introducing|launching|revising|replacing"
        r"|retiring|making (?:some )?changes)",
        r"\bchanges? (?:starting|beginning|effective|coming)\b",
        r"important (?:changes|update)",
        r"new (?:requirements?|policy|policies|fees?|rules?)",
        r"(?:will|to) (?:take effect|become effective|go into effect)",
        r"(?:takes?|goes?) (?:effect|into effect)",
        r"effective (?:from|on|as of)",
        r"changes? to (?:our|the|\w+ fees|(?:\w+ )?(?:fees?|polic|requirements?|terms|rules?))",
        r"(?:upcoming|planned) (?:changes?|updates?)",
        r"fees? (?:will|are going to) (?:change|increase|decrease|be (?:reduced|increased"
        r"|updated|changed|lowered|raised))",
        r"updates? to (?:\w+ )?(?:fees?|polic\w+|requirements?|terms|rules?)",
        r"updated? (?:our|the) ",
    ),
}

# Cues the precedence rules read (see `maild.parsers.precedence`): what hedges a phrase anywhere in
# its sentence ("may"), what puts the rest of a sentence under a condition ("if", "otherwise"),
# what makes a mail a newsletter or a routine report, what says nothing is wrong, who complained,
# and what holds money back.
CUES: dict[str, tuple[str, ...]] = {
    "hedge": (
        r"\b(?:may|might|could|can|would|possible|potential|future|risk of|lead to|result in"
        r"|repeated|learn|how to|tips?)\b(?!'t| not\b)",
    ),
    "condition": (r"\b(?:if|unless|otherwise|or else|avoid|prevent)\b",),
    "newsletter": (
        r"\bnewsletter\b",
        r"\bweekly (?:roundup|digest|update)\b|\broundup\b|\bdigest\b",
        r"\bin this (?:issue|edition)\b|\bthis week in\b",
        r"\b(?:monthly|weekly|march|april|spring|summer|autumn|fall|winter) edition\b",
        r"\bunsubscribe\b|\byou are receiving this (?:newsletter|email because you subscribed)",
    ),
    "report": (
        r"\b(?:monthly|weekly|quarterly)\b.{0,30}\b(?:summary|report|scorecard|review)\b",
        r"\b(?:scorecard|performance evaluation|seller level was evaluated|account health"
        r" summary|performance summary)\b",
    ),
    "all_clear": (
        r"\bnothing (?:you need|for you) to do\b",
        r"\bno (?:further )?action (?:is )?(?:required|needed)\b",
        r"\b(?:you(?:'re| are)|your account) meet(?:s|ing)? all\b|\bmeets? all of our\b",
        r"\bno (?:policy )?violations\b|\bviolations: none\b",
    ),
    "rights_owner": (
        r"\brights? (?:owner|holder)|\bbrand owner|\btrademark owner|\bVeRO\b"
        r"|\bowner of the (?:trademark|brand|copyright|patent|design)",
        r"\b(?:complaint|claim|notice|report) from (?:a |the )?(?:rights|brand|trademark"
        r"|copyright)",
    ),
    "hold": (
        r"\b(?:on hold|hold on|payment hold|(?:temporary )?hold|held|holding|withh[eo]ld\w*"
        r"|reserve|kept back|frozen|paused|deferred)\b",
    ),
}
