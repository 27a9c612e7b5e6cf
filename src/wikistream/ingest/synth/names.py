"""Plausible page titles and user names in the scripts of the generated wikis.

Names are built from syllables, so they look like names without copying anybody's. Callers pass
a ``random.Random`` dedicated to naming, so names depend only on the seed and the order in which
entities are first used (which is itself fixed by the seed).
"""

from __future__ import annotations

import random
from urllib.parse import quote

_SYLLABLES: dict[str, tuple[str, ...]] = {
    script: tuple(text.split())
    for script, text in {
        "latin": "ka lo mir ven ta ro san del ber ni o ma us gard el fin tor ra li mon stad ho ve "
        "ar ter bu sel ko win dal is ne pra gu zen bor mi lan hof quin ri",
        "vietnamese": "Nguyễn Trần Hà Sơn Bình Đức Phước Thạnh Quảng Ninh Long An Hòa Tây Đông "
        "Xuân Mỹ Lộc Cầu Giang",
        "cyrillic": "ка ло мир вен та ро сан дел бер ни о ма ус град ов ин ск ая ев ра ли мон "
        "ево по ре чи на зе",
        "japanese": "か の さ き た ま や 川 山 田 中 駅 線 県 市 町 高 校 "
        "ア ン ト リ ス ー ク ロ 寺 島",
        "chinese": "中 国 山 河 县 市 路 站 大 学 江 湖 北 南 东 西 "
        "人 民 华 文 化 公 园 镇 村 历 史",
        "hangul": "서 울 부 산 대 학 교 역 강 도 시 군 한 국 김 이 박 민 정 수 영 선 광 주",
        "arabic": "مح مد عب دال له سن حس ين كر يم بن دار ينة شا ه زا ده ران ستان",
        "hebrew": "בית ה מ יר של ום דו ד רח וב גן תל חי פה כפר עין נה רי",
        "thai": "กรุง เทพ มหา นคร ราช สี มา ชัย บุรี สุ วัด ไทย ศรี สวน นา ทอง",
        "greek": "κα λο μι ρα θε σα νι κη πο λη ας ος",
        "armenian": "Եր ևան Գյ ում րի Վա նա ձոր Աշ տա րակ",
    }.items()
}

# Localized namespace names of the bigger wikis ("ns=Name|ns=Name"); other wikis use the canonical
# English names.
_CANONICAL: dict[int, str] = {
    1: "Talk",
    2: "User",
    3: "User talk",
    4: "Project",
    6: "File",
    10: "Template",
    14: "Category",
    118: "Draft",
    120: "Property",
    146: "Lexeme",
}
_LOCAL_TEXT = {
    "en": "4=Wikipedia",
    "simple": "4=Wikipedia",
    "commons": "4=Commons",
    "wikidata": "4=Wikidata",
    "de": "1=Diskussion|2=Benutzer|3=Benutzer Diskussion|4=Wikipedia|6=Datei|10=Vorlage|"
    "14=Kategorie",
    "fr": "1=Discussion|2=Utilisateur|3=Discussion utilisateur|4=Wikipédia|6=Fichier|10=Modèle|"
    "14=Catégorie|118=Brouillon",
    "es": "1=Discusión|2=Usuario|3=Usuario discusión|4=Wikipedia|6=Archivo|10=Plantilla|"
    "14=Categoría|118=Borrador",
    "ru": "1=Обсуждение|2=Участник|3=Обсуждение участника|4=Википедия|6=Файл|10=Шаблон|"
    "14=Категория|118=Инкубатор",
    "ja": "1=ノート|2=利用者|3=利用者‐会話|4=Wikipedia|6=ファイル",
    "vi": "1=Thảo luận|2=Thành viên|3=Thảo luận Thành viên|4=Wikipedia|6=Tập tin|10=Bản mẫu|"
    "14=Thể loại",
    "it": "1=Discussione|2=Utente|3=Discussioni utente|4=Wikipedia|14=Categoria",
    "pl": "1=Dyskusja|2=Wikipedysta|3=Dyskusja wikipedysty|4=Wikipedia|14=Kategoria",
    "nl": "1=Overleg|2=Gebruiker|3=Overleg gebruiker|4=Wikipedia|14=Categorie",
    "pt": "1=Discussão|2=Usuário(a)|3=Usuário(a) Discussão|4=Wikipédia|14=Categoria",
}
_LOCAL: dict[str, dict[int, str]] = {
    lang: {int(k): v for k, v in (pair.split("=") for pair in text.split("|"))}
    for lang, text in _LOCAL_TEXT.items()
}
_IPV4_FIRST_OCTETS = (5, 24, 31, 37, 41, 46, 49, 62, 73, 77, 78, 81, 82, 84, 86, 87, 88, 89, 90, 91,
                      92, 93, 94, 95, 101, 103, 105, 109, 112, 113, 115, 117, 121, 122, 125, 151,
                      176, 177, 178, 179, 180, 181, 182, 186, 187, 188, 189, 190, 197)  # fmt: skip

