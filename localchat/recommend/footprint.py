"""Memory a model needs in llama.cpp: weights + KV cache + compute buffer + overhead, per device.

``ModelShape`` holds what the arithmetic needs (per-layer weight bytes, head counts, sliding-window
layers, vocabulary); it comes from a GGUF header (``shape.py``, exact) or from the catalog's
architecture figures (an estimate). ``footprint()`` then follows llama.cpp's own allocation rules
for the settings localchat's engine loads with (n_ubatch 512, swa_full=False, one sequence);
``tests/recommend/test_footprint.py`` checks it against the buffer sizes llama.cpp logs.

Weights count once. llama.cpp's CPU backend repacks Q4_0/Q4_K/IQ4_NL matrices into a second,
interleaved copy (x86 with AVX2, ARM); a memory-mapped file would then stay resident beside it
(llama.cpp #16761), so the engine loads such a model without mmap (``load_without_mmap``) and
the repacked copy replaces the file's tensors instead of doubling them.
"""

from __future__ import annotations

from dataclasses import dataclass

from localchat.recommend.quants import kv_bytes_per_element

MIB = 1 << 20
N_UBATCH = 512  # LoadSettings.n_ubatch: the batch llama.cpp sizes its compute graph for
# llama.cpp pads the context (and the KV cells of every layer) to a multiple of 256
# (llama_kv_cache: GGML_PAD(n_ctx, 256) since the unified-KV rework)
CTX_PAD = 256
F32 = 4
# Fixed reserve per device beyond llama.cpp's own buffers:
# - GPU: llama.cpp's --fit leaves 1024 MiB free per device by default (--fit-target), room for
#   the CUDA/ROCm context, cuBLAS workspaces and the driver's own allocations.
# - Metal shares RAM with the CPU, with no CUDA context: half that.
# - CPU: the Python process and llama-cpp-python's runtime (about 200 MiB RSS before a model).
GPU_OVERHEAD_BYTES = 1024 * MIB
METAL_OVERHEAD_BYTES = 512 * MIB
CPU_OVERHEAD_BYTES = 256 * MIB


@dataclass(frozen=True)
class ModelShape:
    """The figures footprint() needs, however they were obtained."""

    architecture: str
    n_layers: int
    n_embd: int
    n_vocab: int
    n_ctx_train: int
    layer_bytes: tuple[int, ...]  # weight bytes of each repeating layer
    layer_repack_bytes: tuple[int, ...]  # of those, bytes the CPU backend repacks
    input_bytes: int  # token embeddings (and small non-layer tensors): kept in RAM by llama.cpp
    output_bytes: int  # output head (norm + projection; the embeddings again when tied)
    head_counts: tuple[int, ...]  # query heads per layer
    kv_head_counts: tuple[int, ...]  # KV heads per layer (grouped-query attention)
    key_length: int
    value_length: int
    swa_layers: tuple[bool, ...]  # True: sliding-window layer (window-sized KV cache)
    n_swa: int = 0
    n_ff: int = 0  # FFN width (MoE: experts used × expert width)
    active_fraction: float = 1.0  # share of layer weights read per token (MoE: < 1)
    output_tied: bool = False  # no output.weight: llama.cpp reuses the embeddings (a GPU copy)
    exact: bool = True  # False: estimated from architecture figures, not a GGUF header

    @property
    def weights_bytes(self) -> int:
        """Bytes of the model file's tensors (the tied output is not a second copy on disk)."""
        output = 0 if self.output_tied else self.output_bytes
        return sum(self.layer_bytes) + self.input_bytes + output


@dataclass(frozen=True)
class DevicePart:
    """One device's share of a footprint."""

    weights_bytes: int = 0
    kv_bytes: int = 0
    compute_bytes: int = 0
    overhead_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes + self.overhead_bytes


