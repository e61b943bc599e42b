"""The licence allow-list: licence ids whose terms curate knows exactly.

Images may be uploaded only when a record's licence value *is* one of these ids — an SPDX id
(https://spdx.org/licenses/, matched case-insensitively as the SPDX specification allows, Annex B) or a
named licence of curate's own table — with no other text. Anything else (an id followed by words, a
character that only looks like a Latin letter, a bidirectional or other invisible control character,
an unknown name) is *not* a known licence: :func:`exact_licence` returns None and
:func:`curate.policy.upload.decide_upload` keeps the images back. What a regex reads in free text is used
only to name restrictions, never to allow an upload.
"""

from __future__ import annotations

import unicodedata

from curate.policy.terms import UseTerms

_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")
_CC_VARIANTS = ("BY", "BY-SA", "BY-NC", "BY-NC-SA", "BY-ND", "BY-NC-ND")


def _cc(variant: str) -> UseTerms:
    mods = set(variant.split("-")[1:])
    return UseTerms(redistribution=True, derivatives="ND" not in mods, commercial="NC" not in mods,
                    attribution=True, share_alike="SA" in mods, agreement="none", competition=False)


_OPEN = dict(redistribution=True, derivatives=True, commercial=True, agreement="none", competition=False)

#: SPDX ids (https://spdx.org/licenses/) and their terms for re-publishing images.
SPDX_TERMS: dict[str, UseTerms] = {
    **{f"CC-{v}-{n}": _cc(v) for v in _CC_VARIANTS for n in _CC_VERSIONS
       if not (n == "1.0" and "NC-SA" in v) and not (n == "1.0" and "NC-ND" in v)},
    "CC0-1.0": UseTerms(**_OPEN, attribution=False, share_alike=False),
    "PDDL-1.0": UseTerms(**_OPEN, attribution=False, share_alike=False),
    "ODC-By-1.0": UseTerms(**_OPEN, attribution=True, share_alike=False),
    "ODbL-1.0": UseTerms(**_OPEN, attribution=True, share_alike=True),
    "CDLA-Permissive-1.0": UseTerms(**_OPEN, attribution=True, share_alike=False),
    "CDLA-Permissive-2.0": UseTerms(**_OPEN, attribution=True, share_alike=False),
    "CDLA-Sharing-1.0": UseTerms(**_OPEN, attribution=True, share_alike=True),
    "MIT": UseTerms(**_OPEN, attribution=True, share_alike=False),
    "Apache-2.0": UseTerms(**_OPEN, attribution=True, share_alike=False),
    "BSD-2-Clause": UseTerms(**_OPEN, attribution=True, share_alike=False),
    "BSD-3-Clause": UseTerms(**_OPEN, attribution=True, share_alike=False),
}

_CREDENTIALED = UseTerms(redistribution=False, derivatives=False, commercial=None, attribution=None,
                         share_alike=None, agreement="credentialed", competition=False)
_DUA = UseTerms(redistribution=False, derivatives=False, commercial=None, attribution=None, share_alike=None,
                agreement="dua", competition=False)

#: Named licences of curate's own table (not SPDX ids): the name, exactly, and its terms.
NAMED_TERMS: dict[str, UseTerms] = {
    # the CC licences named without a version: every version grants the same for re-publishing
    **{f"CC-{v}": _cc(v) for v in _CC_VARIANTS},
    # OpenRAIL: redistribution allowed, use restrictions carried forward like share-alike
    "OpenRAIL": UseTerms(**_OPEN, attribution=True, share_alike=True),
    "PhysioNet Credentialed Health Data License": _CREDENTIALED,
    "PhysioNet Credentialed Health Data License 1.5.0": _CREDENTIALED,
    "PhysioNet Restricted Health Data License": _DUA,
    "PhysioNet Restricted Health Data License 1.5.0": _DUA,
    "Not publicly released": UseTerms(redistribution=False, derivatives=False, agreement="not-released",
                                      competition=False),
}

_BY_KEY = {k.casefold(): (k, t) for k, t in {**SPDX_TERMS, **NAMED_TERMS}.items()}


def exact_licence(text: str | None) -> tuple[str, UseTerms] | None:
    """``(id, terms)`` when ``text`` is exactly a known licence id (case aside, outer spaces aside).

    >>> exact_licence("cc-by-4.0")[0]
    'CC-BY-4.0'
    >>> exact_licence("CC-BY-4.0 (NC-ND)") is None
    True
    """
    if not isinstance(text, str):
        return None
    t = text.strip(" ")
    if not (t.isascii() and t.isprintable()):
        return None
    return _BY_KEY.get(t.casefold())


def licence_text_problems(text: str | None) -> list[str]:
    """Why ``text`` is not exactly a known licence id, in words (never echoing hidden characters)."""
    if exact_licence(text) is not None:
        return []
    t = str(text or "")
    problems = []
    if any(unicodedata.category(ch) in ("Cf", "Cc") for ch in t):
        problems.append("it holds invisible or bidirectional control characters")
    from curate.policy.confusables import confusable_characters

    if confusable_characters(t):
        problems.append("it holds characters that imitate Latin letters (Unicode confusables)")
    elif not t.isascii():
        problems.append("it holds non-ASCII characters")
    if not problems:
        problems.append("only an SPDX id such as CC-BY-4.0, with no other text, is read as a licence")
    return problems
