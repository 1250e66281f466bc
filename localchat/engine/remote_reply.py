"""A reply streamed by an OpenAI-compatible server, read chunk by chunk: its text, how it ended
and its figures. Pure (no HTTP here: ``engine/remote.py`` reads the stream), so each server's
dialect is tested on its own.

What the servers send in ``/v1/chat/completions`` chunks (``stream: true``):
- every one: ``choices[0].delta.content`` (text), ``choices[0].finish_reason`` on the last
  (``stop``, ``length``; ``tool_calls`` and ``content_filter`` end it too);
- reasoning models: ``delta.reasoning_content`` (llama-server, vLLM) or ``delta.reasoning``
  (Ollama, newer vLLM): shown as a ``<think>`` block, as the local engine's replies have it;
- with ``stream_options.include_usage``: a last chunk with ``usage`` (``prompt_tokens``,
  ``completion_tokens``; vLLM: ``prompt_tokens_details.cached_tokens``). llama_cpp.server sends
  none even when asked;
- llama-server: ``timings`` in its last chunk (``prompt_n``, ``cache_n``, ``predicted_n``,
  ``prompt_per_second``, ``predicted_per_second``): its own clock, without the network's share;
- an error mid-stream: ``{"error": {"message": …}}`` (vLLM, llama-server).

The speeds, best source first: the server's ``timings``; else ``usage`` and this client's clock
(tokens after the first over the time between the first and last piece, as the local engine
measures); else a count of the text pieces (servers send about one token a piece), marked
``approximate``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localchat.engine.thinking import CLOSE, OPEN
from localchat.engine.types import FinishReason, ReplyStats
from localchat.errors import EndpointClosedError

FINISH: dict[str, FinishReason] = {"stop": "stop", "length": "length", "eos": "stop",
                                   "tool_calls": "stop", "function_call": "stop",
                                   "content_filter": "stop"}
MAX_MESSAGE_CHARS = 300  # of a server's error text, in a one-line error


def error_message(body: Any) -> str:
    """The message an error body carries, in the shapes servers use: OpenAI's and vLLM's
    ``{"error": {"message"}}``, Ollama's and LM Studio's ``{"error": "…"}``, FastAPI's
    ``{"detail"}`` (llama_cpp.server), ``{"message"}``; else the text itself. One line."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return _one_line(body)
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("msg") or value
            if isinstance(value, list) and value and isinstance(value[0], dict):  # FastAPI's 422
                value = value[0].get("msg", value)
            if value:
                return _one_line(value if isinstance(value, str) else json.dumps(value))
    return _one_line(json.dumps(body) if not isinstance(body, str) else body)


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def is_context_overflow(message: str) -> bool:
    """The server's words for a prompt longer than its context (llama-server's
    exceed_context_size_error, vLLM's and OpenAI's "maximum context length")."""
    text = message.lower()
    return any(words in text for words in ("exceeds the available context", "exceed_context_size",
                                           "maximum context length", "context length exceeded",
                                           "context window"))


@dataclass(frozen=True)
class ReplyFigures:
    """What the server said about the reply (zeros where it said nothing)."""

    prompt_tokens: int = 0
    prompt_eval_tokens: int = 0
    completion_tokens: int = 0
    prompt_tps: float = 0.0
    gen_tps: float = 0.0
    source: str = "pieces"  # "timings" | "usage" | "pieces"


