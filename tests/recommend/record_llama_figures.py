"""Re-record the buffer sizes llama.cpp allocates for the test models (not run by pytest).

    python -m tests.recommend.record_llama_figures > /tmp/figures.txt

Loads each test model through localchat's engine (its settings: swa_full=False, n_ubatch 512)
and prints one row per (model, n_ctx, flash attention, KV type) with the MiB llama.cpp logged
for its model (mapped, or read + repacked), KV and compute buffers; test_footprint.py keeps those rows as
its reference table.
"""

from __future__ import annotations

import itertools

from localchat.engine import LoadSettings, load_engine
from tests import testmodels

MIB = 1 << 20
CONTEXTS = (2048, 8192, 32768)
SETTINGS = ((False, "f16"), (True, "f16"), (True, "q8_0"))


def main() -> None:
    models = {
        "smollm2-q4_1": testmodels.smollm2(),
        "smollm2-q8_0": testmodels.smollm2_quant("Q8_0"),
        "gemma3": testmodels.gemma(),
    }
    for (name, path), ctx, (fa, kv) in itertools.product(models.items(), CONTEXTS, SETTINGS):
        engine = load_engine(str(path), LoadSettings(n_ctx=ctx, flash_attn=fa, kv_type=kv))
        info = engine.info
        print(f'    ("{name}", {ctx}, {fa}, "{kv}", {info.allocated_weights_bytes / MIB:.2f}, '
              f"{info.allocated_kv_bytes / MIB:.2f}, {info.allocated_compute_bytes / MIB:.2f}),",
              flush=True)
        engine.close()


if __name__ == "__main__":
    main()
