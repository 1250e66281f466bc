"""Argument helpers shared by subcommands (standard library only)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from localchat.loadsettings import KV_TYPES, LoadOverrides, LoadSettings, ctx_problem

if TYPE_CHECKING:
    from localchat.config import Config

# The bounds every number on the command line is checked against before it reaches the engine
# or the recommender (a ctypes field wraps an out-of-range int silently; an infinite or NaN
# float poisons every sum it enters). The context length's own limits are loadsettings'.
MAX_TOKENS = 1 << 24
MAX_THREADS = 1024
MAX_GPU_LAYERS = 9999  # "all" is -1; no model has anywhere near this many layers


def whole_number(minimum: int, maximum: int, meaning: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number in ``minimum..maximum`` (``meaning`` explains a special
    value, e.g. "-1 means all")."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            note = f" ({meaning})" if meaning else ""
            if maximum == _NO_MAX:
                raise argparse.ArgumentTypeError(f"{text!r} must be {minimum} or more{note}")
            raise argparse.ArgumentTypeError(f"{text!r} must be from {minimum} to {maximum}{note}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(minimum: float, maximum: float, *, above_minimum: bool = False,
           unit: str = "") -> Callable[[str], float]:
    """An argparse type: a finite number in ``minimum..maximum`` (excluding ``minimum`` when
    ``above_minimum``); ``nan`` and ``inf`` are refused."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        low_ok = value > minimum if above_minimum else value >= minimum
        if not (math.isfinite(value) and low_ok and value <= maximum):
            span = (f"above {minimum:.15g} and at most {maximum:.15g}" if above_minimum
                    else f"from {minimum:.15g} to {maximum:.15g}") + (f" {unit}" if unit else "")
            raise argparse.ArgumentTypeError(f"{text!r} must be a number {span}")
        return value

    parse.__name__ = "number"
    return parse


_NO_MAX = 1 << 62
positive_int = whole_number(1, _NO_MAX)
thread_count = whole_number(1, MAX_THREADS)
gpu_layers = whole_number(-1, MAX_GPU_LAYERS, "-1 means all layers")
# llama.cpp's seed is a uint32 (0xFFFFFFFF: a random seed each time)
seed_number = whole_number(0, (1 << 32) - 1)
# the chat settings' ranges (config.RULES)
temperature = number(0.0, 2.0)
probability = number(0.0, 1.0)  # --top-p, --min-p
top_k_count = whole_number(0, 1 << 31, "0 means no limit")
repeat_penalty = number(1.0, 2.0)  # 1: off
# --ram and --vram are checked by recommend.profiles.hypothetical_profile (finite, in range)
tokens_count = whole_number(1, MAX_TOKENS)  # bench --pp/--tg, ask --max-tokens


def context_length(text: str) -> int:
    """``--ctx``: a context length anything here loads (loadsettings' limits, one rule)."""
    value = positive_int(text)
    problem = ctx_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return value


def rpc_workers(text: str) -> tuple[str, ...]:
    """``--rpc h1:p1,h2:p2`` (``off``: none, not even the config's ``[rpc] workers``)."""
    from localchat.errors import LocalChatError
    from localchat.rpcpool import parse_workers

    if text.strip().lower() == "off":
        return ()
    try:
        return parse_workers(text)
    except LocalChatError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--rpc: ")) from None


def add_rpc_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpc", type=rpc_workers, metavar="HOST:PORT,...",
                        help="spread the model's layers over these llama.cpp RPC workers (`localchat "
                             "worker` on each) and this machine; default: the config's [rpc] workers; "
                             "off: none")


def pooled(settings: LoadSettings, args: argparse.Namespace, config: Config | None = None) -> LoadSettings:
    """``settings`` with the pool's workers: ``--rpc``, else the config's ``[rpc] workers``."""
    import dataclasses

    workers = getattr(args, "rpc", None)
    if workers is None:
        from localchat.config import load_config

        workers = (config or load_config()).rpc_workers
    return dataclasses.replace(settings, rpc_workers=workers)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model and the load settings; a setting not given is the configured model's (or, with
    --model, the default), never a hidden per-command default."""
    parser.add_argument("--model", metavar="PATH", help="GGUF model file (default: the configured one)")
    parser.add_argument("--ctx", type=context_length, metavar="N",
                        help="context length in tokens (default: the configured model's, else 8192)")
    parser.add_argument("--threads", type=thread_count, metavar="N",
                        help="generation threads (default: physical cores)")
    parser.add_argument("--gpu-layers", type=gpu_layers, metavar="N",
                        help="layers to offload to the GPU (-1: all; "
                             "default: the configured model's, else 0)")
    parser.add_argument("--kv-type", choices=KV_TYPES,
                        help="KV cache type (default: the configured model's, else f16; "
                             "quantized types turn on flash attention)")
    parser.add_argument("--flash-attn", action="store_true", default=None, help="use flash attention")
    add_rpc_option(parser)


def overrides(args: argparse.Namespace) -> LoadOverrides:
    """What the user asked for on the command line (None where they did not)."""
    return LoadOverrides(n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, n_threads=args.threads,
                         kv_type=args.kv_type, flash_attn=args.flash_attn)


def model_and_settings(args: argparse.Namespace, config: Config | None = None) -> tuple[Path, LoadSettings]:
    """--model with the default settings, else the configured model with its saved settings
    (the ones the chat uses); the command line's options on top. A clear error when there is
    no model."""
    from localchat.config import load_config
    from localchat.errors import LocalChatError

    asked = overrides(args)
    config = config or load_config()
    if args.model:
        return Path(args.model).expanduser(), pooled(asked.apply(LoadSettings()), args, config)
    configured = config.model.path
    if configured:
        path = Path(configured).expanduser()
        if not path.exists():
            raise LocalChatError(
                f"the configured model {path} is no longer on disk",
                "run `localchat` to choose another (it opens the setup), `localchat pull` it again, "
                "or pass --model PATH")
        return path, pooled(config.model.load_settings(asked), args, config)
    raise LocalChatError(
        "no model given and none configured",
        "pass --model PATH, or run `localchat` once to set one up",
    )
