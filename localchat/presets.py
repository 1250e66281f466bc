"""System-prompt presets: a few built in, more in the config (``[[chat.presets]]``).

A preset is a name and a system prompt. F3 offers them and ``localchat ask --preset NAME`` takes
one; a chat keeps the prompt it was given (and the preset's name), so editing a preset later
does not rewrite old conversations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localchat.errors import LocalChatError

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."


@dataclass(frozen=True)
class Preset:
    name: str
    prompt: str


BUILTIN_PRESETS: tuple[Preset, ...] = (
    Preset("Helpful assistant", DEFAULT_SYSTEM_PROMPT),
    Preset("Concise", "You are a helpful assistant. Answer in as few words as the question "
                      "allows: no preamble, no repetition, no closing summary."),
    Preset("Coder", "You are an expert programmer. Give correct, idiomatic code in fenced "
                    "blocks with the language named, explain only what is not obvious, and say "
                    "when something depends on a version or platform."),
    Preset("Tutor", "You are a patient tutor. Explain step by step in plain words, check "
                    "understanding with a short question, and give hints before full answers "
                    "to exercises."),
    Preset("Translator", "You are a translator. Translate the user's text into English, or into "
                         "the language they name, keeping meaning, tone and formatting. Reply "
                         "with the translation only."),
)


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def all_presets(own: Iterable[Preset] = ()) -> tuple[Preset, ...]:
    """The built-in presets, then the user's; a user preset named like a built-in one replaces
    it in place (names compare ignoring case and repeated spaces)."""
    own = list(own)
    by_key = {_key(p.name): p for p in own}
    merged = [by_key.pop(_key(p.name), p) for p in BUILTIN_PRESETS]
    return tuple(merged + [p for p in own if _key(p.name) in by_key])


def find_preset(name: str, own: Iterable[Preset] = ()) -> Preset:
    """The preset called ``name``; ``LocalChatError`` naming the known ones if there is none."""
    presets = all_presets(own)
    for preset in presets:
        if _key(preset.name) == _key(name):
            return preset
    known = ", ".join(p.name for p in presets)
    raise LocalChatError(f"unknown preset {name.strip()!r}", f"choose one of {known}")


def preset_for_prompt(prompt: str, presets: Iterable[Preset]) -> Preset | None:
    """The first preset whose prompt is ``prompt`` (surrounding whitespace ignored)."""
    for preset in presets:
        if preset.prompt.strip() == prompt.strip():
            return preset
    return None


def parse_presets(raw: Any, problems: list[str]) -> tuple[Preset, ...]:
    """The config's ``[[chat.presets]]`` tables (each a ``name`` and a ``prompt``); a wrong one
    is named in ``problems`` and left out."""
    if not isinstance(raw, list):
        problems.append("[[chat.presets]] must be tables with a name and a prompt, using none")
        return ()
    presets: list[Preset] = []
    for number, item in enumerate(raw, 1):
        name = item.get("name") if isinstance(item, dict) else None
        prompt = item.get("prompt") if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip() and isinstance(prompt, str):
            presets.append(Preset(" ".join(name.split()), prompt))
        else:
            problems.append(f"[[chat.presets]] number {number} needs a name and a prompt (text), "
                            "left out")
    return tuple(presets)
