"""``RemoteEngine``: a model on another machine, through its server's OpenAI-compatible API
(llama.cpp's ``llama-server``, ``python -m llama_cpp.server``, vLLM, Ollama's ``/v1``, LM Studio).

The same ``ChatEngine`` as the local one: replies stream from ``/v1/chat/completions`` with
``stream: true`` (parsed by httpx2's own server-sent-events reader: huggingface_hub's HTTP client,
already installed), stop when ``cancel`` is set (the connection is closed, so the server stops
generating), and end with the same ``ReplyStats`` (``engine/remote_reply.py`` says where each
figure comes from). The model's facts come from ``/v1/models`` and, on llama-server, ``/props``
(its context size and chat template).

Token counts (``count_tokens``): llama-server's own (``/apply-template`` then ``/tokenize``), for
which the chat also leaves out the oldest turns that no longer fit, as the local engine does;
other servers have no such API in common, so a count is estimated (4 characters a token, 4 tokens
a message) and a conversation longer than the server's context gets its one-line error.

The API key is read from the environment variable the endpoint names, sent in the
``Authorization`` header and nowhere else: errors and logs never hold it (a server that echoes it
back has it replaced by ``***``).

No textual and no llama_cpp here; httpx2 is imported when a server is first asked.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from localchat.engine.endpoint import (
    INFO_TIMEOUT_S,
    EndpointClient,
    api_root,
    as_dict,
    entry_context,
    fetch_models,
    positive_int,
    server_root,
)
from localchat.engine.fit import fit_counted
from localchat.engine.remote_reply import ReplyStream
from localchat.engine.target import RemoteModel
from localchat.engine.thinking import answer_only, template_thinking
from localchat.engine.types import Message, ModelInfo, ReplyEvent, Sampling, TextChunk
from localchat.errors import (
    EndpointAuthError,
    EndpointClosedError,
    EndpointError,
    EndpointModelNotFoundError,
    EndpointUnreachableError,
    LocalChatError,
)
from localchat.ggufmeta import quant_label_from_filename

COUNT_TIMEOUT_S = 1.0  # /apply-template + /tokenize: the chat's context meter waits for them
POLL_S = 0.05  # how often a reply waiting for the server looks at its stop signal
_END = object()


class RemoteEngine:
    """A model on a server, behind the ``ChatEngine`` protocol. Construction asks the server for
    the model (so an unreachable server, a refused key or an unknown model fail here, in one
    line). One reply at a time."""

    def __init__(self, target: RemoteModel) -> None:
        self.target = target
        self._client = EndpointClient(target.endpoint)
        try:
            self._info, self._llama_server = self._describe()
        except BaseException:
            self._client.close()
            raise
        self._busy = threading.Lock()
        self._count_failed_at = 0.0

    def _describe(self) -> tuple[ModelInfo, bool]:
        t = self.target
        entries = fetch_models(self._client, INFO_TIMEOUT_S)
        entry = next((m for m in entries if m["id"] == t.model), None)
        if entry is None:
            listed = ", ".join(m["id"] for m in entries[:8]) or "none"
            raise EndpointModelNotFoundError(f"{self._client.where()} has no model {t.model!r} "
                                             f"(it lists: {listed})", "choose one of those")
        n_ctx, n_ctx_train = entry_context(entry)
        props = self._props() or {}
        llama_server = isinstance(props.get("default_generation_settings"), dict)
        if llama_server:
            n_ctx = (positive_int(as_dict(props["default_generation_settings"]).get("n_ctx"))
                     or positive_int(props.get("n_ctx")) or n_ctx)
        template = props.get("chat_template")
        meta = as_dict(entry.get("meta"))
        info = ModelInfo(
            path=t.model, name=t.model, architecture="", quant=quant_label_from_filename(t.model) or "",
            size_bytes=positive_int(meta.get("size")), n_ctx=n_ctx, n_ctx_train=n_ctx_train, n_layers=0,
            n_gpu_layers=0, kv_type="", flash_attn=False, n_threads=0, n_threads_batch=0,
            thinking=template_thinking(template) if isinstance(template, str) else "none",
            host=t.host)
        return info, llama_server

    def _props(self) -> dict[str, Any] | None:
        """llama-server's ``/props``; None from a server without it (404 and the like)."""
        try:
            props = self._client.get_json(server_root(self.target.endpoint) + "/props")
        except (EndpointAuthError, EndpointUnreachableError):
            raise
        except LocalChatError:
            return None
        return props if isinstance(props, dict) else None

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def counts_exactly(self) -> bool:
        """Token counts are the server's own (llama-server), not an estimate."""
        return self._llama_server

    # ----------------------------------------------------------------- token counts
    def count_tokens(self, messages: Sequence[Message]) -> int:
        """llama-server's count (its template, then its tokenizer); else, or when it does not
        answer within ``COUNT_TIMEOUT_S``, an estimate."""
        if self._llama_server and time.monotonic() - self._count_failed_at > 30:
            try:
                return self._server_count(messages, COUNT_TIMEOUT_S)
            except LocalChatError:
                self._count_failed_at = time.monotonic()  # estimate for a while, then ask again
        return estimate_tokens(messages)

    def _server_count(self, messages: Sequence[Message], timeout: float) -> int:
        root = server_root(self.target.endpoint)
        rendered = self._client.request_json("POST", root + "/apply-template",
                                             {"messages": wire_messages(messages)}, timeout=timeout)
        prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
        if not isinstance(prompt, str):
            raise EndpointError("llama-server's /apply-template sent no prompt")
        tokens = self._client.request_json("POST", root + "/tokenize",
                                           {"content": prompt, "parse_special": True}, timeout=timeout)
        if not isinstance(tokens, dict) or not isinstance(tokens.get("tokens"), list):
            raise EndpointError("llama-server's /tokenize sent no tokens")
        return len(tokens["tokens"])

    # ----------------------------------------------------------------- replies
    def chat(self, messages: Sequence[Message], sampling: Sampling | None = None,
             cancel: threading.Event | None = None) -> Iterator[ReplyEvent]:
        if not self._busy.acquire(blocking=False):
            raise LocalChatError("a reply is already being generated", "stop it first (Esc)")
        try:
            yield from self._generate(messages, sampling or Sampling(), cancel or threading.Event())
        finally:
            self._busy.release()

    def _generate(self, messages: Sequence[Message], sampling: Sampling,
                  cancel: threading.Event) -> Iterator[ReplyEvent]:
        t_start = time.perf_counter()
        n_ctx, dropped, prompt_tokens = self._info.n_ctx, 0, 0
        if self._llama_server and n_ctx > 0:  # the oldest turns that no longer fit are left out
            count = lambda ms: self._server_count(ms, INFO_TIMEOUT_S)  # noqa: E731
            # when it does not count, the whole conversation goes, as to other servers
            with contextlib.suppress(EndpointError):
                messages, prompt_tokens, dropped = fit_counted(messages, count, n_ctx, sampling.max_tokens)
        reply = ReplyStream(t_start)
        events: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=self._read, args=(self._payload(messages, sampling), events, stop),
                                  name="remote-reply", daemon=True)
        reader.start()
        cancelled = False
        try:
            while True:
                try:
                    item = events.get(timeout=POLL_S)
                except queue.Empty:
                    if cancel.is_set():
                        cancelled = True
                        break
                    continue
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                for text in reply.feed(item, time.perf_counter()):
                    yield TextChunk(text)
                if cancel.is_set():
                    cancelled = True
                    break
        finally:
            stop.set()  # the reader closes the connection at the server's next piece
        yield reply.stats(time.perf_counter(), cancelled=cancelled, n_ctx=n_ctx,
                          estimated_prompt_tokens=prompt_tokens or estimate_tokens(messages),
                          dropped_messages=dropped)

    def _payload(self, messages: Sequence[Message], sampling: Sampling) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.target.model, "messages": wire_messages(messages), "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": sampling.temperature, "top_p": sampling.top_p,
            # llama.cpp's samplers: llama-server, llama_cpp.server, vLLM, Ollama and LM Studio
            # take them (or ignore them)
            "top_k": sampling.top_k, "min_p": sampling.min_p, "repeat_penalty": sampling.repeat_penalty,
        }
        if sampling.max_tokens:
            payload["max_tokens"] = sampling.max_tokens
        if sampling.seed is not None:
            payload["seed"] = sampling.seed
        if sampling.enable_thinking is not None:  # llama-server's and vLLM's template switch
            payload["chat_template_kwargs"] = {"enable_thinking": sampling.enable_thinking}
        return payload

    def _read(self, payload: dict[str, Any], events: queue.Queue[Any], stop: threading.Event) -> None:
        """The reply's HTTP stream, in a thread of its own: each chunk's JSON goes to ``events``,
        then ``_END`` (or the error). Returning closes the connection: when ``stop`` is set the
        server sees the client gone at its next piece and stops generating."""
        import httpx2

        url = api_root(self.target.endpoint) + "/chat/completions"
        started = False
        end: Any = _END  # what the reply's reader hears last: the end, or why there is none
        try:
            with self._client.http.stream("POST", url, json=payload,
                                          headers={"Accept": "text/event-stream"}) as response:
                if response.status_code >= 400:
                    end = self._client.http_error(response.status_code, response.read(), url,
                                                  self.target.model)
                    return
                started = True
                kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
                if kind != "text/event-stream":  # a server that answered with the whole reply
                    events.put(json.loads(response.read()))
                    return
                for event in httpx2.EventSource(response):
                    if stop.is_set():
                        return
                    if event.data.strip() == "[DONE]":
                        break
                    if event.data.strip():
                        events.put(json.loads(event.data))
        except httpx2.TransportError as exc:
            end = self._client.transport_error(exc, mid_reply=started)
        except ValueError:  # json.JSONDecodeError
            end = EndpointClosedError(f"{self._client.where()} sent a reply piece that is not JSON")
        except Exception as exc:  # noqa: BLE001 - the reply's reader must hear of any failure
            end = EndpointClosedError(f"the reply from {self._client.where()} failed "
                                      f"({type(exc).__name__}: {self._client.redact(str(exc))})")
        finally:
            events.put(end)

    def close(self) -> None:
        self._client.close()


def wire_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """The conversation as the API takes it; earlier replies without their thinking (as the local
    engine sends them back). A last assistant message is sent as it is: llama-server continues
    it (Ctrl+E); servers without that prefill answer it as a new turn."""
    last = len(messages) - 1
    return [{"role": m.role,
             "content": answer_only(m.content) if m.role == "assistant" and i != last else m.content}
            for i, m in enumerate(messages)]


def estimate_tokens(messages: Sequence[Message]) -> int:
    """About 4 characters a token in English text, and 4 tokens of template around each message:
    a count for servers that do not say theirs."""
    return sum((len(m.content) + 3) // 4 + 4 for m in messages)

