"""The models a user can choose, without the UI: what the setup screen, the model menu and
compare quants list and act on.

No textual and no llama_cpp here (tests/test_layers.py checks). Modules:

- ``option``: ``ModelOption``, one model × quant from a file on disk, a Hub repository or the
  PyPI starter, sized for one setting (its footprint, any stopped download, the load settings it
  implies, and what the config remembers once it is loaded).
- ``sources``: ``Sources``, the injectable seams (probe, catalog, local models, Hub check) the
  setup screen and the model menu read the machine and the world through; tests pass fixed ones.
- ``setup``: the first-run plan (probe → recommendation → alternatives; offline: models on disk
  ranked by fit, and the PyPI starter).
- ``menu``: the model menu's options (local and catalog models × quants) for a context length,
  GPU layers and KV cache type.
- ``hub``: any GGUF repository on the Hub as options: what the menu's filter asks for, a
  repository's quants sized from one remote header, the Hub search's hits in words.
- ``words``: what an option says in the setup's and the menu's tables and detail panes.
- ``choice``: what the config remembers (the model the next start opens, the preference).
"""
