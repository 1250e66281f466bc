"""The footprint against what llama.cpp itself allocates: each component within 5%.

LLAMA_FIGURES are the buffer sizes llama.cpp (llama-cpp-python 0.3.36, CPU build, x86-64 AVX2)
logged when localchat's engine loaded the test models with its settings (n_ubatch 512,
swa_full=False): "model buffer" (CPU_Mapped; or CPU + CPU_REPACK where the engine reads a
repacked model instead of mapping it), "KV buffer", "compute buffer".
Recorded with ``python -m tests.recommend.record_llama_figures``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localchat.gguffile import read_header
from localchat.recommend.footprint import (
    CPU_OVERHEAD_BYTES,
    GPU_OVERHEAD_BYTES,
    MIB,
    bytes_per_token,
    footprint,
    kv_cells,
    load_without_mmap,
    repacked_on_cpu_bytes,
)
from localchat.recommend.shape import shape_from_header

# (model, n_ctx, flash_attn, kv_type, model MiB, KV MiB, compute MiB) as llama.cpp logged them
LLAMA_FIGURES = [
    ("smollm2-q4_1", 2048, False, "f16", 92.10, 45.00, 99.38),
    ("smollm2-q4_1", 2048, True, "f16", 92.10, 45.00, 102.51),
    ("smollm2-q4_1", 2048, True, "q8_0", 92.10, 23.91, 99.38),
    ("smollm2-q4_1", 8192, False, "f16", 92.10, 180.00, 166.38),
    ("smollm2-q4_1", 8192, True, "f16", 92.10, 180.00, 98.25),
    ("smollm2-q4_1", 8192, True, "q8_0", 92.10, 95.62, 99.38),
    ("smollm2-q4_1", 32768, False, "f16", 92.10, 720.00, 646.38),
    ("smollm2-q4_1", 32768, True, "f16", 92.10, 720.00, 98.25),
    ("smollm2-q4_1", 32768, True, "q8_0", 92.10, 382.50, 99.38),
    ("smollm2-q8_0", 2048, False, "f16", 136.40, 45.00, 99.38),
    ("smollm2-q8_0", 2048, True, "f16", 136.40, 45.00, 102.51),
    ("smollm2-q8_0", 2048, True, "q8_0", 136.40, 23.91, 99.38),
    ("smollm2-q8_0", 8192, False, "f16", 136.40, 180.00, 166.38),
    ("smollm2-q8_0", 8192, True, "f16", 136.40, 180.00, 98.25),
    ("smollm2-q8_0", 8192, True, "q8_0", 136.40, 95.62, 99.38),
    ("smollm2-q8_0", 32768, False, "f16", 136.40, 720.00, 646.38),
    ("smollm2-q8_0", 32768, True, "f16", 136.40, 720.00, 98.25),
    ("smollm2-q8_0", 32768, True, "q8_0", 136.40, 382.50, 99.38),
    ("gemma3", 2048, False, "f16", 235.17, 21.00, 514.50),
    ("gemma3", 2048, True, "f16", 235.17, 21.00, 514.50),
    ("gemma3", 2048, True, "q8_0", 235.17, 11.16, 514.50),
    ("gemma3", 8192, False, "f16", 235.17, 39.00, 514.50),
    ("gemma3", 8192, True, "f16", 235.17, 39.00, 514.50),
    ("gemma3", 8192, True, "q8_0", 235.17, 20.72, 514.50),
    ("gemma3", 32768, False, "f16", 235.17, 111.00, 514.50),
    ("gemma3", 32768, True, "f16", 235.17, 111.00, 514.50),
    ("gemma3", 32768, True, "q8_0", 235.17, 58.97, 514.50),
]
TOLERANCE = 0.05


@pytest.fixture(scope="module")
def shapes(smollm2_path: Path, smollm2_q8_path: Path, gemma_path: Path) -> dict:
    return {name: shape_from_header(read_header(path)) for name, path in
            (("smollm2-q4_1", smollm2_path), ("smollm2-q8_0", smollm2_q8_path), ("gemma3", gemma_path))}


@pytest.mark.parametrize(("model", "ctx", "fa", "kv", "weights", "kv_mib", "compute"), LLAMA_FIGURES)
def test_each_component_within_5_percent_of_llama_cpp(shapes, model, ctx, fa, kv, weights, kv_mib, compute):
    fp = footprint(shapes[model], ctx, kv_type=kv, flash_attn=fa)
    for ours, theirs, what in ((fp.weights_bytes, weights, "weights"), (fp.kv_bytes, kv_mib, "KV"),
                               (fp.compute_bytes, compute, "compute")):
        error = ours / (theirs * MIB) - 1
        assert abs(error) <= TOLERANCE, f"{model} ctx {ctx} fa={fa} {kv}: {what} off by {error:+.1%}"


def test_gemma_sliding_layers_cache_only_the_window(shapes):
    gemma = shapes["gemma3"]
    # gemma-3: one global layer in six (5, 11, 17); the 15 others hold window 512 + ubatch 512
    assert [il for il in range(18) if not gemma.swa_layers[il]] == [5, 11, 17]
    assert kv_cells(gemma, 0, 32768) == 1024
    assert kv_cells(gemma, 5, 32768) == 32768
    assert kv_cells(gemma, 0, 700) == 768  # a context smaller than the window: padded to 256


def test_quantized_kv_cache_is_34_of_64_of_f16(shapes):
    f16 = footprint(shapes["smollm2-q4_1"], 8192, kv_type="f16").kv_bytes
    q8 = footprint(shapes["smollm2-q4_1"], 8192, kv_type="q8_0").kv_bytes
    q4 = footprint(shapes["smollm2-q4_1"], 8192, kv_type="q4_0").kv_bytes
    assert q8 == f16 * 34 // 64
    assert q4 == f16 * 18 // 64


def test_repacked_weights_count_once(shapes):
    """gemma-3-270m Q4_K_M: llama.cpp repacks 12.66 MiB of Q4_K matrices on this CPU. Loaded
    without mmap (the engine's rule for it) they replace the file's tensors: one copy, the
    file's 235.17 MiB (CPU 222.51 + CPU_REPACK 12.66 in llama.cpp's log)."""
    gemma = shapes["gemma3"]
    assert repacked_on_cpu_bytes(gemma) / MIB == pytest.approx(12.66, abs=0.01)
    assert footprint(gemma, 2048).weights_bytes == gemma.weights_bytes
    assert load_without_mmap(gemma, 0, None, cpu_repacks=True)
    assert not load_without_mmap(gemma, 0, None, cpu_repacks=False)
    # every layer on a GPU: nothing left for the CPU to repack, so the file is mapped
    assert not load_without_mmap(gemma, -1, "cuda", cpu_repacks=True)
    assert load_without_mmap(gemma, 9, "cuda", cpu_repacks=True)
    # SmolLM2 Q4_1 has nothing llama.cpp repacks
    assert not load_without_mmap(shapes["smollm2-q4_1"], 0, None, cpu_repacks=True)


def test_gpu_layers_move_weights_and_kv_to_the_gpu(shapes):
    smol = shapes["smollm2-q4_1"]
    cpu_only = footprint(smol, 8192, n_gpu_layers=0, gpu_backend="cuda")
    half = footprint(smol, 8192, n_gpu_layers=15, gpu_backend="cuda")
    full = footprint(smol, 8192, n_gpu_layers=31, gpu_backend="cuda")
    assert cpu_only.gpu.total_bytes == 0
    assert half.gpu.kv_bytes == full.gpu.kv_bytes // 2
    assert half.gpu.weights_bytes == sum(smol.layer_bytes[15:])
    # everything on the GPU: all layers + the (tied) output head, copied from the embeddings,
    # which themselves stay in RAM
    assert full.gpu.weights_bytes == sum(smol.layer_bytes) + smol.output_bytes
    assert full.cpu.weights_bytes == smol.input_bytes
    assert full.gpu.overhead_bytes == GPU_OVERHEAD_BYTES
    assert full.cpu.overhead_bytes >= CPU_OVERHEAD_BYTES
    assert full.total_bytes == full.gpu.total_bytes + full.cpu.total_bytes


def test_bytes_read_per_token_split_by_device(shapes):
    smol = shapes["smollm2-q4_1"]
    gpu, cpu = bytes_per_token(smol, 0)
    assert gpu == 0 and cpu == sum(smol.layer_bytes) + smol.output_bytes
    gpu, cpu = bytes_per_token(smol, 31)
    assert cpu == 0 and gpu == sum(smol.layer_bytes) + smol.output_bytes
