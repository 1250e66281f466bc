"""``localchat ask``: one question, the reply streamed to stdout."""

from __future__ import annotations

import argparse
import json
import sys

from localchat.commands._common import add_model_options, load_settings, model_path, positive_int

ORDER = 10
# a reply that did not end by itself says so (stdout keeps only the reply)
CUT_OFF = {
    "length": "the reply was cut off at --max-tokens {max_tokens}: raise it for a longer reply",
    "context": "the reply was cut off: the context window ({ctx} tokens) is full; raise --ctx",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask a model one question and stream the reply",
                       description="Ask one question; the reply streams to stdout.")
    add_model_options(p, default_ctx=4096)
    p.add_argument("--max-tokens", type=positive_int, default=512, metavar="N",
                   help="longest reply in tokens, thinking included (default 512)")
    p.add_argument("--thinking", choices=("on", "off"), default=None,
                   help="turn a reasoning model's thinking on or off, where its template has the "
                        "switch (Qwen3); default: the model's own")
    p.add_argument("--show-thinking", action="store_true",
                   help="print the model's thinking on stderr even when stderr is not a terminal")
    p.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="sampling temperature (default: from config, 0.7)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="random seed")
    p.add_argument("--system", default=None, metavar="TEXT",
                   help="system prompt (default: from config)")
    p.add_argument("--json", action="store_true",
                   help="after the reply, print one line of JSON with the text and stats")
    p.add_argument("prompt", nargs="?", default=None, metavar="PROMPT",
                   help="the question; read from stdin when omitted or '-'; piped text given with "
                        "a PROMPT comes first, then the PROMPT")
    p.set_defaults(func=run)


def read_prompt(arg: str | None) -> str:
    """The prompt argument, stdin, or both: piped text then the instruction (``localchat ask
    "Summarize this" < notes.txt``), as ``llm`` and ``ollama run`` do."""
    from localchat.errors import LocalChatError

    piped = sys.stdin is not None and not sys.stdin.isatty()
    if arg is None or arg == "-":
        if not piped:
            raise LocalChatError("no prompt given", "pass it as an argument or pipe it on stdin")
        text = sys.stdin.read()
    else:
        stdin_text = sys.stdin.read() if piped else ""
        text = f"{stdin_text.rstrip()}\n\n{arg}" if stdin_text.strip() else arg
    if not text.strip():
        raise LocalChatError("the prompt is empty", "pass a question as an argument or on stdin")
    return text


def run(args: argparse.Namespace) -> int:
    from localchat.config import load_config
    from localchat.engine import Message, ReplyStats, Sampling, load_engine
    from localchat.engine.thinking import ThinkingSplitter, split_reply
    from localchat.errors import LocalChatError

    prompt = read_prompt(args.prompt)
    chat_defaults = load_config().chat
    path = model_path(args)
    engine = load_engine(str(path), load_settings(args))
    system = chat_defaults.system_prompt if args.system is None else args.system
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    sampling = Sampling(
        temperature=chat_defaults.temperature if args.temperature is None else args.temperature,
        top_p=chat_defaults.top_p,
        max_tokens=args.max_tokens,
        seed=args.seed,
        enable_thinking=None if args.thinking is None else args.thinking == "on",
    )
    out = sys.stdout
    stats: ReplyStats | None = None
    # a reasoning model's thinking goes to stderr (a terminal, or --show-thinking), never stdout
    show_thinking = args.show_thinking or (sys.stderr is not None and sys.stderr.isatty())
    splitter = ThinkingSplitter()
    thinking_line = False  # stderr holds an unfinished line of thinking

    def emit(kind: str, text: str) -> None:
        nonlocal thinking_line
        if kind == "thinking":
            if show_thinking:
                sys.stderr.write(text)
                sys.stderr.flush()
                thinking_line = not text.endswith("\n")
            return
        if thinking_line:
            sys.stderr.write("\n")
            thinking_line = False
        out.write(text)
        out.flush()

    try:
        for event in engine.chat(messages, sampling):
            if isinstance(event, ReplyStats):
                stats = event
                continue
            for kind, text in splitter.feed(event.text):
                emit(kind, text)
        for kind, text in splitter.flush():
            emit(kind, text)
    except KeyboardInterrupt:
        out.write("\n")
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
        from localchat.recommend.calibration import record_reply_speed

        record_reply_speed(engine.info, stats)
        cut = CUT_OFF.get(stats.finish_reason)
        if cut:
            print(f"localchat: {cut.format(max_tokens=args.max_tokens, ctx=stats.n_ctx)}", file=sys.stderr)
    if args.json and stats is not None:
        from localchat.download.names import model_display_name

        info = engine.info
        reply = split_reply(stats.text)
        record = {
            "text": reply.answer,
            "thinking": reply.thinking,
            "thinking_tokens": stats.thinking_tokens,
            "model": model_display_name(info.path, info.name),
            "model_path": info.path,
            "quant": info.quant,
            "n_ctx": stats.n_ctx,
            "prompt_tokens": stats.prompt_tokens,
            "prompt_eval_tokens": stats.prompt_eval_tokens,
            "completion_tokens": stats.completion_tokens,
            "ttft_s": round(stats.ttft_s, 4),
            "prompt_tps": round(stats.prompt_tps, 2),
            "gen_tps": round(stats.gen_tps, 2),
            "total_s": round(stats.total_s, 4),
            "finish_reason": stats.finish_reason,
            "cut_off": stats.finish_reason in CUT_OFF,
            "dropped_messages": stats.dropped_messages,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0