@dataclass(frozen=True)
class Footprint:
    """Memory for one model at one setting. Totals over both devices; ``gpu``/``cpu`` split them
    (``gpu`` is all zero without offload; on Apple Silicon both come out of the same RAM)."""

    weights_bytes: int
    kv_bytes: int
    compute_bytes: int
    overhead_bytes: int
    gpu: DevicePart = DevicePart()
    cpu: DevicePart = DevicePart()

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes + self.overhead_bytes

    @classmethod
    def from_parts(cls, gpu: DevicePart, cpu: DevicePart) -> Footprint:
        return cls(
            weights_bytes=gpu.weights_bytes + cpu.weights_bytes,
            kv_bytes=gpu.kv_bytes + cpu.kv_bytes,
            compute_bytes=gpu.compute_bytes + cpu.compute_bytes,
            overhead_bytes=gpu.overhead_bytes + cpu.overhead_bytes,
            gpu=gpu, cpu=cpu,
        )

    def scaled(self, weights: float = 1.0, kv: float = 1.0, compute: float = 1.0) -> Footprint:
        """This footprint with each component multiplied (calibration corrections)."""

        def part(p: DevicePart) -> DevicePart:
            return DevicePart(round(p.weights_bytes * weights), round(p.kv_bytes * kv),
                              round(p.compute_bytes * compute), p.overhead_bytes)

        return Footprint.from_parts(part(self.gpu), part(self.cpu))


def pad(n: int, multiple: int) -> int:
    return (n + multiple - 1) // multiple * multiple


def kv_cells(shape: ModelShape, layer: int, n_ctx: int) -> int:
    """KV cells llama.cpp gives a layer: the padded context, or on a sliding-window layer (with
    swa_full=False) the window plus one micro-batch: min(n_ctx, n_swa + n_ubatch), padded
    (llama_kv_cache_iswa: size_swa = GGML_PAD(min(size_base, n_swa*n_seq + n_ubatch), n_pad))."""
    full = pad(n_ctx, CTX_PAD)
    if shape.swa_layers[layer] and shape.n_swa > 0:
        return pad(min(full, shape.n_swa + N_UBATCH), CTX_PAD)
    return full


def kv_bytes(shape: ModelShape, n_ctx: int, kv_type: str, layers: range | None = None) -> int:
    """K and V cache bytes for ``layers`` (default: all): cells × KV heads × (key + value length)."""
    per_element = kv_bytes_per_element(kv_type)
    total = 0.0
    for il in layers if layers is not None else range(shape.n_layers):
        row = shape.kv_head_counts[il] * (shape.key_length + shape.value_length)
        total += kv_cells(shape, il, n_ctx) * row * per_element
    return int(total)


def compute_bytes(shape: ModelShape, n_ctx: int, flash_attn: bool) -> int:
    """llama.cpp's compute (scratch) buffer: the larger of two peaks of its graph at n_ubatch.

    - the output: logits for every token of the micro-batch (n_vocab × n_ubatch f32) beside a
      few n_embd-wide activations. gemma-3's 262k vocabulary makes this 512 MiB, twice the model.
    - without flash attention, the attention scores of the widest layer (n_kv × n_ubatch ×
      (n_head + 1) f32: KQ and its softmax) beside the FFN activations (2 × n_ff × n_ubatch).
      Flash attention never materialises the scores, so only the output peak remains.
    Derived from llama.cpp's logged sizes for SmolLM2-135M and gemma-3-270m (test_footprint.py).
    """
    logits = (shape.n_vocab + 3 * shape.n_embd) * N_UBATCH * F32
    if flash_attn:
        return logits
    widest = max(kv_cells(shape, il, n_ctx) * (shape.head_counts[il] + 1) for il in range(shape.n_layers))
    attention = (widest + 2 * shape.n_ff) * N_UBATCH * F32
    return max(logits, attention)


def gpu_layer_count(shape: ModelShape, n_gpu_layers: int, gpu_backend: str | None) -> int:
    """llama.cpp's n_gpu_layers as it applies: -1 is everything (n_layers + 1, the output head
    too), and without a GPU backend nothing is offloaded."""
    if not gpu_backend:
        return 0
    if n_gpu_layers < 0:
        return shape.n_layers + 1
    return min(n_gpu_layers, shape.n_layers + 1)


def repacked_on_cpu_bytes(shape: ModelShape, n_gpu_layers: int = 0, gpu_backend: str | None = None) -> int:
    """Bytes of the layers left on the CPU that a repacking CPU backend would copy."""
    ngl = gpu_layer_count(shape, n_gpu_layers, gpu_backend)
    return sum(shape.layer_repack_bytes[: shape.n_layers - min(ngl, shape.n_layers)])


