"""Country codes and groupings (pycountry for names/codes, country_converter for regions/income).

Kept tiny and lazy: pycountry and country_converter load their tables on first use only.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

from curate.errors import InputError

# Names seen in seed tables and common abbreviations pycountry does not know.
_ALIASES = {
    "UK": "GBR",
    "US": "USA",
    "USA": "USA",
    "KSA": "SAU",
    "AU": "AUS",
    "ENGLAND": "GBR",
    "SCOTLAND": "GBR",
    "KOREA": "KOR",
    "SOUTH KOREA": "KOR",
    "RUSSIA": "RUS",
    "IRAN": "IRN",
    "VIETNAM": "VNM",
    "TURKEY": "TUR",
    "TAIWAN": "TWN",
    "CZECH REPUBLIC": "CZE",
}


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    import pycountry

    idx: dict[str, str] = {}
    for c in pycountry.countries:
        for key in (c.alpha_2, c.alpha_3, c.numeric, c.name, getattr(c, "common_name", None),
                    getattr(c, "official_name", None)):
            if key:
                idx[str(key).upper()] = c.alpha_3
        idx[str(int(c.numeric))] = c.alpha_3  # "76" as well as "076"
    idx.update(_ALIASES)
    return idx


def is_alpha3(code: str) -> bool:
    import pycountry

    return isinstance(code, str) and len(code) == 3 and code.isupper() and (
        pycountry.countries.get(alpha_3=code) is not None
    )


def to_alpha3(value: object) -> str:
    """Normalise a country given as name, alpha-2, alpha-3 or numeric code to alpha-3.

    Raises :class:`InputError` with close matches when the value is not a country.
    """
    key = str(value).strip().upper()
    if key.endswith(".0") and key[:-2].isdigit():  # numeric codes read as floats by pandas
        key = key[:-2]
    idx = _index()
    if key in idx:
        return idx[key]
    import pycountry

    try:
        return pycountry.countries.search_fuzzy(str(value))[0].alpha_3
    except LookupError:
        pass
    close = difflib.get_close_matches(key, list(idx), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(name(idx[c]) for c in close)}?)" if close else ""
    raise InputError(f"unknown country '{value}'{hint}")


def name(alpha3: str) -> str:
    import pycountry

    c = pycountry.countries.get(alpha_3=alpha3)
    return getattr(c, "common_name", None) or c.name if c else alpha3


@lru_cache(maxsize=1)
def _converter():
    import logging

    logging.getLogger("country_converter").setLevel(logging.ERROR)
    import country_converter as coco

    return coco.CountryConverter(country_data=_coco_table())


def _coco_table():
    """country_converter's own table, read so that it also works with pandas 3.

    country_converter 1.3.2 reads its TSV in a way that turns Namibia's ISO2 code ``NA`` and empty cells
    into NaN under pandas 3, and then fails compiling them as regexes; read it with NA detection off.
    """
    from pathlib import Path

    import country_converter as coco
    import pandas as pd

    tsv = Path(coco.__file__).with_name("country_data.tsv")
    df = pd.read_csv(tsv, sep="\t", encoding="utf-8", dtype=str, keep_default_na=False)
    df = df[df["obsolete"] == ""].reset_index(drop=True)  # as CountryConverter(include_obsolete=False)
    return df.replace("", None).fillna({"ISO2": "", "regex": "", "name_short": "", "name_official": ""})


def convert(alpha3: str, to: str) -> str:
    """country_converter lookup; ``to`` is a classification such as "continent" or "UNregion"."""
    out = _converter().convert(alpha3, src="ISO3", to=to, not_found=None)
    return out if isinstance(out, str) and out else "Unknown"


def un_region(alpha3: str) -> str:
    return convert(alpha3, "UNregion")
