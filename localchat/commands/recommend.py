"""``localchat recommend``: the model, quant and context that fit this (or a hypothetical) machine."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

from localchat.commands._common import context_length, gpu_layers, rpc_workers
from localchat.loadsettings import DEFAULT_CTX

ORDER = 35
GPU_CHOICES = ("none", "cuda", "metal", "rocm", "vulkan")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recommend", help="which model, quant and context fit this machine (or one you describe)",
        description="Recommend the best model for this machine, or for a hypothetical one "
                    "(--ram/--vram/--gpu), or size one model file or Hub repository (--model).")
    p.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    p.add_argument("--ram", type=float, metavar="GiB", help="plan for a machine with this much RAM")
    p.add_argument("--vram", type=float, metavar="GiB", help="…and a GPU with this much memory")
    p.add_argument("--gpu", choices=GPU_CHOICES, help="…of this kind (default with --vram: cuda)")
    p.add_argument("--ctx", type=context_length, metavar="N",
                   help="context length to plan for (default: 8192, shrunk if needed)")
    p.add_argument("--prefer", choices=("balanced", "faster", "quality"),
                   help="what to favour: balanced (default: a comfortable speed, then the larger model, "
                        "then quality), faster, or quality; the config's [recommend] prefer sets the default")
    p.add_argument("--model", metavar="PATH_OR_REPO",
                   help="size this GGUF file, or ORG/NAME[:QUANT] on the Hub (reads only its header)")
    p.add_argument("--kv-type", choices=("f16", "q8_0", "q4_0"), default="f16",
                   help="KV cache type for --model (default f16)")
    p.add_argument("--gpu-layers", type=gpu_layers, metavar="N",
                   help="GPU layers for --model (default: the most that fit)")
    p.add_argument("--rpc", type=rpc_workers, metavar="HOST:PORT,...",
                   help="plan for this machine pooled with these llama.cpp RPC workers (`localchat "
                        "worker` on each): their free memory is asked for now")
    p.set_defaults(func=run)


def _profile(args: argparse.Namespace):  # -> HardwareProfile
    """The machine (probed or described), with the pool's workers as they report themselves."""
    profile = _machine(args)
    if not args.rpc:
        return profile
    from dataclasses import replace

    from localchat.engine.rpcprobe import workers_memory

    return replace(profile, rpc_workers=workers_memory(args.rpc))


def _machine(args: argparse.Namespace):  # -> HardwareProfile
    from localchat.errors import LocalChatError

    if args.ram is None and args.vram is None and args.gpu is None:
        from localchat.engine.buildinfo import llama_build_info

        # the submodule's function: once the submodule is imported, the package's name is it
        from localchat.hardware.probe import probe

        return probe(build_info=llama_build_info)
    if args.ram is None:
        raise LocalChatError("--vram and --gpu describe a hypothetical machine and need --ram too",
                             "e.g. localchat recommend --ram 32 --gpu cuda --vram 12")
    from localchat.recommend import hypothetical_profile

    gpu = args.gpu or ("cuda" if args.vram else "none")
    return hypothetical_profile(args.ram, args.vram, gpu)


def _model_candidate(args: argparse.Namespace, profile, calibration):  # -> Candidate
    from dataclasses import replace

    from localchat.recommend import evaluate, evaluate_file
    from localchat.recommend.names import model_display_name

    ctx = args.ctx or DEFAULT_CTX
    options = {"ctx": ctx, "kv_type": args.kv_type, "n_gpu_layers": args.gpu_layers,
               "calibration": calibration}
    path = Path(args.model).expanduser()
    if path.exists() or args.model.lower().endswith(".gguf"):
        c = evaluate_file(profile, path, **options)
        return replace(c, name=model_display_name(path, c.name))
    # a Hub repository (or a catalog name): the downloader resolves it to the quant's file(s) at
    # a pinned commit; only their headers are read
    from localchat.commands._source import parse_hub_model
    from localchat.download import resolve
    from localchat.recommend.remote import read_remote_model

    resolved = resolve(parse_hub_model(args.model))
    header = read_remote_model(resolved.repo_id, resolved.filenames, resolved.revision)
    candidate = evaluate(profile, header, resolved.quant, file_bytes=resolved.total_bytes, **options)
    name = model_display_name(resolved.filenames[0], candidate.name, repo=resolved.repo_id)
    return replace(candidate, repo=resolved.repo_id, name=name)