def load_without_mmap(shape: ModelShape, n_gpu_layers: int, gpu_backend: str | None,
                      cpu_repacks: bool) -> bool:
    """The engine's load rule: read the weights into RAM instead of mapping the file when this
    CPU repacks some of them (``cpu_repacks``: x86 with AVX2, ARM). Mapped, both the file's
    pages and the repacked copy stay resident (measured for SmolLM2 Q4_0, README "How the
    recommendation is made"); read, each tensor is held once, in its repacked form or not."""
    return cpu_repacks and repacked_on_cpu_bytes(shape, n_gpu_layers, gpu_backend) > 0


def footprint(shape: ModelShape, n_ctx: int, *, kv_type: str = "f16", flash_attn: bool = True,
              n_gpu_layers: int = 0, gpu_backend: str | None = None) -> Footprint:
    """Memory for ``shape`` at ``n_ctx`` with ``n_gpu_layers`` on the GPU.

    ``n_gpu_layers`` counts as llama.cpp does: the last N repeating layers go to the GPU, and
    n_layers + 1 (or -1) also moves the output head there. The token embeddings stay in RAM.
    Weights count once: repacked on the CPU or not, the engine holds one copy of each tensor
    (``load_without_mmap``).
    """
    n_layers = shape.n_layers
    ngl = gpu_layer_count(shape, n_gpu_layers, gpu_backend)
    gpu_layers = range(n_layers - min(ngl, n_layers), n_layers)
    cpu_layers = range(0, n_layers - min(ngl, n_layers))
    output_on_gpu = ngl > n_layers
    compute = compute_bytes(shape, n_ctx, flash_attn)

    cpu_weights = shape.input_bytes + sum(shape.layer_bytes[i] for i in cpu_layers)
    if not output_on_gpu and not shape.output_tied:
        cpu_weights += shape.output_bytes
    cpu_overhead = CPU_OVERHEAD_BYTES + shape.n_vocab * F32  # + llama.cpp's output (logits) buffer
    if ngl == 0:
        gpu = DevicePart()
        cpu = DevicePart(cpu_weights, kv_bytes(shape, n_ctx, kv_type), compute, cpu_overhead)
        return Footprint.from_parts(gpu, cpu)

    gpu_weights = sum(shape.layer_bytes[i] for i in gpu_layers)
    if output_on_gpu:
        gpu_weights += shape.output_bytes  # a tied head is copied from the embeddings
    # an RPC worker is a CPU process like this one (localchat worker), with no GPU context
    overhead = {"metal": METAL_OVERHEAD_BYTES, "rpc": CPU_OVERHEAD_BYTES}.get(gpu_backend or "",
                                                                             GPU_OVERHEAD_BYTES)
    gpu = DevicePart(gpu_weights, kv_bytes(shape, n_ctx, kv_type, gpu_layers), compute, overhead)
    # the host keeps a staging compute buffer: the whole graph while it still runs layers,
    # otherwise only the input embeddings of a micro-batch
    host_compute = compute if cpu_layers else shape.n_embd * N_UBATCH * F32
    cpu = DevicePart(cpu_weights, kv_bytes(shape, n_ctx, kv_type, cpu_layers), host_compute, cpu_overhead)
    return Footprint.from_parts(gpu, cpu)


def bytes_per_token(shape: ModelShape, n_gpu_layers: int = 0) -> tuple[int, int]:
    """(GPU bytes, RAM bytes) read to generate one token: every active weight once (the input
    embedding is a single row, so it does not count). Mixture-of-experts models read only the
    experts they route to (``active_fraction``)."""
    n_layers = shape.n_layers
    ngl = n_layers + 1 if n_gpu_layers < 0 else min(n_gpu_layers, n_layers + 1)
    gpu_layers = set(range(n_layers - min(ngl, n_layers), n_layers))
    gpu = cpu = 0.0
    for il, size in enumerate(shape.layer_bytes):
        if il in gpu_layers:
            gpu += size * shape.active_fraction
        else:
            cpu += size * shape.active_fraction
    if ngl > n_layers:
        gpu += shape.output_bytes
    else:
        cpu += shape.output_bytes
    return int(gpu), int(cpu)
