"""Widgets for text that is data: titles, paths, model names, errors, replies.

Such text is never parsed as Textual markup (a title ``[/x] what does this do?`` would raise
``MarkupError``; ``[link=…]`` would make a link) and its control characters are shown inert
(``localchat.safetext``), so a model or a file cannot write the clipboard, retitle or clear the
terminal. The TUI builds every label and static text from these two classes (a test checks no
other module imports textual's ``Label`` or ``Static``), and passes table cells and list options
through ``plain``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Label, Static

from localchat.safetext import for_terminal, one_line, visible


def plain(content: str | Text, *, line: bool = False, **text_options: Any) -> Text:
    """A rich ``Text`` of ``content``, never markup, with its control characters made visible;
    ``line=True`` shows newlines as symbols too (a table cell, a list entry)."""
    if isinstance(content, Text):
        return inert(content)
    return Text(one_line(content) if line else for_terminal(content), **text_options)


def inert(text: Text) -> Text:
    """``text`` (styles kept) with its control characters made visible."""
    cleaned = visible(text.plain)
    if cleaned == text.plain:
        return text
    copy = text.copy()
    copy.plain = cleaned  # same length: every span stays where it was
    return copy


def _inert(content: VisualType) -> VisualType:
    if isinstance(content, str):
        return for_terminal(content)
    if isinstance(content, Text):
        return inert(content)
    return content


class PlainLabel(Label):
    """A ``Label`` whose text is shown as it is (see the module docstring)."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(_inert(content), **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(_inert(content), layout=layout)


class PlainStatic(Static):
    """A ``Static`` whose text is shown as it is (see the module docstring)."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(_inert(content), **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(_inert(content), layout=layout)
