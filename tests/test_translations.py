"""The Simplified Chinese catalog is complete, compiled and consistent with the source strings.

Most users read Chinese first and the UI defaults to it: a string missing from the catalog shows up
in English in the middle of a Chinese screen. How to update the catalog: docs/development.md,
section "Translations".
"""

from __future__ import annotations

import contextlib
import re
import shutil
import string
from pathlib import Path
from typing import Any

import polib
import pytest
from django.core.management import call_command
from django.test import Client

import batchline

SOURCE = Path(batchline.__file__).resolve().parent
CATALOG = SOURCE / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOG / "django.po"
MO_FILE = CATALOG / "django.mo"

# %(name)s and %% of gettext/blocktrans strings, and HTML tags; {name} fields are read with string.Formatter.
PERCENT_OR_TAG = re.compile(r"%\(\w+\)[sdif]|%%|</?[a-zA-Z][^>]*>")


def catalog() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(PO_FILE)) if not entry.obsolete]


def key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def translations_of(entry: polib.POEntry | polib.MOEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str) -> list[str]:
    found = PERCENT_OR_TAG.findall(text)
    with contextlib.suppress(ValueError):  # not a format string (an unbalanced brace in prose): no fields
        found += ["{" + name + "}" for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    return sorted(found)


def label(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def test_every_entry_of_the_chinese_catalog_is_translated_and_not_fuzzy() -> None:
    entries = catalog()
    assert entries, f"{PO_FILE} holds no entries"
    untranslated = [label(e) for e in entries if not all(t.strip() for t in translations_of(e))]
    fuzzy = [label(e) for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_chinese_catalog_has_one_plural_form() -> None:
    po = polib.pofile(str(PO_FILE))
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert all(sorted(e.msgstr_plural) == [0] for e in catalog() if e.msgid_plural)


def test_compiled_catalog_matches_the_po_file() -> None:
    """The committed .mo is what Django loads; it must be compiled from the committed .po."""
    from_po = {key(e): translations_of(e) for e in catalog()}
    from_mo = {key(e): translations_of(e) for e in polib.mofile(str(MO_FILE)) if e.msgid}
    assert from_mo == from_po, "run compilemessages (docs/development.md, Translations) and commit django.mo"


def test_every_translation_keeps_the_placeholders_of_its_source_string() -> None:
    wrong = []
    for entry in catalog():
        # The one Chinese form of a plural entry stands for every count: it may follow either English form.
        allowed = [placeholders(entry.msgid)] + ([placeholders(entry.msgid_plural)] if entry.msgid_plural else [])
        for text in translations_of(entry):
            if placeholders(text) not in allowed:
                wrong.append((label(entry), text))
    assert wrong == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_source_string_is_in_the_chinese_catalog(tmp_path: Path, settings: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages on a copy of the source finds no string that the committed catalog lacks."""
    copy = tmp_path / "batchline"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("locale", "static", "__pycache__"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], extensions=["html", "py", "txt"], verbosity=0)

    extracted = {key(e) for e in polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))}
    committed = {key(e) for e in catalog()}
    missing = sorted(extracted - committed)
    assert missing == [], "run makemessages, translate the new entries, compilemessages (docs/development.md)"


def test_sign_in_page_is_in_chinese_for_a_chinese_browser(client: Client, db: None) -> None:
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "<title>登录 · Batchline</title>" in page
    assert "登录 Batchline" in page
    assert "Sign in" not in page


def test_sign_in_page_is_in_english_for_an_english_browser(client: Client, db: None) -> None:
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<title>Sign in · Batchline</title>" in page
    assert "Sign in to Batchline" in page
    assert "登录" not in page