SAFE_URL_CHARS = ";@$!*(),/~:"
"""Characters MediaWiki's wfUrlencode leaves as they are in page URLs."""


def namespace_prefix(lang: str, namespace: int) -> str:
    """Return the ``Prefix:`` of a namespace on a wiki ("" for the main namespace)."""
    if namespace == 0:
        return ""
    name = _LOCAL.get(lang, {}).get(namespace) or _CANONICAL.get(
        namespace, f"Namespace {namespace}"
    )
    return name + ":"


def url_path(title: str) -> str:
    """Return the percent-encoded ``/wiki/<path>`` part of a page title (spaces → underscores)."""
    return quote(title.replace(" ", "_"), safe=SAFE_URL_CHARS)


def make_word(rng: random.Random, script: str) -> str:
    """Return one capitalized word of 1–3 syllables in ``script``."""
    syllables = _SYLLABLES.get(script, _SYLLABLES["latin"])
    n = len(syllables)
    rand = rng.random
    # Index with random() rather than rng.choice: several times faster, and names are hot.
    word = syllables[int(rand() * n)]
    if script != "vietnamese":
        u = rand()
        if u < 0.75:
            word += syllables[int(rand() * n)]
        if u < 0.25:
            word += syllables[int(rand() * n)]
    return word[:1].upper() + word[1:]


def make_phrase(rng: random.Random, script: str, words: int) -> str:
    """Return ``words`` words joined the way the script joins them."""
    joiner = "" if script in ("japanese", "chinese") else " "
    return joiner.join(make_word(rng, script) for _ in range(words))


def make_page_name(rng: random.Random, script: str) -> str:
    """Return a main-namespace page name such as "Kalomir River" or "Сан-Деловск"."""
    shape = rng.random()
    if shape < 0.45:
        return make_phrase(rng, script, 1)
    if shape < 0.8:
        return make_phrase(rng, script, 2)
    if shape < 0.92:
        return f"{make_phrase(rng, script, 2)} ({rng.randint(1900, 2026)})"
    return make_phrase(rng, script, 3)


def make_registered_name(rng: random.Random) -> str:
    """Return a registered user name; never contains ``-`` (planted names do, see planted.py)."""
    shape = rng.random()
    first = make_word(rng, "latin")
    if shape < 0.45:
        return first + make_word(rng, "latin").lower()
    if shape < 0.75:
        return f"{first} {make_word(rng, 'latin')}"
    return f"{first}{rng.randint(1, 9999)}"


def make_bot_name(rng: random.Random) -> str:
    """Return a bot account name ("KalomirBot", "Delven bot")."""
    base = make_word(rng, "latin") + make_word(rng, "latin").lower()
    return base + rng.choice(("Bot", "Bot", "bot", " bot", "BOT"))


def make_ipv4(rng: random.Random) -> str:
    """Return a public-looking IPv4 address (never in the TEST-NET ranges planted users use)."""
    first = _IPV4_FIRST_OCTETS[int(rng.random() * len(_IPV4_FIRST_OCTETS))]
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def make_ipv6(rng: random.Random) -> str:
    """Return an IPv6 user name the way MediaWiki stores it (8 upper-case groups, no ``::``)."""
    prefix = rng.choice(("2A02", "2600", "2601", "2001", "2A01", "2409", "2405", "2804", "2A00"))
    groups = [prefix] + [f"{rng.getrandbits(16):X}" for _ in range(7)]
    return ":".join(groups)


def make_temporary_name(rng: random.Random, year: int) -> str:
    """Return a temporary-account name in the ``~YYYY-NNNNN-NN`` form."""
    return f"~{year}-{rng.randint(10000, 99999)}-{rng.randint(1, 99)}"
