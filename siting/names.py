"""Chinese place names: short names, pinyin keys and the normalisation used to match names.

Two users: :mod:`siting.io.regions` resolves what a user types (广西, 广西壮族自治区, guangxi,
柳州) to an administrative unit, and :mod:`siting.reference.fleet` matches the romanised area
names of the wind-farm tracker ("Rongshui Miao Autonomous County", "Tengxian", "Damao Banner") to
counties. Both strip the same administrative suffixes and the same nationalities, listed once here.
Pure text functions: no file is read.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
import unicodedata

import pandas as pd

# Administrative suffixes stripped to form the short name (longest first).
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "新区", "省", "市", "盟", "县", "区", "旗")
# The 55 minority nationalities and 各族 ("all nationalities") that qualify autonomous units, longest first.
NATIONALITIES_ZH = tuple(sorted("""蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水
    东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安
    裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各""".split(), key=len, reverse=True))
# A short name drops "<nationalities>族" (汉 too, as in 各族/汉族 names) after at least two characters.
_ETHNIC = re.compile(r"^(.{2,}?)((?:(?:" + "|".join(sorted(NATIONALITIES_ZH + ("汉",), key=len, reverse=True))
                     + r")族)+|维吾尔)$")



# English administrative suffixes (as separate words) stripped from GEM area names, longest first.
_EN_SUFFIXES = (
    "autonomous prefecture", "autonomous county", "autonomous banner", "autonomous region", "county level city",
    "county-level city", "special district", "economic development zone", "development zone", "new district",
    "new area", "municipality", "prefecture", "district", "county", "banner", "league", "city", "area",
    "zizhixian", "zizhiqi", "xian", "shi", "qu", "qi", "meng",
)
# Pinyin of suffixes sometimes glued to the name ("Tengxian County"); tried only when the full text finds nothing.
_GLUED_SUFFIXES = ("zizhixian", "zizhiqi", "xian", "shi", "qu", "qi")
# Chinese suffix characters whose removal gives a bare name ("容县" -> "容" -> rong).
_ZH_SUFFIX_CHARS = ("县", "区", "市", "旗")
_MAX_READINGS = 16
# Words of the English suffix list long enough to be recognised when misspelt ("Municiaplity").
_FUZZY_SUFFIX_WORDS = ("municipality", "district", "county", "banner", "prefecture")
# English names of ethnic groups written before "Autonomous County/Banner" ("Rongshui Miao Autonomous County").
_ETHNIC_EN = frozenset(
    "miao yao zhuang dong hui manchu man mongol mongolian tujia li bai yi naxi hani dai lisu tibetan zang qiang buyi "
    "bouyei shui gelao maonan mulao mulam she daur evenki ewenki oroqen kazak kazakh uygur uyghur tu salar dongxiang "
    "bonan baoan yugur xibe korean jingpo va wa lahu pumi nu derung achang blang bulang jino jinuo jing kirgiz tajik "
    "various nationalities nationality ethnic minorities and multi multiethnic".split())
# Chinese names of ethnic groups (without 族) stripped before an autonomy suffix ("巴里坤哈萨克自治县" -> 巴里坤).
_ETHNIC_ZH = NATIONALITIES_ZH
_ZH_AUTONOMY = ("自治县", "自治旗", "自治州", "自治区", "联合旗")



def short_name(name_zh: str) -> str:
    """Strip administrative suffixes and ethnic qualifiers from a Chinese name.

    ``广西壮族自治区`` → ``广西``; ``融水苗族自治县`` → ``融水``; ``柳州市`` → ``柳州``.
    Names that would become shorter than two characters are returned unchanged.
    """
    base = name_zh
    for suffix in _SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 2:
            base = base[: -len(suffix)]
            break
    match = _ETHNIC.match(base)
    if match and len(match.group(1)) >= 2:
        base = match.group(1)
    return base


def to_pinyin(text: str) -> str:
    """Tone-less lower-case pinyin of a Chinese text, syllables joined (``柳州`` → ``liuzhou``)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).lower()


def normalise_query(query: str) -> str:
    """A typed query folded for comparison: NFKC, lower case, no spaces, apostrophes or hyphens, ü as v."""
    q = unicodedata.normalize("NFKC", query).strip().lower()
    return re.sub(r"[\s'\-_’]+", "", q).replace("ü", "v")



def _ascii_key(text: str, v_to_u: bool = True) -> str:
    """Lower-case ASCII form of a romanised name: ü→u (and pinyin's v→u), accents dropped."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower().replace("ü", "u")
    text = unicodedata.normalize("NFKD", text.replace("v", "u") if v_to_u else text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def normalise_area_name(text: str | None) -> str:
    """Normalise a GEM area name to bare tone-less pinyin.

    Administrative words written as separate words are removed (County,
    District, Municipality, City, Autonomous County, Banner, Xian, ...), then
    spaces, apostrophes, hyphens and dots. ``ü`` and ``v`` become ``u``.

    Parameters
    ----------
    text : str or None

    Returns
    -------
    str
        ``"Binyang County"`` → ``"binyang"``; ``"Beiliu Municipality"`` →
        ``"beiliu"``; ``"Rong'an County"`` → ``"rongan"``; ``"Pubei Xian"`` →
        ``"pubei"``; empty for missing text.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return ""
    return _normalise_text(str(text))


