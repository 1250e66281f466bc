"""``localchat ask``: one question, the reply streamed to stdout."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from localchat.commands._common import (
    add_model_options,
    model_and_settings,
    probability,
    repeat_penalty,
    seed_number,
    temperature,
    tokens_count,
    top_k_count,
)

if TYPE_CHECKING:
    from localchat.config import Config
    from localchat.engine import ModelInfo, Sampling
    from localchat.engine.target import LoadTarget
    from localchat.loadsettings import LoadSettings

ORDER = 10
# a reply that did not end by itself says so (stdout keeps only the reply)
CUT_OFF = {
    "length": "the reply was cut off at --max-tokens {max_tokens}: raise it for a longer reply",
    "context": "the reply was cut off: the context window ({ctx} tokens) is full; raise --ctx",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask a model one question and stream the reply",
                       description="Ask one question; the reply streams to stdout.")
    add_model_options(p)
    p.add_argument("--endpoint", metavar="NAME|URL",
                   help="ask a model on a server with an OpenAI-compatible API: an [[endpoints]] "
                        "name or the server's URL; --model then names the server's model (default: "
                        "the first it lists)")
    p.add_argument("--max-tokens", type=tokens_count, default=512, metavar="N",
                   help="longest reply in tokens, thinking included (default 512)")
    p.add_argument("--thinking", choices=("on", "off"), default=None,
                   help="turn a reasoning model's thinking on or off, where its template has the "
                        "switch (Qwen3); default: the model's own")
    p.add_argument("--show-thinking", action="store_true",
                   help="print the model's thinking on stderr even when stderr is not a terminal")
    sampling = p.add_argument_group(
        "sampling", "each defaults to the config's [chat] value where it sets one, else to what "
                    "the model's authors recommend (the catalog keeps the source), else "
                    "localchat's default")
    sampling.add_argument("--temperature", type=temperature, default=None, metavar="T",
                          help="sampling temperature, 0 to 2 (localchat's default 0.7)")
    sampling.add_argument("--top-p", type=probability, default=None, metavar="P",
                          help="nucleus sampling, 0 to 1 (localchat's default 0.95)")
    sampling.add_argument("--top-k", type=top_k_count, default=None, metavar="K",
                          help="sample from the K likeliest tokens; 0: no limit (default 40)")
    sampling.add_argument("--min-p", type=probability, default=None, metavar="P",
                          help="drop tokens below P times the likeliest one's probability "
                               "(default 0.05)")
    sampling.add_argument("--repeat-penalty", type=repeat_penalty, default=None, metavar="R",
                          help="penalty for repeated tokens, 1 to 2; 1: off (default 1)")
    p.add_argument("--seed", type=seed_number, default=None, metavar="S", help="random seed")
    prompt = p.add_mutually_exclusive_group()
    prompt.add_argument("--system", default=None, metavar="TEXT",
                        help="system prompt (default: from config)")
    prompt.add_argument("--preset", default=None, metavar="NAME",
                        help="a system-prompt preset: Helpful assistant, Concise, Coder, Tutor, "
                             "Translator, or one of the config's [[chat.presets]]")
    p.add_argument("--json", action="store_true",
                   help="after the reply, print one line of JSON with the text and stats")
    p.add_argument("--raw", action="store_true",
                   help="write the reply exactly as the model wrote it, control characters too "
                        "(by default they are shown as symbols: a reply cannot drive the terminal)")
    p.add_argument("prompt", nargs="?", default=None, metavar="PROMPT",
                   help="the question; read from stdin when omitted or '-'; piped text given with "
                        "a PROMPT comes first, then the PROMPT")
    p.set_defaults(func=run)


def read_prompt(arg: str | None) -> str:
    """The prompt argument, stdin, or both: piped text then the instruction (``localchat ask
    "Summarize this" < notes.txt``), as ``llm`` and ``ollama run`` do. Bytes that are not UTF-8
    (argv keeps them as lone surrogates) become U+FFFD, so the engine and the store can encode it."""
    from localchat.errors import LocalChatError
    from localchat.safetext import from_os

    piped = sys.stdin is not None and not sys.stdin.isatty()
    if arg is None or arg == "-":
        if not piped:
            raise LocalChatError("no prompt given", "pass it as an argument or pipe it on stdin")
        text = _read_stdin()
    else:
        stdin_text = _read_stdin() if piped else ""
        arg = from_os(arg)
        text = f"{stdin_text.rstrip()}\n\n{arg}" if stdin_text.strip() else arg
    if not text.strip():
        raise LocalChatError("the prompt is empty", "pass a question as an argument or on stdin")
    return text


def _read_stdin() -> str:
    from localchat.safetext import decode_bytes, from_os

    if hasattr(sys.stdin, "buffer"):
        return decode_bytes(sys.stdin.buffer.read())
    return from_os(sys.stdin.read())  # a replaced text stream (tests, embedding)


def _record(info, text: str, stats) -> dict:  # (ModelInfo, str, ReplyStats | None) -> JSON object
    """The --json line; after Ctrl-C there are no stats: the counts and speeds are null."""
    from localchat.engine.thinking import split_reply
    from localchat.recommend.names import model_display_name

    reply = split_reply(text)
    return {
        "text": reply.answer,
        "thinking": reply.thinking,
        "thinking_tokens": stats.thinking_tokens if stats else None,
        "model": model_display_name(info.path, info.name),
        "model_path": "" if info.host else info.path,
        "endpoint": info.host or None,
        "quant": info.quant,
        "n_ctx": stats.n_ctx if stats else info.n_ctx,
        "n_gpu_layers": info.n_gpu_layers,
        "kv_type": info.kv_type,
        "prompt_tokens": stats.prompt_tokens if stats else None,
        "prompt_eval_tokens": stats.prompt_eval_tokens if stats else None,
        "completion_tokens": stats.completion_tokens if stats else None,
        "ttft_s": round(stats.ttft_s, 4) if stats else None,
        "prompt_tps": round(stats.prompt_tps, 2) if stats else None,
        "gen_tps": round(stats.gen_tps, 2) if stats else None,
        "total_s": round(stats.total_s, 4) if stats else None,
        "finish_reason": stats.finish_reason if stats else "cancelled",
        "cut_off": stats.finish_reason in CUT_OFF if stats else False,
        "dropped_messages": stats.dropped_messages if stats else None,
    }


def ask_target(args: argparse.Namespace, config: Config) -> tuple[LoadTarget, LoadSettings]:
    """``--endpoint`` (with ``--model`` naming the server's model), else ``--model PATH``, else
    the chat's model: a file, or the server model the chat last switched to."""
    from localchat.config import find_endpoint
    from localchat.engine.endpoint import first_model
    from localchat.engine.target import RemoteModel
    from localchat.errors import LocalChatError
    from localchat.loadsettings import LoadSettings

    remote = args.endpoint if args.endpoint is not None else (
        config.model.endpoint if not args.model else None)
    if not remote:
        path, settings = model_and_settings(args, config)
        return str(path), settings
    local_only = ("ctx", "threads", "gpu_layers", "kv_type", "flash_attn", "rpc")
    given = [f"--{name.replace('_', '-')}" for name in local_only if getattr(args, name) is not None]
    if given:
        raise LocalChatError(f"{', '.join(given)} load a model on this machine; the server "
                             "loads its own", "set them on the server, or pass --model PATH")
    endpoint = find_endpoint(config, remote)
    name = args.model if args.endpoint is not None else config.model.endpoint_model
    target = RemoteModel(endpoint, name) if name else first_model(endpoint)
    return target, LoadSettings()


def system_prompt(args: argparse.Namespace, config: Config) -> str:
    """``--system``, else ``--preset``'s prompt, else the config's."""
    from localchat.presets import find_preset
    from localchat.safetext import from_os

    if args.system is not None:
        return from_os(args.system)
    if args.preset is not None:
        return find_preset(from_os(args.preset), config.presets).prompt
    return config.chat.system_prompt


def sampling_for(args: argparse.Namespace, config: Config, info: ModelInfo) -> Sampling:
    """A flag given wins, then a value the config's [chat] sets, then what the model's authors
    recommend (thinking on or off as this reply will be), then localchat's default."""
    from localchat.engine import Sampling
    from localchat.recommend.catalog import load_catalog
    from localchat.recommend.sampling import SAMPLING_KEYS, choose_sampling, thinks

    # the options are named after the config's [chat] keys (--top-p: top_p)
    own = {key: getattr(config.chat, key) for key in SAMPLING_KEYS}
    flags = {key: getattr(args, key) for key in SAMPLING_KEYS if getattr(args, key) is not None}
    switch = None if args.thinking is None else args.thinking == "on"
    family = load_catalog().family_sampling(info.path, info.name, info.architecture)
    values = choose_sampling({**own, **flags}, config.chat.chosen | set(flags), family,
                             thinks(switch, info.thinking)).values
    return Sampling(temperature=float(values["temperature"]), top_p=float(values["top_p"]),
                    top_k=int(values["top_k"]), min_p=float(values["min_p"]),
                    repeat_penalty=float(values["repeat_penalty"]), max_tokens=args.max_tokens,
                    seed=args.seed, enable_thinking=switch)


def run(args: argparse.Namespace) -> int:
    from localchat.config import load_config
    from localchat.engine import Message, ReplyStats, load_engine
    from localchat.engine.thinking import ThinkingSplitter
    from localchat.errors import LocalChatError
    from localchat.safetext import for_terminal, json_line

    prompt = read_prompt(args.prompt)
    config = load_config()
    system = system_prompt(args, config)  # an unknown preset fails before the model loads
    target, settings = ask_target(args, config)
    engine = load_engine(target, settings)
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    sampling = sampling_for(args, config, engine.info)
    shown = (lambda text: text) if args.raw else for_terminal
    out = sys.stdout
    stats: ReplyStats | None = None
    # a reasoning model's thinking goes to stderr (a terminal, or --show-thinking), never stdout
    show_thinking = args.show_thinking or (sys.stderr is not None and sys.stderr.isatty())
    splitter = ThinkingSplitter()
    thinking_line = False  # stderr holds an unfinished line of thinking
    pieces: list[str] = []  # the reply as the model wrote it, for --json after Ctrl-C

    def emit(kind: str, text: str) -> None:
        nonlocal thinking_line
        if kind == "thinking":
            if show_thinking:
                sys.stderr.write(shown(text))
                sys.stderr.flush()
                thinking_line = not text.endswith("\n")
            return
        if thinking_line:
            sys.stderr.write("\n")
            thinking_line = False
        out.write(shown(text))
        out.flush()

    try:
        for event in engine.chat(messages, sampling):
            if isinstance(event, ReplyStats):
                stats = event
                continue
            pieces.append(event.text)
            for kind, text in splitter.feed(event.text):
                emit(kind, text)
        for kind, text in splitter.flush():
            emit(kind, text)
    except KeyboardInterrupt:
        out.write("\n")
        if args.json:  # the text so far, as the reply it is
            out.write(json_line(_record(engine.info, "".join(pieces), None)) + "\n")
        out.flush()
        print("localchat: stopped", file=sys.stderr)
        return 130
    except LocalChatError:
        out.write("\n")  # the reply so far stays on its own line; the error gets the next
        out.flush()
        raise
    finally:
        engine.close()
    out.write("\n")
    out.flush()
    if stats is not None:  # the recommender and the model menu show measured speeds
        from localchat import paths
        from localchat.recommend.calibration_store import CalibrationStore

        CalibrationStore(paths.calibration_file()).record_reply_speed(engine.info, stats)
        cut = CUT_OFF.get(stats.finish_reason)
        if cut:
            print(f"localchat: {cut.format(max_tokens=args.max_tokens, ctx=stats.n_ctx)}", file=sys.stderr)
    if args.json and stats is not None:
        out.write(json_line(_record(engine.info, stats.text, stats)) + "\n")
    out.flush()
    return 0
