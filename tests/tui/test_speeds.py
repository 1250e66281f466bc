"""Speeds shown honestly: the status bar's bars start at zero, and compare quants states a
difference only when both replies were long enough to time and differ by more than noise."""

from __future__ import annotations

import pytest

from localchat.engine.types import ReplyStats
from localchat.options.compare import speed_words
from localchat.tui.widgets.statusbar import speed_bars


@pytest.mark.parametrize(("tps", "width", "bars"), [
    ([115.0, 127.0], 16, "▇█"),  # a 10% dip is a bar one eighth lower, not an empty one
    ([127.0, 115.0, 127.0], 16, "█▇█"),
    ([42.5], 16, "█"),
    ([10.0, 100.0], 16, "▁█"),
    ([1.0, 50.0, 100.0], 2, "▄█"),  # the latest replies that fit
    ([], 16, ""),
    ([0.0, 0.0], 16, ""),
])
def test_speed_bars_start_at_zero(tps, width, bars):
    assert speed_bars(tps, width) == bars


def stats(gen_tps: float, tokens: int, finish: str = "stop", *, approximate: bool = False) -> ReplyStats:
    return ReplyStats(prompt_tokens=30, prompt_eval_tokens=30, completion_tokens=tokens, ttft_s=0.05,
                      prompt_tps=900.0, gen_tps=gen_tps, total_s=1.0, finish_reason=finish,  # type: ignore[arg-type]
                      ctx_used=30 + tokens, n_ctx=2048, approximate=approximate)


def counted(gen_tps: float, tokens: int, finish: str = "stop") -> ReplyStats:
    """A server's reply timed by counting its text pieces (it sent no token counts)."""
    return stats(gen_tps, tokens, finish, approximate=True)


APPROXIMATE = "(Q8_0: approximate, the server sent no token counts so its text pieces were counted)."


@pytest.mark.parametrize(("current", "other", "words"), [
    # the case that started it: 15 tokens against 22 said "0.89× the speed"
    (stats(125.0, 15), stats(111.0, 22), "Their speeds are within noise (15 and 22 tokens; "
                                         "a speed needs 64 on each side)."),
    (stats(125.0, 300), stats(111.0, 40), "within noise (300 and 40 tokens"),
    (stats(125.0, 300, "cancelled"), stats(60.0, 300), "within noise (300 and 300 tokens"),
    (stats(120.0, 128), stats(127.0, 128), "Their speeds are within noise (120.0 and 127.0 t/s, 1.06×)."),
    (stats(120.0, 64), stats(74.0, 256, "length"), "Q8_0 generated at 0.62× the speed of Q4_1."),
    (stats(80.0, 128), stats(120.0, 128), "Q8_0 generated at 1.50× the speed of Q4_1."),
    # a server's counted pieces: said to be approximate, and a 15% difference is within noise
    (stats(100.0, 128), counted(115.0, 128), f"within noise (100.0 and 115.0 t/s, 1.15×) {APPROXIMATE}"),
    (stats(100.0, 128), counted(130.0, 128),
     f"Q8_0 generated at about 1.30× the speed of Q4_1 {APPROXIMATE}"),
    (stats(100.0, 128), counted(150.0, 30), f"(128 and ~30 tokens; a speed needs 64 on each side) "
                                            f"{APPROXIMATE}"),
    (counted(100.0, 128), counted(70.0, 128), "generated at about 0.70× the speed of Q4_1 (Q4_1 and Q8_0: "
                                              "approximate"),
])
def test_compare_states_a_speed_difference_only_when_it_is_real(current, other, words):
    assert words in speed_words(current, other, "Q4_1", "Q8_0")
