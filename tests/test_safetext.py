"""The one sanitiser for terminal-bound text: nothing a terminal obeys gets through, and ordinary
text (any script, emoji, newlines, tabs) comes through unchanged."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localchat.safetext import decode_bytes, for_terminal, from_os, json_line, one_line, visible

# what a terminal acts on: C0 but newline and tab, DEL, C1; and what cannot be encoded at all
UNSAFE = {chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]} - {"\n", "\t"}
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
ANY_TEXT = st.text(alphabet=st.one_of(st.characters(), SURROGATES, st.sampled_from(sorted(UNSAFE))))
PROFILE = settings(derandomize=True, database=None, max_examples=300, deadline=None)


@pytest.mark.parametrize("text, shown", [
    ("\x1b]52;c;aGFja2Vk\x07", "␛]52;c;aGFja2Vk␇"),  # OSC 52: write the clipboard
    ("\x1b]2;PWNED\x1b\\", "␛]2;PWNED␛\\"),  # OSC 2: retitle, ST-terminated
    ("\x1b[2J\x1b[H", "␛[2J␛[H"),  # clear the screen, cursor home
    ("\x9b2J", "\ufffd2J"),  # C1 CSI: ESC [ in one byte
    ("a\x7fb", "a␡b"),
    ("lone \ud83d half", "lone \ufffd half"),
    ("line\r\nnext\rover", "line\nnext␍over"),
    ("tabs\tand\nnewlines stay", "tabs\tand\nnewlines stay"),
    ("héllo, 世界 🎉", "héllo, 世界 🎉"),
])
def test_for_terminal(text: str, shown: str):
    assert for_terminal(text) == shown


def test_one_line_shows_newlines_and_tabs_too():
    assert one_line("a\nb\tc\x1b") == "a␊b␉c␛"


def test_from_os_turns_escaped_bytes_into_replacement_characters():
    argv_text = b"Hi\xff there".decode("utf-8", errors="surrogateescape")
    assert from_os(argv_text) == "Hi\ufffd there"
    assert from_os("plain é") == "plain é"
    assert from_os("pair \ud83d\ude00 split") == "pair \ufffd\ufffd split"  # not from surrogateescape
    assert decode_bytes(b"Hi\xff there") == "Hi\ufffd there"


@PROFILE
@given(ANY_TEXT)
def test_nothing_a_terminal_obeys_gets_through(text: str):
    for clean in (for_terminal(text), one_line(text), visible(text)):
        assert not UNSAFE & set(clean)
        clean.encode("utf-8")  # no lone surrogates
    assert len(visible(text)) == len(text)
    assert "\n" not in one_line(text) and "\t" not in one_line(text)


@PROFILE
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_ordinary_text_is_unchanged(text: str):
    assert for_terminal(text) == one_line(text) == visible(text) == text


@PROFILE
@given(ANY_TEXT)
def test_json_line_round_trips_and_is_inert(text: str):
    line = json_line({"text": text})
    assert not UNSAFE & set(line)
    assert json.loads(line) == json.loads(json.dumps({"text": text}))  # the same JSON, readable
