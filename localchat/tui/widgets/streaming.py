"""Markdown for chat messages: a whole message rendered at once, and a reply streamed at a cost
that does not grow with it.

Where a streamed update's time went (issue 15: about 34 ms of UI-thread CPU at 256 tokens on
this project's 2-core test machine; measured here, 20 ms at the start of a reply growing to
40 ms at 2,000 tokens): Textual's ``Markdown.append`` re-parses only the last block, but every
block was restyled whenever one was mounted (a ``*:last-child`` rule gives every widget an order
style, and Textual restyles the siblings of a mounted widget that have one), and every update
laid out the whole screen (twice: a layout changes sizes, which asks for another) and repainted
the chat as it scrolled. So here:

- no order-style rule: a message's last block is marked with a class (``MessageMarkdown``);
- the text after the last finished block is the only text parsed again (``StreamingMarkdown``),
  and a finished block is never touched again;
- consecutive paragraphs stream into one widget (``ParagraphRun``), drawn exactly as separate
  paragraphs are (their text joined by a blank line, which is what the one-line margin between
  two paragraph widgets draws), so a new paragraph mounts no widget;
- that widget keeps a few blank lines below its text, so a new line of text is a repaint of this
  widget alone; a layout comes only when the text outgrows them, or another kind of block
  (a list, a code block) starts;
- and the repaint covers its lines from the first that changed (usually the last one or two),
  not the whole run: the screen composes and writes only those (a quarter less UI time per
  update than repainting the run; tests/tui/test_streaming_terminal.py checks the terminal).

When the reply ends, the message renders its whole text once (``MessageView.finish``).
"""

from __future__ import annotations

from typing import Self

from markdown_it import MarkdownIt
from textual import events
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region, Size
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownParagraph  # Textual does not export it
from textual.widgets.markdown import MarkdownBlock

from localchat.safetext import for_terminal
from localchat.tui.widgets.plain import PlainStatic

NO_SIZE = Size(0, 0)
PARAGRAPH_GAP = Content("\n\n")  # the blank line a paragraph's bottom margin draws


class MessageMarkdown(Markdown):
    """A message's whole Markdown, rendered at once. Its last block has no bottom margin (no
    blank line ends a message): a class set here rather than a ``:last-child`` rule, because
    Textual restyles every sibling of a widget with such a rule each time a widget is mounted
    beside them."""

    def update(self, markdown: str) -> AwaitComplete:
        updating = super().update(markdown)

        async def update_then_mark_the_last_block() -> None:
            with self.app.batch_update():  # no frame between the two
                await updating
                blocks = self.query_children(MarkdownBlock)
                if blocks:
                    blocks.last().add_class("last-block")

        return AwaitComplete(update_then_mark_the_last_block())


class GrowingStatic(PlainStatic):
    """A static text that grows, with ``reserve_lines`` blank lines kept below the text so that
    a new line of text is a repaint of this widget alone, not a layout; and of its lines from the
    first that changed, not all of them (the screen composes and writes only those)."""

    reserve_lines = 4
    reserved_lines = 0  # the height it has, text and blank lines (0: its text's height)
    _shown: tuple[tuple[str, tuple[object, ...]], ...] = ()  # its lines as last wrapped
    _repaint_from: int | None = None  # set while ``grow`` repaints: the first line that changed
    _repaint_to = 0  # ...and the end of the text, old or new

    def grow(self, content: VisualType, width_before_layout: int) -> None:
        width = self.content_size.width or width_before_layout
        if not width or not isinstance(content, (str, Content)):
            self._shown = ()
            self.update(content, layout=False)
            return
        wrapped = Content(for_terminal(content)) if isinstance(content, str) else content  # as shown
        lines = tuple((line.plain, tuple(line.spans)) for line in wrapped.wrap(width))
        first = next((i for i, (new, old) in enumerate(zip(lines, self._shown, strict=False)) if new != old),
                     min(len(lines), len(self._shown)))
        # a repaint from that line to the end of the text (old or new) only, once laid out
        self._repaint_from = first if self.content_size.width else None
        self._repaint_to = max(len(lines), len(self._shown), 1)
        try:
            self.update(content, layout=False)
        finally:
            self._repaint_from = None
        self._shown = lines
        if self.lines > self.reserved_lines:
            self.reserved_lines = self.lines + self.reserve_lines
            self.styles.height = self.reserved_lines  # a layout

    @property
    def lines(self) -> int:
        """The lines its text takes."""
        return max(len(self._shown), 1)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if self._repaint_from is not None and not (regions or layout or recompose):
            rows = self._repaint_to - self._repaint_from
            regions = (Region(0, self._repaint_from, self.content_size.width, rows),)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def stop_growing(self) -> None:
        """No more blank lines below the text."""
        self.styles.height = None  # its text's height
        self.reserved_lines = 0


# (the widget class first among the bases: Textual takes a widget's CSS type names, which its
# styles hang on, from the first base alone)
class ParagraphRun(MarkdownParagraph, GrowingStatic):
    """Consecutive paragraphs in one widget, the last of them still growing."""

    def __init__(self, markdown: Markdown, first: MarkdownBlock, reserve_lines: int) -> None:
        super().__init__(markdown, first._token)
        self.reserve_lines = reserve_lines

    def show(self, paragraphs: list[Content]) -> None:
        self._content = content = PARAGRAPH_GAP.join(paragraphs)  # as MarkdownBlock keeps it
        # not laid out yet, it will be as wide as the document
        self.grow(content, self._markdown.content_size.width)

    def settle(self, paragraphs: list[Content]) -> None:
        """Finished: these paragraphs, and no blank lines below them."""
        self.show(paragraphs)
        self.stop_growing()


