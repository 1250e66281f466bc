"""``ModelShape`` from a GGUF header (exact tensor sizes) or from catalog figures (an estimate)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gguf.constants import GGMLQuantizationType

from localchat.errors import ModelFileError
from localchat.ggufmeta import GGUFHeader, TensorInfo
from localchat.recommend.footprint import ModelShape
from localchat.recommend.quants import bits_per_weight, quant_quality

if TYPE_CHECKING:
    from localchat.recommend.catalog import CatalogEntry

_LAYER = re.compile(r"^blk\.(\d+)\.")
# Sliding-window layout per architecture where the GGUF carries only the window size: llama.cpp
# (llama-model.cpp) calls hparams.set_swa_pattern(N): layer il slides unless il % N == N - 1.
# gemma2 alternates; gemma3 has one global layer in six; cohere2 one in four.
SWA_PERIOD = {"gemma2": 2, "gemma3": 6, "cohere2": 4, "gpt-oss": 2}
# Types ggml's CPU backend repacks into interleaved layouts on x86-AVX2 and ARM
# (ggml-cpu/repack.cpp, ggml_repack_get_optimal_repack_type), for matrices with ne[1] % 8 == 0.
# Seen on x86: gemma-3-270m Q4_K_M logs "CPU_REPACK model buffer size = 12.66 MiB", exactly its
# Q4_K layer tensors.
# K-quants work on rows of 256 weights; llama.cpp's quantizer falls back to a legacy type for
# tensors whose rows are not a multiple of that ("not divisible by 256 ... using fallback
# quantization", llama-quant.cpp): Q2_K/Q3_K → IQ4_NL, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0
QK_K = 256
K_FALLBACK_BPW = {"Q2": 4.5, "Q3": 4.5, "Q4": 5.5, "Q5": 6.0, "Q6": 8.5}
OUTPUT_BPW = 6.5625  # Q6_K: 210 bytes per 256 weights (gguf.constants.GGML_QUANT_SIZES)
REPACKED_TYPES = frozenset({GGMLQuantizationType.Q4_0, GGMLQuantizationType.Q4_K,
                            GGMLQuantizationType.IQ4_NL})


def _per_layer(value: Any, n_layers: int, default: int) -> tuple[int, ...]:
    if isinstance(value, list):
        values = [int(v) for v in value] + [default] * max(0, n_layers - len(value))
        return tuple(values[:n_layers])
    return (int(value) if value is not None else default,) * n_layers


def swa_layout(architecture: str, n_layers: int, pattern: Any = None) -> tuple[bool, ...]:
    """Which layers use the sliding window: a per-layer bool array from the GGUF when present,
    else the architecture's period (SWA_PERIOD), else none."""
    if isinstance(pattern, list) and pattern:
        flags = [bool(v) for v in pattern] + [False] * n_layers
        return tuple(flags[:n_layers])
    period = int(pattern) if isinstance(pattern, int) and pattern > 0 else SWA_PERIOD.get(architecture, 0)
    if period <= 1:
        return (False,) * n_layers
    return tuple(il % period < period - 1 for il in range(n_layers))


def _repacked(t: TensorInfo) -> bool:
    return (t.ggml_type in REPACKED_TYPES and len(t.shape) >= 2 and t.shape[1] % 8 == 0)


def shape_from_header(header: GGUFHeader) -> ModelShape:
    """The exact shape of a GGUF model (for split files, a header merged from all parts)."""
    arch = header.architecture
    n_layers = int(header.arch_value("block_count", 0) or 0)
    n_embd = int(header.arch_value("embedding_length", 0) or 0)
    if n_layers <= 0 or n_embd <= 0:
        raise ModelFileError(f"{header.name or 'this GGUF'} ({arch}) has no layer count or width in "
                             "its header", "localchat can size decoder language models only")
    heads = _per_layer(header.arch_value("attention.head_count"), n_layers, 1)
    kv_heads = _per_layer(header.arch_value("attention.head_count_kv"), n_layers, max(heads))
    head_dim = n_embd // max(1, max(heads))
    key_length = int(header.arch_value("attention.key_length", head_dim) or head_dim)
    value_length = int(header.arch_value("attention.value_length", key_length) or key_length)

    layer_bytes = [0] * n_layers
    repack = [0] * n_layers
    expert_bytes = 0
    input_bytes = output_bytes = 0
    embd_bytes = 0
    for t in header.tensors:
        m = _LAYER.match(t.name)
        if m and int(m.group(1)) < n_layers:
            il = int(m.group(1))
            layer_bytes[il] += t.nbytes
            repack[il] += t.nbytes if _repacked(t) else 0
            expert_bytes += t.nbytes if "_exps." in t.name else 0
        elif t.name == "output.weight":
            output_bytes += t.nbytes
        else:
            input_bytes += t.nbytes
            embd_bytes += t.nbytes if t.name == "token_embd.weight" else 0
    tied = output_bytes == 0
    n_expert = int(header.arch_value("expert_count", 0) or 0)
    n_used = int(header.arch_value("expert_used_count", 0) or 0)
    ff_values = header.arch_value("feed_forward_length", 0)
    n_ff = max(_per_layer(ff_values, n_layers, 0)) if ff_values else 0
    total_layer = sum(layer_bytes) or 1
    active = 1.0
    if n_expert > 0 and n_used > 0:
        n_ff = n_used * int(header.arch_value("expert_feed_forward_length", n_ff) or n_ff)
        active = (total_layer - expert_bytes * (1 - n_used / n_expert)) / total_layer
    swa = int(header.arch_value("attention.sliding_window", 0) or 0)
    return ModelShape(
        architecture=arch, n_layers=n_layers, n_embd=n_embd, n_vocab=header.vocab_size or 32000,
        n_ctx_train=int(header.arch_value("context_length", 0) or 0),
        layer_bytes=tuple(layer_bytes), layer_repack_bytes=tuple(repack),
        input_bytes=input_bytes, output_bytes=output_bytes if not tied else embd_bytes,
        head_counts=heads, kv_head_counts=kv_heads, key_length=key_length, value_length=value_length,
        swa_layers=swa_layout(arch, n_layers, header.arch_value("attention.sliding_window_pattern"))
        if swa else (False,) * n_layers,
        n_swa=swa, n_ff=n_ff, active_fraction=active, output_tied=tied, exact=True,
    )


