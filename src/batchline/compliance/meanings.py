"""The controlled list of signature meanings per record type, each with the authority it needs (ES-07).

Each context registers the meanings of its own record types when Django starts (apps.ready).
"""

from __future__ import annotations

from dataclasses import dataclass

from batchline.compliance.errors import MeaningNotAllowed


@dataclass(frozen=True)
class Meaning:
    code: str
    label_en: str
    label_zh: str
    permission: str

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


_registry: dict[str, dict[str, Meaning]] = {}


def register(record_type: str, *meanings: Meaning) -> None:
    table = _registry.setdefault(record_type, {})
    for meaning in meanings:
        table[meaning.code] = meaning


def meaning_for(record_type: str, code: str) -> Meaning:
    try:
        return _registry[record_type][code]
    except KeyError:
        raise MeaningNotAllowed(field="meaning", meaning=code) from None

