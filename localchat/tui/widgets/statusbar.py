"""The status bar: model, quant, GPU layers, a context meter, speed, and a tokens/s sparkline."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from localchat.engine.types import ModelInfo, ReplyStats
from localchat.tui.widgets.plain import PlainLabel
from localchat.tui.words import model_name

METER_CELLS = 12
BARS = "▁▂▃▄▅▆▇█"
# the live speed changes with every screen update; redrawn that often, the status line (below
# the prompt) widens each repaint of the reply to most of the screen
LIVE_SPEED_INTERVAL_S = 0.5


def context_meter(used: int, size: int) -> str:
    """``▰▰▰▱▱▱▱▱▱▱ 312/2048`` (the fraction of the context window in use); ``312 tokens`` when
    the size is unknown (a server that does not say it)."""
    if size <= 0:
        return f"{used} tokens"
    filled = round(METER_CELLS * used / size) if size > 0 else 0
    filled = max(0, min(METER_CELLS, filled))
    if used > 0 and filled == 0:
        filled = 1
    return "▰" * filled + "▱" * (METER_CELLS - filled) + f" {used}/{size}"


def reply_figures(stats: ReplyStats) -> str:
    """``TTFT 0.31 s · prompt 410 t/s · gen 38.2 t/s``; ``~`` before speeds counted from text
    pieces (a server that sent no token counts)."""
    about = "~" if stats.approximate else ""
    return (
        f"TTFT {stats.ttft_s:.2f} s · prompt {about}{stats.prompt_tps:.0f} t/s · "
        f"gen {about}{stats.gen_tps:.1f} t/s"
    )


def speed_bars(tps_per_reply: list[float], width: int) -> str:
    """One bar per reply (the latest ``width``), on a scale from zero to the fastest: 115 and
    127 tokens/s are bars of seven and eight eighths, not an empty and a full one (a sparkline
    scaled from its minimum draws any dip as a collapse)."""
    shown = [max(0.0, v) for v in tps_per_reply][-width:] if width > 0 else []
    top = max(shown, default=0.0)
    if top <= 0:
        return ""
    return "".join(BARS[max(0, min(len(BARS), round(v / top * len(BARS))) - 1)] for v in shown)


class SpeedHistory(Widget):
    """Tokens/s per reply as bars from zero (see ``speed_bars``)."""

    DEFAULT_CSS = "SpeedHistory { height: 1; }"
    data: reactive[list[float]] = reactive(list, layout=False)

    def render(self) -> Content:
        return Content(speed_bars(self.data, self.size.width))


class LiveText(Widget):
    """One line of text that repaints without a layout pass (a Label's update re-lays-out the
    screen, which cost a tenth of the generation speed when done a dozen times a second)."""

    DEFAULT_CSS = "LiveText { height: 1; width: 1fr; }"
    text = reactive("", layout=False)

    def render(self) -> Content:
        return Content(self.text)


class StatusBar(Vertical):
    """Two lines: the model and its context use; then the speed of the current or last reply
    and a sparkline of tokens/s per reply in this conversation."""

    _live_shown_at = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(classes="status-row"):
            yield PlainLabel("no model", id="status-model")
            yield PlainLabel("", id="status-ctx")
        with Horizontal(classes="status-row"):
            yield LiveText(id="status-speed")
            yield PlainLabel("t/s per reply", id="status-spark-label")
            yield SpeedHistory(id="status-spark")

    def show_loading(self, name: str) -> None:
        self.query_one("#status-model", PlainLabel).update(f"loading {name}…")

    def show_model(self, info: ModelInfo) -> None:
        if info.host:  # on a server: its layers and memory are the server's
            self.query_one("#status-model", PlainLabel).update(f"{model_name(info)} · on {info.host}")
            self.show_context(0, info.n_ctx)
            return
        gpu = "all" if info.n_gpu_layers < 0 else str(info.n_gpu_layers)
        if info.n_layers and info.n_gpu_layers >= 0:
            gpu += f"/{info.n_layers}"
        self.query_one("#status-model", PlainLabel).update(
            f"{model_name(info)} · {info.quant} · GPU layers {gpu}")
        self.show_context(0, info.n_ctx)

    def show_context(self, used: int, size: int) -> None:
        self.query_one("#status-ctx", PlainLabel).update(f"context {context_meter(used, size)}")

    def show_live(self, tps: float) -> None:
        """The speed of the reply streaming now (every ``LIVE_SPEED_INTERVAL_S`` at most)."""
        now = time.monotonic()
        if now - self._live_shown_at >= LIVE_SPEED_INTERVAL_S:
            self._live_shown_at = now
            self.query_one("#status-speed", LiveText).text = f"generating · {tps:.1f} t/s"

    def show_text(self, text: str) -> None:
        self._live_shown_at = 0.0  # the next live speed shows at once
        self.query_one("#status-speed", LiveText).text = text

    def show_reply(self, stats: ReplyStats) -> None:
        self.show_context(stats.ctx_used, stats.n_ctx)
        self.show_text(reply_figures(stats))

    def set_history(self, tps_per_reply: list[float]) -> None:
        self.query_one(SpeedHistory).data = list(tps_per_reply)