def _local_models() -> dict[str, str]:
    """GGUF files already on this machine (any tool's) and their names, ranked with the catalog;
    none on error."""
    from localchat.download import list_local_models
    from localchat.errors import LocalChatError
    from localchat.recommend.names import model_display_name

    try:
        return {str(m.path): model_display_name(m.path, m.name) for m in list_local_models()}
    except (LocalChatError, OSError):
        return {}


def _configured_preference() -> str:
    from localchat.config import load_config

    return load_config().recommend.prefer


def _row(c, mark: str) -> list[str]:  # Candidate -> table cells
    from localchat.units import fmt_bytes

    return [mark, c.name, c.quant, f"{c.ctx // 1024}k" if c.ctx % 1024 == 0 else str(c.ctx),
            c.kv_type, fmt_bytes(c.file_bytes), fmt_bytes(c.footprint.total_bytes), c.where(),
            c.tps_text,
            f"+{c.quality.ppl_delta:.2f}" if c.quality.known else "?",
            ", ".join(x for x in (c.note, "on disk" if c.local_path else "") if x)]


def table(candidates: list, marks: list[str]) -> str:
    head = ["", "model", "quant", "ctx", "KV", "on disk", "memory", "fits", "tok/s", "PPL+", "why shown"]
    rows = [head] + [_row(c, m) for c, m in zip(candidates, marks, strict=True)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100)


def _print_pool(c, budget) -> None:  # (Candidate, Budget): each machine's share, with --rpc
    from localchat.recommend.explain import pool_lines

    lines = pool_lines(c, budget)
    if lines:
        print()
        print("\n".join(lines))


def _pool_json(budget) -> dict:  # Budget -> the pool's part of --json
    return {"workers": [{"endpoint": w.endpoint, "free_bytes": w.free_bytes, "total_bytes": w.total_bytes}
                        for w in budget.rpc_workers],
            "network": budget.link_words, "round_trip_s": budget.link_round_trip_s,
            "bandwidth_gbps": budget.link_gbps}


def run(args: argparse.Namespace) -> int:
    from localchat import paths
    from localchat.recommend import Calibration, CalibrationStore, budget_for, recommend

    profile = _profile(args)
    budget = budget_for(profile)
    calibration = CalibrationStore(paths.calibration_file()).load()
    if args.model:
        c = _model_candidate(args, profile, calibration)
        if args.json:
            data = {"choice": c.to_dict(), "alternatives": [], "explanation": c.summary(),
                    "warnings": [w for w in (c.context_warning(),) if w] + list(budget.warnings)}
            if budget.rpc_workers:
                data["pool"] = _pool_json(budget)
            print(json.dumps(data, indent=2))
            return 0
        print(table([c], [""]))
        print()
        print(_wrap(c.summary() + "."))
        _print_pool(c, budget)
        for line in [c.quality.warning, c.context_warning(), *budget.warnings]:
            if line:
                print(_wrap(f"warning: {line}"))
        return 0
    if profile.hypothetical:  # speeds measured on this machine say nothing about another one
        calibration = Calibration(models=calibration.models)
    local = {} if profile.hypothetical else _local_models()
    rec = recommend(profile, ctx=args.ctx, local_files=list(local), local_names=local,
                    calibration=calibration, prefer=args.prefer or _configured_preference())
    if args.json:
        data = rec.to_dict()
        data["machine"] = {"ram_budget_bytes": budget.ram_bytes, "gpu_budget_bytes": budget.gpu_bytes,
                           "gpu_backend": budget.gpu_backend, "hypothetical": profile.hypothetical,
                           "ram_bandwidth_gbps": budget.ram_bandwidth_gbps,
                           "ram_bandwidth_source": budget.ram_bandwidth_source,
                           "gpu_bandwidth_gbps": budget.gpu_bandwidth_gbps,
                           "gpu_bandwidth_source": budget.gpu_bandwidth_source}
        if budget.rpc_workers:
            data["pool"] = _pool_json(budget)
        data["prefer"] = args.prefer or _configured_preference()
        print(json.dumps(data, indent=2))
        return 0
    if rec.choice is not None:
        print(table([rec.choice, *rec.alternatives], ["→"] + [""] * len(rec.alternatives)))
        print()
    print(_wrap(rec.explanation))
    if rec.choice is not None:
        _print_pool(rec.choice, budget)
    for line in rec.warnings:
        print(_wrap(f"warning: {line}"))
    return 0
