"""Argument helpers shared by subcommands (standard library only)."""

from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def context_length(text: str) -> int:
    """``--ctx``: a whole number the engine can load (MIN_CTX or more, the engine's own rule)."""
    from localchat.engine.types import MIN_CTX

    value = positive_int(text)
    if value < MIN_CTX:
        raise argparse.ArgumentTypeError(f"{text!r} is too small: a context holds {MIN_CTX} tokens or more")
    return value


def add_model_options(parser: argparse.ArgumentParser, default_ctx: int) -> None:
    parser.add_argument("--model", metavar="PATH", help="GGUF model file (default: the configured one)")
    parser.add_argument("--ctx", type=context_length, default=default_ctx, metavar="N",
                        help=f"context length in tokens (default {default_ctx})")
    parser.add_argument("--threads", type=positive_int, metavar="N",
                        help="generation threads (default: physical cores)")
    parser.add_argument("--gpu-layers", type=int, default=0, metavar="N",
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
