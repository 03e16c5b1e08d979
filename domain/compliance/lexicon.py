"""Disclosure wording per language, matched on folded text (domain/compliance/text.py).

Each clear wording has a kind: "ad" (the word advertisement itself: #ad, Werbung, #publicidad,
広告), "sponsored" (sponsored, paid partnership, a brand-name partnership hashtag, "brought to
you by <brand>") or "gift" (a free product: "<brand> gifted me", "thanks <brand> for the free
..."). The FTC accepts all three; the UK's ASA only the first. `{brand}` stands for the brand's
name as a pattern, `{tag}` for it written as one hashtag word."""

from __future__ import annotations

# Word edges for Latin-script words, also next to Japanese letters (which are "word" characters).
L = r"(?<![a-z0-9\u00c0-\u024f])"
R = r"(?![a-z0-9\u00c0-\u024f])"

CLEAR: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("ad", rf"#(?:ad|advert|advertisement|advertising|paidad|adpost|adspace){R}"),
        ("ad", r"[|\u2022\u00b7\u2013\u2014-]\s*ad\s*(?:$|\n)"),
        ("ad", rf"{L}(?:advert|advertisement)(?: feature)?{R}"),
        ("ad", rf"{L}paid ad{R}"),
        ("ad", rf"{L}(?:this|it|that|post|video|reel)(?:'s| is| was)? (?:an? )?(?:paid )?ad{R}"),
        ("ad", rf"(?:^|(?<=\n))[^\S\n]*[\[(]?ad{R}(?! [a-z])"),
        ("ad", r"[\[(|]\s*ad\s*[\])|]"),
        ("ad", rf"{L}ad\s*[:|]"),
        (
            "sponsored",
            rf"#(?:sponsored|paidpartnership|paidpromotion|paidpromo|paidpost)"
            rf"(?:post|content|ad|video|reel)?{R}",
        ),
        ("sponsored", rf"{L}sponsored{R}"),
        ("sponsored", rf"{L}paid (?:partnership|promotion|collab(?:oration)?){R}"),
        ("sponsored", rf"{L}(?:our|today's|todays|this video's|my) sponsor{R}"),
        ("sponsored", rf"{L}brought to you by {{brand}}"),
        ("sponsored", rf"#{{tag}}_?(?:partner|ambassador|sponsored){R}"),
        ("sponsored", rf"{L}{{brand}}[ -](?:partner|ambassador){R}"),
        ("sponsored", rf"{L}(?:in (?:paid )?partnership|partnered|paid) (?:with|by) {{brand}}"),
        ("gift", rf"#(?:gifted|giftedby{{tag}}|{{tag}}gifted|prgift|freeproduct){R}"),
        ("gift", rf"{L}{{brand}} (?:gifted|sent|gave) me{R}"),
        ("gift", rf"{L}(?:gifted|sent|given) (?:to me )?by {{brand}}"),
        ("gift", rf"{L}(?:a )?gift(?:ed)? from {{brand}}"),
        (
            "gift",
            rf"{L}thanks?(?: you)?(?: so much)?(?: to)? {{brand}},? for (?:the|this|these|"
            rf"my|sending(?: me)?(?: the| this| these)?)? ?(?:free|complimentary|gifted){R}",
        ),
        ("gift", rf"{L}free (?:product|sample|samples|products|gift) from {{brand}}"),
        ("gift", rf"{L}{{brand}} sent (?:me )?(?:this|these|it|them) (?:to me )?for free{R}"),
    ],
    "es": [
        ("ad", rf"#?{L}(?:publicidad|anuncio|publi){R}"),
        ("sponsored", rf"#?{L}patrocinad[oa]s?{R}"),
        ("sponsored", rf"{L}colaboraci[oó]n (?:pagada|remunerada|comercial){R}"),
        ("gift", rf"{L}(?:regalo|regalado) (?:de|por) {{brand}}"),
        ("gift", rf"{L}{{brand}} me (?:lo |la |los |las )?(?:regal[oó]|envi[oó] gratis){R}"),
        ("gift", rf"{L}producto (?:gratuito|gratis|regalado)(?: de {{brand}})?"),
    ],
    "fr": [
        ("ad", rf"#?{L}(?:publicit[eé]|pub){R}"),
        ("ad", rf"{L}collaboration commerciale{R}"),
        ("sponsored", rf"#?{L}sponsoris[eé]e?s?{R}"),
        ("sponsored", rf"{L}partenariat (?:r[eé]mun[eé]r[eé]|pay[eé]|commercial){R}"),
        ("gift", rf"{L}(?:offert|envoy[eé]) (?:gratuitement )?par {{brand}}"),
        ("gift", rf"{L}cadeau de {{brand}}"),
    ],
    "de": [
        ("ad", rf"#?{L}(?:unbezahlte |unbeauftragte )?(?:werbung|anzeige|reklame){R}"),
        ("sponsored", rf"{L}bezahlte (?:partnerschaft|kooperation|werbepartnerschaft){R}"),
        ("sponsored", rf"#?{L}gesponsert{R}"),
        ("gift", rf"{L}(?:geschenkt|kostenlos zur verf[uü]gung gestellt) von {{brand}}"),
    ],
    "it": [
        ("ad", rf"#?{L}(?:pubblicit[aà]|adv|advertising|inserzioneapagamento){R}"),
        ("ad", rf"{L}inserzione a pagamento{R}"),
        ("sponsored", rf"#?{L}sponsorizzat[oaie]{R}"),
        ("sponsored", rf"{L}(?:partnership|collaborazione) (?:retribuita|pagata|a pagamento){R}"),
        ("gift", rf"{L}(?:regalo|omaggio) (?:di|da) {{brand}}"),
        ("gift", rf"{L}prodotto (?:fornito|inviato|regalato) da {{brand}}"),
    ],
    "pt": [
        ("ad", rf"#?{L}(?:publicidade|publi|publipost|an[uú]ncio){R}"),
        ("sponsored", rf"#?{L}patrocinad[oa]s?{R}"),
        ("sponsored", rf"{L}(?:parceria|colabora[cç][aã]o) (?:paga|remunerada|comercial){R}"),
        ("sponsored", rf"#parceriapaga{R}"),
        ("sponsored", rf"{L}conte[uú]do pago{R}"),
        ("gift", rf"{L}(?:presente|recebido) d[aeo] {{brand}}"),
    ],
    "nl": [
        ("ad", rf"#?{L}(?:reclame|advertentie|adv){R}"),
        ("sponsored", rf"#?{L}gesponsord{R}"),
        ("sponsored", rf"{L}betaalde (?:samenwerking|partnerschap){R}"),
        ("sponsored", rf"#betaaldesamenwerking{R}"),
        ("gift", rf"{L}(?:gekregen|cadeau) van {{brand}}"),
    ],
    "ja": [
        ("ad", r"広告|宣伝|プロモーション"),
        ("ad", rf"[#【\[(]?{L}pr{R}[】\])]?"),
        ("sponsored", r"タイアップ|スポンサー|案件提供|提供:|{brand}提供|{brand}さん?の提供"),
        ("gift", r"{brand}(?:さん|様)?(?:から|より)(?:商品|製品)?(?:を)?(?:提供|いただ|頂)"),
        ("gift", r"商品(?:を)?提供"),
    ],
}

