"""First-run setup and the model menu, without the UI: what the TUI screens show and do.

No textual and no llama_cpp here (tests/test_layers.py checks). Modules:

- ``sources``: ``Sources``, the injectable seams (probe, catalog, local models, Hub check) the
  setup screen and the model menu read the machine and the world through; tests pass fixed ones.
- ``choice``: ``settings_for(candidate)`` (the LoadSettings a recommendation means) and
  ``remember_choice(config, path, settings, repo=, quant=)`` (save it so the next start opens it).
- ``setup``: the first-run plan (probe → recommendation → alternatives; offline: models on disk
  ranked by fit, and the PyPI starter).
- ``menu``: the model menu's rows (local and catalog models × quants, each with its footprint,
  fit, speed and quality cost) for a context length, GPU layers and KV cache type.
"""