class ReplyStream:
    """Reads one reply's chunks (``feed``) and sums it up (``stats``). Times are
    ``time.perf_counter()`` readings taken by the caller as each chunk arrived."""

    def __init__(self, t_start: float) -> None:
        self.t_start = t_start
        self.parts: list[str] = []
        self.pieces = 0  # chunks that carried text (answer or reasoning)
        self.thinking_pieces = 0
        self.t_first = self.t_last = self.t_thought = 0.0
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None
        self.timings: dict[str, Any] | None = None
        self._in_reasoning = False

    def feed(self, chunk: Any, now: float) -> list[str]:
        """The text a chunk adds (reasoning wrapped in ``<think>`` tags); raises
        ``EndpointClosedError`` for an error sent mid-stream."""
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk:
            raise EndpointClosedError(f"the server stopped the reply: {error_message(chunk)}")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("timings"), dict):
            self.timings = chunk["timings"]
        out: list[str] = []
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        delta = choice.get("delta") or choice.get("message") or {}  # "message": a whole reply in one
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            content = delta.get("content")
            if isinstance(reasoning, str) and reasoning:
                if not self._in_reasoning:
                    self._in_reasoning = True
                    out.append(OPEN + "\n")
                out.append(reasoning)
                self.thinking_pieces += 1
                self.t_thought = now
            if isinstance(content, str) and content:
                if self._in_reasoning:
                    self._in_reasoning = False
                    out.append("\n" + CLOSE + "\n\n")
                out.append(content)
            if (isinstance(reasoning, str) and reasoning) or (isinstance(content, str) and content):
                self.pieces += 1
                self.t_first = self.t_first or now
                self.t_last = now
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish = reason
        self.parts += out
        return out

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def figures(self) -> ReplyFigures:
        """The reply's figures from the best source the server gave."""
        t = self.timings
        if t and _num(t.get("predicted_n")) > 0:
            prompt_n = int(_num(t.get("prompt_n")))
            return ReplyFigures(prompt_n + int(_num(t.get("cache_n"))), prompt_n,
                                int(_num(t.get("predicted_n"))), _num(t.get("prompt_per_second")),
                                _num(t.get("predicted_per_second")), "timings")
        u = self.usage
        if u and _num(u.get("completion_tokens")) > 0:
            prompt = int(_num(u.get("prompt_tokens")))
            details = u.get("prompt_tokens_details")
            cached = int(_num(details.get("cached_tokens"))) if isinstance(details, dict) else 0
            completion = int(_num(u.get("completion_tokens")))
            return ReplyFigures(prompt, max(prompt - cached, 0), completion,
                                self._per_s(max(prompt - cached, 0), self.ttft_s),
                                self._gen_tps(completion), "usage")
        return ReplyFigures(0, 0, self.pieces, 0.0, self._gen_tps(self.pieces), "pieces")

    @property
    def ttft_s(self) -> float:
        return (self.t_first - self.t_start) if self.t_first else 0.0

    def _gen_tps(self, tokens: int) -> float:
        span = self.t_last - self.t_first
        return (tokens - 1) / span if tokens > 1 and span > 0 else 0.0

    @staticmethod
    def _per_s(tokens: int, seconds: float) -> float:
        return tokens / seconds if tokens > 0 and seconds > 0 else 0.0

    def stats(self, t_end: float, *, cancelled: bool, n_ctx: int, estimated_prompt_tokens: int,
              dropped_messages: int = 0) -> ReplyStats:
        """The ``ReplyStats`` the chat shows and stores. A reply the server ended without saying
        how raises ``EndpointClosedError`` (the caller has its text)."""
        if cancelled:
            finish: FinishReason = "cancelled"
        elif self.finish is None:
            raise EndpointClosedError("the server ended the reply without finishing it",
                                      "the partial reply is kept; Ctrl+R (or asking again) retries")
        else:
            finish = FINISH.get(self.finish, "stop")
        fig = self.figures()
        prompt = fig.prompt_tokens or estimated_prompt_tokens
        prompt_eval = fig.prompt_eval_tokens or prompt
        prompt_tps = fig.prompt_tps or self._per_s(prompt_eval, self.ttft_s)
        return ReplyStats(
            prompt_tokens=prompt,
            prompt_eval_tokens=prompt_eval,
            completion_tokens=fig.completion_tokens,
            ttft_s=self.ttft_s,
            prompt_tps=prompt_tps,
            gen_tps=fig.gen_tps,
            total_s=t_end - self.t_start,
            finish_reason=finish,
            ctx_used=prompt + fig.completion_tokens,
            n_ctx=n_ctx,
            dropped_messages=dropped_messages,
            text=self.text,
            thinking_tokens=min(self.thinking_pieces, fig.completion_tokens),  # a piece a token
            thinking_s=max(self.t_thought - self.t_start, 0.0) if self.thinking_pieces else 0.0,
            approximate=fig.source == "pieces",
        )


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