# Words that fall short of a disclosure (Disclosures 101: "#sp", "#spon", "#collab", "thanks",
# "ambassador" alone).
VAGUE: dict[str, list[str]] = {
    "en": [
        rf"#(?:sp|spon|collab|collaboration|thanks|thankyou|ambassador|partner|partnership|"
        rf"sponsor|sponsorship|brandambassador|brandpartner|affiliate){R}",
        rf"{L}(?:spon|collab){R}",
        rf"(?:^|(?<=\n))\s*thanks?{R}",
        rf"{L}(?:a|an|proud|brand) (?:ambassador|partner){R}",
        rf"{L}in (?:collaboration|collab|association) with{R}",
        rf"{L}thanks?(?: you)?(?: so much)?(?: to)? {{brand}}{R}",
        rf"{L}made possible by{R}",
    ],
    "es": [rf"#(?:colab|colaboracion|colaboración|spon){R}", rf"{L}en colaboraci[oó]n con{R}",
           rf"(?:^|(?<=\n))\s*gracias{R}"],
    "fr": [rf"#(?:collab|partenariat|spon){R}", rf"{L}en partenariat avec{R}",
           rf"(?:^|(?<=\n))\s*merci{R}"],
    "de": [rf"#(?:kooperation|koop|spon|collab){R}", rf"{L}in kooperation mit{R}",
           rf"(?:^|(?<=\n))\s*danke{R}"],
    "it": [rf"#(?:collab|collaborazione|spon){R}", rf"{L}in collaborazione con{R}",
           rf"(?:^|(?<=\n))\s*grazie{R}"],
    "pt": [rf"#(?:parceria|collab|spon){R}", rf"{L}em parceria com{R}",
           rf"(?:^|(?<=\n))\s*obrigad[ao]{R}"],
    "nl": [rf"#(?:samenwerking|collab|spon){R}", rf"{L}in samenwerking met{R}",
           rf"(?:^|(?<=\n))\s*bedankt{R}"],
    "ja": [r"コラボ|ありがとう|#?案件"],
}  # fmt: skip