class GrowingText(Vertical):
    """Plain text that only grows (a reply's thinking, as it streams), in pieces of at most
    about ``PIECE_LINES`` lines: an update wraps the last piece's text again, never the whole."""

    DEFAULT_CSS = "GrowingText { height: auto; }"
    RESERVE_LINES = 10
    PIECE_LINES = 24

    def __init__(self, text: str = "", *, piece_classes: str = "") -> None:
        super().__init__()
        self.text = text
        self._open = text  # the last piece's text
        self._piece_classes = piece_classes

    def compose(self) -> ComposeResult:
        yield self._piece(self.text)

    def _piece(self, text: str) -> GrowingStatic:
        piece = GrowingStatic(text, classes=self._piece_classes)
        piece.reserve_lines = self.RESERVE_LINES
        return piece

    async def append(self, text: str) -> None:
        """Add ``text`` (already safe for the terminal) to the end."""
        self.text += text
        self._open += text
        piece = self.query_children(GrowingStatic).last()
        if piece.lines > self.PIECE_LINES and "\n" in self._open:
            done, _, self._open = self._open.rpartition("\n")
            piece.grow(done, self.content_size.width)
            piece.stop_growing()
            piece = self._piece("")
            await self.mount(piece)
        piece.grow(self._open, self.content_size.width)

    async def reset(self, text: str) -> None:
        """All of the text at once, in one piece with no blank lines below it."""
        first, *rest = self.query_children(GrowingStatic)
        if rest:
            await self.remove_children(rest)
        self.text = self._open = text
        first.update(text)
        first.stop_growing()


def is_paragraph(block: Widget) -> bool:
    return isinstance(block, MarkdownParagraph)


class StreamingMarkdown(Markdown):
    """Markdown that only grows: ``append`` adds text (see the module docstring). The text after
    the last finished block is parsed again on each append; the blocks before it are mounted once
    and never touched, but for the paragraphs of the run still open."""

    RESERVE_LINES = 10
    RUN_LINES = 24  # a run of paragraphs longer than this (re-wrapped on each update) is closed

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._open_line = 0  # the source line the text parsed again starts at
        self._run: ParagraphRun | None = None
        self._run_done: list[Content] = []  # the run's finished paragraphs
        self._open_block: MarkdownBlock | None = None  # a last block of another kind
        self._parser = MarkdownIt("gfm-like")  # as Markdown parses

    async def _on_mount(self, event: events.Mount) -> None:  # type: ignore[override]  # as Markdown's
        # nothing to render: skip Markdown's render of its (empty) text on mount, which takes
        # the lock an append waits for and clears the blocks
        event.prevent_default()

    @property
    def blocks(self) -> list[MarkdownBlock]:
        return list(self.query_children(MarkdownBlock))

    def append(self, markdown: str) -> AwaitComplete:
        return AwaitComplete(self._append(markdown))

    async def _append(self, markdown: str) -> None:
        if markdown:
            async with self.lock:  # one append at a time, in order
                await self._append_locked(markdown)

    async def _append_locked(self, markdown: str) -> None:
        self._markdown = source = self._markdown + markdown
        open_line = self._open_line
        tail = "".join(source.splitlines(keepends=True)[open_line:])
        blocks = list(self._parse_markdown(self._parser.parse(tail)))
        if not blocks:
            return
        for block in blocks:
            start, end = block.source_range
            block.source_range = (start + open_line, end + open_line)
        mount: list[Widget] = []
        remove: list[Widget] = []
        if self._open_block is not None:  # parsed again: its new version replaces it
            remove.append(self._open_block)
            self._open_block = None
        *finished, last = blocks
        for block in finished:
            if is_paragraph(block):
                self._run_done.append(block._content)
                if self._run is None:
                    self._run = self._new_run(block, mount)
            else:
                self._close_run(remove)
                mount.append(block)
        if is_paragraph(last):
            if self._run is not None and self._run.lines > self.RUN_LINES and self._run_done:
                self._close_run(remove)
            if self._run is None:
                self._run = self._new_run(last, mount)
            self._run.show([*self._run_done, last._content])
        else:
            self._close_run(remove)
            self._open_block = last
            mount.append(last)
        self._open_line = last.source_range[0]
        with self.app.batch_update():
            if remove:
                await self.remove_children(remove)
            if mount:
                await self.mount_all(mount)

    def _new_run(self, first: MarkdownBlock, mount: list[Widget]) -> ParagraphRun:
        run = ParagraphRun(self, first, self.RESERVE_LINES)
        mount.append(run)
        return run

    def _close_run(self, remove: list[Widget]) -> None:
        """The open run of paragraphs ends with its finished ones; with none (its one paragraph
        turned out to be a heading's or a table's first line), it goes."""
        if self._run is not None:
            if self._run_done:
                self._run.settle(self._run_done)
            else:
                remove.append(self._run)
        self._run, self._run_done = None, []
