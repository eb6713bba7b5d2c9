"""Watch-list terms matched on the word forms a sentence really uses.

A campaigner watching "retention" wants "we retain pupil data for 6 years" too. Two sources of
forms, no stemmer (a stemmer's "polic" would also match "policy"):

* **curated families** for the words of the default watch-list, where English is irregular
  (retention: retain, retains, retained, retaining, retentions);
* **regular inflections** of the last word of any term: plural (-s, -es, -y → -ies), past and
  present participles (-ed, -d, -ing, with a final -e dropped), and the possessive ('s).

Multi-word terms match across any white space or a hyphen ("third party", "third-party",
"third parties"), case-insensitively, on whole words only ("police" never matches "policy").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

FAMILIES: dict[str, tuple[str, ...]] = {
    "retention": ("retention", "retentions", "retain", "retains", "retained", "retaining"),
    "retain": ("retain", "retains", "retained", "retaining", "retention", "retentions"),
    "identifiable": ("identifiable", "identifiably", "re-identifiable", "reidentifiable", "re-identification"),
    "immigration": ("immigration", "immigrant", "immigrants", "immigrate", "immigrated", "immigrating"),
    "commercial": ("commercial", "commercially", "commercialise", "commercialised", "commercialisation", "commercialize", "commercialized", "commercialization"),
    "nationality": ("nationality", "nationalities"),
    "police": ("police", "policed", "policing", "police's"),
    "party": ("party", "parties", "party's"),
    "office": ("office", "office's"),
    "birth": ("birth", "births"),
}


def word_forms(word: str) -> tuple[str, ...]:
    """The forms of one (lower-case) word: its curated family, or its regular inflections."""
    if word in FAMILIES:
        return FAMILIES[word]
    forms = {word, word + "'s"}
    if not word[-1:].isalpha():
        return tuple(sorted(forms))
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    elif word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        forms.update((word[:-1] + "ies", word[:-1] + "ied"))
    else:
        forms.add(word + "s")
    if word.endswith("e"):
        forms.update((word + "d", word[:-1] + "ing"))
    else:
        forms.update((word + "ed", word + "ing"))
    return tuple(sorted(forms))


def term_regex(term: str) -> str:
    """A regular expression (no flags) for a term in any of its forms, on whole words."""
    words = term.lower().split()
    if not words:
        return r"(?!x)x"
    head = [re.escape(w).replace(r"\-", r"[\s-]+") for w in words[:-1]]
    last = "(?:" + "|".join(re.escape(form).replace(r"\-", r"-?") for form in sorted(word_forms(words[-1]), key=len, reverse=True)) + ")"
    return r"(?<![\w-])" + r"[\s-]+".join([*head, last]) + r"(?![\w])"


@lru_cache(maxsize=64)
def terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern finding any of ``terms``; group ``t<i>`` names the term that matched."""
    if not terms:
        return re.compile(r"(?!x)x")
    return re.compile("|".join(f"(?P<t{i}>{term_regex(term)})" for i, term in enumerate(terms)), re.IGNORECASE)


def find_terms(text: str | Iterable[str], terms: Sequence[str]) -> tuple[str, ...]:
    """The terms (as configured) that occur in ``text`` in any of their forms, in list order."""
    if not terms:
        return ()
    blob = text if isinstance(text, str) else "\n".join(text)
    candidates = _candidates(blob, terms)  # the others cannot occur: no need to look for them
    if not candidates:
        return ()
    pattern = terms_pattern(tuple(candidates))
    seen: set[int] = set()
    for match in pattern.finditer(blob):
        seen.update(int(name[1:]) for name, value in match.groupdict().items() if value is not None)
        if len(seen) == len(candidates):
            break
    found = {candidates[i] for i in seen}
    return tuple(term for term in dict.fromkeys(terms) if term in found)


# Characters a case-insensitive pattern matches to an ASCII letter although their lower case
# (str.lower) does not contain it: dotless ı and long ſ match "i" and "s"; İ lowers to two
# characters. A text holding one is searched for every term.
_FOLDS_APART = re.compile("[\u0130\u0131\u017f]")


def _candidates(blob: str, terms: Sequence[str]) -> list[str]:
    """The terms that may occur in ``blob``: those whose necessary letters (see _needle) are in
    it. The regular expression scans every position of a long text for every alternative
    (14 ms for a 55 KB page); a substring test per term is a thousand times cheaper."""
    if _FOLDS_APART.search(blob):
        return list(dict.fromkeys(terms))
    lowered = blob.lower()
    return [term for term in dict.fromkeys(terms) if _needle(term) in lowered]


@lru_cache(maxsize=256)
def _needle(term: str) -> str:
    """The longest run of lower-case ASCII letters every match of ``term`` contains ("" when
    there is none to rely on): a piece of one of its leading words, or what every form of its
    last word shares. Hyphens split pieces (a hyphen may match white space, or be left out)."""
    words = term.lower().split()
    if not words:
        return ""
    choices = [piece for word in words[:-1] for piece in word.split("-")]
    choices.append(_shared([form.split("-") for form in word_forms(words[-1])]))
    best = max(choices, key=len)
    return best if best.isascii() else ""


def _shared(forms: list[list[str]]) -> str:
    """The longest string that is inside some piece of every form."""
    candidates = {piece[i:j] for piece in forms[0] for i in range(len(piece)) for j in range(i + 1, len(piece) + 1)} if forms else set()
    for needle in sorted(candidates, key=len, reverse=True):
        if all(any(needle in piece for piece in pieces) for pieces in forms):
            return needle
    return ""


def split_on_terms(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is a term) runs, for highlighting; one run when no term occurs."""
    if not terms or not text:
        return [(text, False)]
    runs: list[tuple[str, bool]] = []
    at = 0
    for match in terms_pattern(tuple(terms)).finditer(text):
        if match.start() > at:
            runs.append((text[at : match.start()], False))
        runs.append((match.group(0), True))
        at = match.end()
    if at < len(text):
        runs.append((text[at:], False))
    return runs or [(text, False)]
