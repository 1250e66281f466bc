"""Argument helpers shared by subcommands (standard library only)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

# The bounds every number on the command line is checked against before it reaches the engine
# or the recommender (a ctypes field wraps an out-of-range int silently; an infinite or NaN
# float poisons every sum it enters). The largest trained contexts are 10M tokens (Llama 4).
MAX_CTX = 1 << 24
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
temperature = number(0.0, 2.0)  # the chat settings' range
# --ram and --vram are checked by recommend.profiles.hypothetical_profile (finite, in range)
tokens_count = whole_number(1, MAX_CTX)  # bench --pp/--tg, ask --max-tokens


def context_length(text: str) -> int:
    """``--ctx``: a whole number the engine can load (MIN_CTX or more, the engine's own rule)."""
    from localchat.engine.types import MIN_CTX

    value = positive_int(text)
    if value < MIN_CTX:
        raise argparse.ArgumentTypeError(f"{text!r} is too small: a context holds {MIN_CTX} tokens or more")
    if value > MAX_CTX:
        raise argparse.ArgumentTypeError(f"{text!r} is too large: at most {MAX_CTX} tokens")
    return value


def add_model_options(parser: argparse.ArgumentParser, default_ctx: int) -> None:
    parser.add_argument("--model", metavar="PATH", help="GGUF model file (default: the configured one)")
    parser.add_argument("--ctx", type=context_length, default=default_ctx, metavar="N",
                        help=f"context length in tokens (default {default_ctx})")
    parser.add_argument("--threads", type=thread_count, metavar="N",
                        help="generation threads (default: physical cores)")
    parser.add_argument("--gpu-layers", type=gpu_layers, default=0, metavar="N",
                        help="layers to offload to the GPU (-1: all; default 0)")
    parser.add_argument("--kv-type", choices=("f16", "q8_0", "q4_0"), default="f16",
                        help="KV cache type (quantized types turn on flash attention)")
    parser.add_argument("--flash-attn", action="store_true", help="use flash attention")


def model_path(args: argparse.Namespace) -> Path:
    """--model, else the model saved in the config; a clear error when there is neither."""
    from localchat.config import load_config
    from localchat.errors import LocalChatError

    if args.model:
        return Path(args.model).expanduser()
    configured = load_config().model.path
    if configured:
        path = Path(configured).expanduser()
        if not path.exists():
            raise LocalChatError(
                f"the configured model {path} is no longer on disk",
                "run `localchat` to choose another (it opens the setup), `localchat pull` it again, "
                "or pass --model PATH")
        return path
    raise LocalChatError(
        "no model given and none configured",
        "pass --model PATH, or run `localchat` once to set one up",
    )


def load_settings(args: argparse.Namespace):  # -> LoadSettings (lazy import)
    from localchat.engine.types import LoadSettings

    return LoadSettings(
        n_ctx=args.ctx,
        n_gpu_layers=args.gpu_layers,
        n_threads=args.threads,
        flash_attn=args.flash_attn,
        kv_type=args.kv_type,
    )