@functools.lru_cache(maxsize=65536)
def _normalise_text(text: str) -> str:
    s = re.sub(r"[’'`´.,()]", "", _ascii_key(text, v_to_u=False))
    s = re.sub(r"[\s_\-&]+", " ", s).strip()
    s = s.split("/")[0].strip()  # "Yanchi County/Taiyangshan Development Zone": the first area
    autonomous = "autonomous" in s
    changed = True
    while changed:
        changed = False
        words = s.split(" ")
        if len(words) < 2:
            break
        last = words[-1]
        for suffix in _EN_SUFFIXES:
            if s.endswith(" " + suffix):
                s = s[: -len(suffix) - 1].strip()
                changed = True
                break
        else:
            if _is_misspelt_suffix(last) or (autonomous and last in _ETHNIC_EN):
                s = " ".join(words[:-1])
                changed = True
    return s.replace(" ", "").replace("v", "u")


def _is_misspelt_suffix(word: str) -> bool:
    """True for a misspelt administrative word such as ``Municiaplity`` or ``Districut``."""
    return any(difflib.SequenceMatcher(None, word, w).ratio() >= 0.8 for w in _FUZZY_SUFFIX_WORDS)


def _glued_variants(key: str) -> set[str]:
    """Keys with a glued pinyin suffix removed (``tengxian`` → ``teng``)."""
    return {key[: -len(suf)] for suf in _GLUED_SUFFIXES if key.endswith(suf) and len(key) - len(suf) >= 2}


def _readings(text_zh: str) -> set[str]:
    """All tone-less pinyin readings of a Chinese text (heteronyms; at most a few)."""
    from pypinyin import Style, lazy_pinyin, pinyin

    per_char = pinyin(list(text_zh), style=Style.NORMAL, heteronym=True)  # char by char: every reading
    combos = itertools.islice(itertools.product(*per_char), _MAX_READINGS)
    return {_ascii_key("".join(c)) for c in combos} | {_ascii_key("".join(lazy_pinyin(text_zh)))}


def _strip_autonomy(name_zh: str) -> str | None:
    """The name without its autonomy suffix (自治县, 自治旗 ...), or None if it has none."""
    for suffix in _ZH_AUTONOMY:
        if name_zh.endswith(suffix):
            return name_zh[: -len(suffix)]
    return None


def bare_name_zh(name_zh: str) -> str:
    """A Chinese unit name without autonomy suffix and ethnic groups (``巴里坤哈萨克自治县`` → ``巴里坤``)."""
    base = _strip_autonomy(name_zh)
    if base is None:
        return name_zh
    changed = True
    while changed:
        changed = False
        for group in _ETHNIC_ZH:
            for tail in (group + "族", group):
                if base.endswith(tail) and len(base) - len(tail) >= 2:
                    base = base[: -len(tail)]
                    changed = True
                    break
            if changed:
                break
    return base


def _unit_texts(name_zh: str, short_zh: str) -> set[str]:
    texts = {name_zh, short_zh, bare_name_zh(name_zh)}
    for base in list(texts):
        if base.endswith(_ZH_SUFFIX_CHARS) and len(base) >= 2:
            texts.add(base[:-1])
    return {t for t in texts if t}


def _unit_keys(name_zh: str, short_zh: str) -> frozenset[str]:
    """Pinyin keys of a county or city: full, short and bare name, name without its suffix character."""
    keys: set[str] = set()
    for t in _unit_texts(name_zh, short_zh):
        keys |= _readings(t)
    return frozenset(k for k in keys if k)


def _unit_syllables(name_zh: str) -> tuple[str, ...]:
    """Syllables of a name without its autonomy or suffix character, for abbreviations.

    Ethnic groups are kept: 阜新蒙古族自治县 abbreviates to 阜蒙 (``fumeng``).
    """
    from pypinyin import lazy_pinyin

    base = _strip_autonomy(name_zh)
    if base is None:
        base = name_zh[:-1] if name_zh.endswith(_ZH_SUFFIX_CHARS) and len(name_zh) >= 3 else name_zh
    return tuple(_ascii_key(s) for s in lazy_pinyin(base))


def is_abbreviation(key: str, syllables: tuple[str, ...]) -> bool:
    """True when ``key`` is the first syllable plus at least one later syllable, in order.

    Chinese abbreviates long names this way: 达尔罕茂明安联合旗 → 达茂 (``damao``),
    科尔沁左翼中旗 → 科左中 (``kezuozhong``), 阜新蒙古族自治县 → 阜蒙 (``fumeng``).
    """
    if len(syllables) < 3 or not syllables[0] or not key.startswith(syllables[0]):
        return False

    def rest(k: str, start: int, used: int) -> bool:
        if not k:
            return used >= 2
        return any(k.startswith(s) and rest(k[len(s):], j + 1, used + 1)
                   for j, s in enumerate(syllables[start:], start) if s)

    return rest(key[len(syllables[0]):], 1, 1) and key != "".join(syllables)