# Words that, shortly before a disclosure word, deny it ("not sponsored", "no es publicidad",
# "I turned down a paid partnership").
NEGATORS: dict[str, str] = {
    "en": rf"{L}(?:not|no|never|isn't|isnt|wasn't|wasnt|aren't|ain't|without|non|zero|nothing"
    rf"|turned down|declined|refused|rejected|said no to|passed on|nobody|no one|neither|nor)"
    rf"{R}|n't{R}",
    "es": rf"{L}(?:no|nunca|sin|ni|tampoco|rechac[eé]|nada de){R}",
    "fr": rf"{L}(?:pas|non|sans|aucun|aucune|jamais|ni|refus[eé]|n'est|ce n'est){R}",
    "de": rf"{L}(?:kein|keine|keinen|keiner|nicht|ohne|nie|niemals|abgelehnt){R}",
    "it": rf"{L}(?:non|senza|nessun|nessuna|mai|rifiutato){R}",
    "pt": rf"{L}(?:n[aã]o|sem|nenhum|nenhuma|nunca|recusei){R}",
    "nl": rf"{L}(?:geen|niet|zonder|nooit|afgewezen){R}",
    "ja": r"非",
}
# In Japanese the denial follows the word: 広告ではありません, PRじゃない.
NEGATED_AFTER: dict[str, str] = {
    "ja": r"^\s*(?:で(?:は|も)(?:ない|なく|ありません|ございません)"
    r"|じゃ(?:ない|なく|ありません)|なし|無し)",
    "de": r"^\s*(?:\?\s*)?(?:nein|ist das nicht)\b",
}

# Claims of independence that deny a paid relationship without a disclosure word in them.
DENIALS: dict[str, list[str]] = {
    "en": [
        rf"#(?:not|non|no|un)_?(?:an?_?)?(?:ad|advert|sponsored|spon|sponsor|paid){R}",
        rf"{L}(?:un|non)-?sponsored{R}",
        rf"{L}(?:nobody|no one|no-one|no brand|not) (?:paid|sponsored|sent|asked) me{R}",
        rf"{L}not (?:paid|sponsored|gifted){R}",
        rf"{L}(?:not|isn't|isnt|wasn't|wasnt|never|no) (?:an? |a paid |really |even )?(?:ad|advert"
        rf"|advertisement|sponsored|sponsorship|paid (?:post|partnership|promotion|ad)){R}",
        rf"{L}(?:bought|paid for|purchased) (?:it|this|these|them|everything|all of (?:it|this))"
        rf" (?:myself|with my own money){R}",
        rf"{L}with my own (?:money|cash){R}",
    ],
    "es": [rf"#no_?(?:es_?)?(?:publicidad|patrocinado|publi){R}",
           rf"{L}lo compr[eé] (?:yo|con mi dinero){R}", rf"{L}no me (?:pagaron|pagan){R}"],
    "fr": [rf"#(?:non|pas)_?(?:sponsoris[eé]e?|pub|publicit[eé]){R}",
           rf"{L}achet[eé]e? (?:moi-m[eê]me|avec mon argent){R}"],
    "de": [rf"#(?:keine|kein|nicht)_?(?:werbung|anzeige|gesponsert){R}",
           rf"{L}selbst gekauft{R}"],
    "it": [rf"#non_?(?:sponsorizzato|pubblicit[aà]|adv){R}",
           rf"{L}(?:l'ho )?comprato (?:da me|io|con i miei soldi){R}"],
    "pt": [rf"#n[aã]o_?(?:patrocinado|publi|publicidade){R}",
           rf"{L}comprei com (?:o )?meu dinheiro{R}"],
    "nl": [rf"#(?:geen|niet)_?(?:reclame|gesponsord|adv){R}", rf"{L}zelf gekocht{R}"],
    "ja": [r"(?:pr|広告|案件)(?:で(?:は|も)|じゃ)(?:ない|なく|ありません)",
           r"自腹|自分で購入|自分で買"],
}  # fmt: skip

# "ad" in senses that are not advertising: ad hoc, ad-free, ad nauseam, 1200 AD, an ad blocker.
NOT_AN_AD_AFTER = (
    r"^[\s_-]*(?:hoc|free|infinitum|nauseam|lib|libs|libbed|libbing|hominem|interim|absurdum|"
    r"astra|valorem|personam|blocker|blockers|blocking|block|blocks|break|breaks|spend|"
    r"campaigns? at work)(?![a-z])"
)
NOT_AN_AD_BEFORE = (
    r"(?:\d[\d,.]*\s*|b\.?c\.?\s*/\s*|saw an |watched an |an? (?:annoying|youtube|tv) )$"
)

# What a creator is told to write, per language.
EXAMPLE: dict[str, str] = {
    "en": "#ad", "es": "#publicidad", "fr": "#publicité", "de": "Werbung", "it": "#pubblicità",
    "pt": "#publicidade", "nl": "#reclame", "ja": "#PR",
}  # fmt: skip
