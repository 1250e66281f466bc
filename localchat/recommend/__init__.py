"""The recommender: how much memory a model needs, and which model fits this machine best.

No textual and no llama_cpp here (a subprocess test checks). The public names:

- ``recommend(profile, *, calibration, ctx=None, catalog=None, local_files=()) -> Recommendation``
- ``evaluate(profile, entry_or_header, quant, *, ctx, calibration, kv_type="f16",
  n_gpu_layers=None, flash_attn=None) -> Candidate`` and ``evaluate_file(profile, path, *, ctx,
  calibration, ...)``
- ``candidates_for(profile, ctx, *, calibration) -> list[Candidate]``: every catalog model × quant
- ``hypothetical_profile(ram_gib, vram_gib, gpu) -> HardwareProfile``
- ``load_catalog()``, ``quant_quality(label)``, ``footprint(shape, ctx, ...)``
- ``read_remote_header(repo, filename)``: a Hub file's header by HTTP Range requests
- ``Calibration`` (calibration): this machine's corrections and measured speeds, a plain value;
  ``CalibrationStore(path)`` (calibration_store) loads it and records a load
  (``record_from_info(model_info)``: what llama.cpp allocated) or a reply's speed in it
"""

from localchat.recommend.calibration import Calibration
from localchat.recommend.calibration_store import CalibrationStore
from localchat.recommend.candidate import Candidate, Recommendation
from localchat.recommend.catalog import Catalog, CatalogEntry, load_catalog
from localchat.recommend.choose import candidates_for, recommend
from localchat.recommend.evaluate import evaluate, evaluate_file
from localchat.recommend.footprint import DevicePart, Footprint, ModelShape, footprint
from localchat.recommend.profiles import Budget, budget_for, hypothetical_profile
from localchat.recommend.quants import QuantQuality, quant_quality
from localchat.recommend.remote import read_remote_header, read_remote_model
from localchat.recommend.shape import shape_from_entry, shape_from_header

__all__ = [
    "Budget", "Calibration", "CalibrationStore", "Candidate", "Catalog", "CatalogEntry", "DevicePart",
    "Footprint", "ModelShape",
    "QuantQuality", "Recommendation", "budget_for", "candidates_for", "evaluate", "evaluate_file",
    "footprint", "hypothetical_profile", "load_catalog", "quant_quality", "read_remote_header",
    "read_remote_model", "recommend", "shape_from_entry", "shape_from_header",
]
