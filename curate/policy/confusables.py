"""Unicode confusables: fold characters that imitate Latin letters to the letters they imitate.

The data is Unicode's own confusables table (UTS #39, ``confusables.txt``) as shipped by the
``confusable_homoglyphs`` package — not a hand list. Used by the licence reader, so that
``сredentialed`` written with a Cyrillic ``с`` is still read as *credentialed*, and by the licence
allow-list, which refuses any licence text holding such a character.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _table() -> dict[str, list[dict[str, str]]]:
    from confusable_homoglyphs.confusables import confusables_data  # lazy: a 2 MB JSON table

    return confusables_data


def ascii_prototype(ch: str) -> str | None:
    """The ASCII text a non-ASCII character imitates per UTS #39, or None when it imitates none.

    >>> ascii_prototype("\\u0441")  # CYRILLIC SMALL LETTER ES
    'c'
    """
    if ch.isascii():
        return None
    for glyph in _table().get(ch, ()):
        if glyph["c"].isascii() and glyph["c"].strip():
            return glyph["c"]
    return None


def fold_confusables(text: str) -> str:
    """``text`` with every non-ASCII character that imitates ASCII replaced by what it imitates.

    ASCII characters are left alone (the full UTS #39 skeleton would also map ``0`` to ``O``).
    """
    if text.isascii():
        return text
    return "".join(ascii_prototype(ch) or ch for ch in text)


def confusable_characters(text: str) -> list[str]:
    """The characters of ``text`` that imitate ASCII ones (each once, in order)."""
    return list(dict.fromkeys(ch for ch in text if ascii_prototype(ch) is not None))
