"""What people type, turned into a full-text query that finds what they mean, on any PostgreSQL.

Three things stand between a typed query and the words of the records it should find:

- Inflection ("disconnecting" vs "disconnected"): the 'english' text search configuration stems both sides,
  as before.
- Other words for the same thing ("VPN keeps disconnecting" vs an article on "VPN drops"): SYNONYMS, a small
  map of groups kept in this file (the README lists them). A typed word in a group stands for any word of
  its group.
- Words being typed ("prin"): a typed word that is neither indexed nor close to an indexed word is also
  taken as the start of a word (a tsquery prefix, `prin:*`).
- Typos ("pritner", "ploter", "exhcange"): a typed word that no record contains is compared, with rapidfuzz
  (Damerau-Levenshtein, so a swapped pair of letters is one edit), to the words the suite has indexed:
  knowledge.SearchWord, which database triggers fill from article titles and bodies and CI names on every
  write. The closest words (one edit for words of four or five letters, two for longer ones) stand for the
  typed word, and the first of them is offered as "did you mean".

Nothing here needs an extension (pg_trgm, unaccent, fuzzystrmatch): the embedded PostgreSQL of `make run`
(pgserver) gives the same answers as the machine's. The typed word always stays in its group, so a word that
only tickets contain (the vocabulary holds article and CI words) still matches as typed.

The vocabulary is read into each process once and then only its new rows (by id), and only when a typed
word is not in it already: a query of known words costs no query at all; one with an unknown word costs
two small ones (the new words since last time, then a check that the chosen corrections still exist, since
a process may remember words of a rolled-back transaction).

A query with websearch syntax (quotes, `or`, `-word`) is taken as typed: its author said exactly what they
want.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from threading import Lock

from django.contrib.postgres.search import SearchQuery
from django.db import connections
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

# Each group: words that mean the same thing to someone reporting a problem. A typed word matches an entry
# as written or with a common ending (SUFFIXES, a doubled last consonant allowed: "dropped", "lagging");
# the query then accepts any word of the group, each stemmed by the 'english' configuration.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("disconnect", "drop", "dropout", "disconnection"),
    ("slow", "sluggish", "lag", "laggy"),
    ("crash", "freeze", "frozen", "hang"),
    ("password", "passphrase", "passcode"),
    ("login", "logon", "signin"),
    ("email", "mail", "mailbox"),
    ("laptop", "notebook"),
    ("wifi", "wireless", "wlan"),
    ("monitor", "screen", "display"),
    ("install", "setup"),
)
SUFFIXES = ("", "s", "es", "ed", "d", "ing", "ion", "ions", "er", "ers")

WORD = re.compile(r"\w{2,}", re.UNICODE)
WEBSEARCH_SYNTAX = re.compile(r'"|(^|\s)-\w|\bor\b', re.IGNORECASE)
MIN_TYPO_CHARS = 4  # shorter words have too many one-edit neighbours to guess from
MAX_CORRECTIONS = 3  # equally close words OR-ed in for one typed word
MAX_TERMS = 12  # words of a query that are interpreted; the rest are dropped (nobody types more)


def _inflections(base: str) -> set[str]:
    forms = {base + suffix for suffix in SUFFIXES}
    forms |= {base + base[-1] + suffix for suffix in ("ed", "ing", "er", "ers")}
    return forms


_SYNONYM_INDEX: dict[str, tuple[str, ...]] = {
    form: group for group in SYNONYMS for base in group for form in _inflections(base)
}


def synonyms(word: str) -> tuple[str, ...]:
    """The words of `word`'s synonym group other than the word itself (empty when it has none)."""
    group = _SYNONYM_INDEX.get(word.lower(), ())
    return tuple(other for other in group if other not in _inflections(word.lower()) and other != word)


def max_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


@dataclass
class _Vocabulary:
    """One database's SearchWord rows as loaded into this process (see the module docstring)."""

    last_id: int = 0
    words: set[str] = field(default_factory=set)
    by_length: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: Lock = field(default_factory=Lock)

    def load_new(self, connection) -> None:
        with self.lock, connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, word FROM knowledge_searchword WHERE id > %s ORDER BY id", [self.last_id]
            )
            for pk, word in cursor.fetchall():
                self.last_id = max(self.last_id, pk)
                if word not in self.words:
                    self.words.add(word)
                    self.by_length[len(word)].append(word)


_vocabularies: dict[tuple[str, str], _Vocabulary] = {}


def _vocabulary(using: str = "default") -> tuple[_Vocabulary, object]:
    connection = connections[using]
    key = (using, str(connection.settings_dict.get("NAME")))
    if key not in _vocabularies:
        _vocabularies[key] = _Vocabulary()
    return _vocabularies[key], connection


def forget_vocabulary() -> None:
    """Drop what this process has loaded (tests that switch databases)."""
    _vocabularies.clear()