def scaled_to(shape: ModelShape, weights_bytes: int, quant: str) -> ModelShape:
    """Another quant of the model ``shape`` describes, from its tensor bytes alone (its file's
    size less the header): the same architecture, the embeddings and output head as they are
    (llama.cpp's quantizer keeps those at a high-precision type whatever the label) and the
    layers scaled to make up the rest; the share the CPU backend repacks is ``quant``'s type's,
    as for catalog estimates. An estimate."""
    fixed = shape.input_bytes + (0 if shape.output_tied else shape.output_bytes)
    factor = max(weights_bytes - fixed, 0) / max(1, sum(shape.layer_bytes))
    layers = tuple(int(b * factor) for b in shape.layer_bytes)
    share = quant_quality(quant).repack_share
    return replace(shape, layer_bytes=layers, layer_repack_bytes=tuple(int(b * share) for b in layers),
                   exact=False)


@lru_cache(maxsize=1024)
def shape_from_entry(entry: CatalogEntry, quant: str) -> ModelShape:
    """An estimated shape from the catalog's architecture figures and the quant's bits per
    weight (llama.cpp's whole-file average for that label)."""
    bpw = bits_per_weight(quant)
    if entry.n_embd % QK_K and quant[:2] in K_FALLBACK_BPW and "_K" in quant:
        bpw = K_FALLBACK_BPW[quant[:2]]
    n_layers = entry.n_layers
    embd_params = entry.n_vocab * entry.n_embd
    layer_params = entry.params_b * 1e9 - embd_params * (1 if entry.tied_embeddings else 2)
    per_layer = int(max(layer_params, 0) * bpw / 8 / n_layers)
    # llama.cpp's quantizer keeps the output head at Q6_K or better (llama_tensor_get_type), and
    # a tied embedding is that head; an untied embedding takes the label's own type
    head_bpw = max(bpw, OUTPUT_BPW)
    output_bytes = int(embd_params * head_bpw / 8)
    input_bytes = output_bytes if entry.tied_embeddings else int(embd_params * bpw / 8)
    active = 1.0
    if entry.active_params_b and entry.active_params_b < entry.params_b:
        active_layer = entry.active_params_b * 1e9 - embd_params * (1 if entry.tied_embeddings else 2)
        active = max(active_layer, 0) / max(layer_params, 1)
    repack_share = quant_quality(quant).repack_share
    return ModelShape(
        architecture=entry.arch, n_layers=n_layers, n_embd=entry.n_embd, n_vocab=entry.n_vocab,
        n_ctx_train=entry.n_ctx_train,
        layer_bytes=(per_layer,) * n_layers, layer_repack_bytes=(int(per_layer * repack_share),) * n_layers,
        input_bytes=input_bytes, output_bytes=output_bytes,
        head_counts=(entry.n_head,) * n_layers, kv_head_counts=(entry.n_head_kv,) * n_layers,
        key_length=entry.head_dim, value_length=entry.head_dim,
        swa_layers=swa_layout(entry.arch, n_layers, entry.swa_period or None) if entry.sliding_window
        else (False,) * n_layers,
        n_swa=entry.sliding_window, n_ff=entry.n_ff * (entry.n_expert_used or 1),
        active_fraction=active, output_tied=entry.tied_embeddings, exact=False,
    )