def corrections(words: list[str], using: str = "default") -> dict[str, tuple[str, ...]]:
    """For each typed word no indexed record contains, the closest indexed words (possibly none)."""
    vocabulary, connection = _vocabulary(using)
    unknown = [w for w in words if len(w) >= MIN_TYPO_CHARS and w.isalpha() and w not in vocabulary.words]
    if not unknown:
        return {}
    vocabulary.load_new(connection)
    unknown = [w for w in unknown if w not in vocabulary.words]
    if not unknown:
        return {}
    found: dict[str, list[tuple[int, str]]] = {}
    for word in unknown:
        limit = max_edits(word)
        candidates = [
            other
            for length in range(len(word) - limit, len(word) + limit + 1)
            for other in vocabulary.by_length.get(length, ())
        ]
        matches = process.extract(
            word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=20
        )
        found[word] = sorted((int(distance), other) for other, distance, _ in matches)
    chosen = {other for pairs in found.values() for _, other in pairs}
    if not chosen:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM knowledge_searchword WHERE word = ANY(%s)", [sorted(chosen)])
        existing = {row[0] for row in cursor.fetchall()}
    result: dict[str, tuple[str, ...]] = {}
    for word, pairs in found.items():
        pairs = [(distance, other) for distance, other in pairs if other in existing]
        if pairs:
            best = pairs[0][0]
            result[word] = tuple(other for distance, other in pairs if distance == best)[:MAX_CORRECTIONS]
    return result


def _quote(word: str) -> str:
    return "'" + word.replace("\\", "").replace("'", "") + "'"


@dataclass(frozen=True)
class Term:
    typed: str
    alternatives: tuple[str, ...]  # the typed word first, then corrections, then synonyms
    correction: str = ""  # the word offered as "did you mean", if the typed one is unknown
    prefix: bool = False  # unknown and uncorrectable: probably being typed ("prin" for "printer")

    def tsquery(self) -> str:
        words = [
            _quote(word) + (":*" if self.prefix and i == 0 else "")
            for i, word in enumerate(self.alternatives)
        ]
        return "(" + " | ".join(words) + ")"


@dataclass(frozen=True)
class Interpretation:
    """A typed query as full-text queries: `all_words` (every term) and `any_word` (at least one)."""

    text: str
    terms: tuple[Term, ...]
    as_typed: bool = False  # websearch syntax: taken literally, no synonyms or corrections
    did_you_mean: str = ""  # the text with each unknown word replaced by its correction, if any

    @property
    def all_words(self) -> SearchQuery:
        if self.as_typed or not self.terms:
            return SearchQuery(self.text, search_type="websearch", config="english")
        return SearchQuery(" & ".join(t.tsquery() for t in self.terms), search_type="raw", config="english")

    @property
    def any_word(self) -> SearchQuery:
        if self.as_typed or not self.terms:
            return self.all_words
        return SearchQuery(" | ".join(t.tsquery() for t in self.terms), search_type="raw", config="english")

    @property
    def relaxable(self) -> bool:
        """Whether `any_word` differs from `all_words` (more than one term, not websearch syntax)."""
        return not self.as_typed and len(self.terms) > 1

    @property
    def texts(self) -> tuple[str, ...]:
        """The text as typed and, if different, as corrected (for substring matches such as CI names)."""
        return (self.text, self.did_you_mean) if self.did_you_mean else (self.text,)


def interpret(text: str, using: str = "default") -> Interpretation:
    """The terms of `text` with their synonyms and typo corrections (see the module docstring)."""
    if WEBSEARCH_SYNTAX.search(text):
        return Interpretation(text=text, terms=(), as_typed=True)
    typed: list[str] = []
    for word in WORD.findall(text.lower()):
        if word not in typed:
            typed.append(word)
    typed = typed[:MAX_TERMS]
    fixes = corrections(typed, using)
    known = _vocabulary(using)[0].words
    terms = []
    for word in typed:
        fixed = fixes.get(word, ())
        alternatives = [word, *fixed]
        for alternative in [word, *fixed]:
            alternatives.extend(s for s in synonyms(alternative) if s not in alternatives)
        # "printers" for "printer" is not a typo worth a "did you mean", though both forms are searched.
        shown = [f for f in fixed if word not in _inflections(f) and f not in _inflections(word)]
        prefix = not fixed and len(word) >= MIN_TYPO_CHARS and word.isalpha() and word not in known
        terms.append(
            Term(
                typed=word,
                alternatives=tuple(alternatives),
                correction=shown[0] if shown else "",
                prefix=prefix,
            )
        )
    did_you_mean = ""
    replacements = {t.typed: t.correction for t in terms if t.correction}
    if replacements:
        did_you_mean = WORD.sub(lambda m: replacements.get(m.group(0).lower(), m.group(0)), text)
    return Interpretation(text=text, terms=tuple(terms), did_you_mean=did_you_mean)
