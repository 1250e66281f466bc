"""Prompt-processing and generation speed of a model on this machine, as llama-bench measures.

pp: a batch of N prompt tokens evaluated from an empty cache; tg: N tokens decoded one at a
time. Tokens are drawn at random from the vocabulary (llama-bench does the same), a warm-up run
is discarded, and each figure is the mean of ``reps`` runs with its standard deviation.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from localchat.engine.llama import LlamaEngine
from localchat.loadsettings import LoadSettings
from localchat.recommend.names import model_display_name

NOISY_SPREAD = 0.10  # a standard deviation above 10% of the mean: the machine was busy


@dataclass(frozen=True)
class BenchResult:
    model: str
    quant: str
    n_threads: int
    n_threads_batch: int
    pp_tokens: int
    tg_tokens: int
    pp_tps: float
    pp_tps_std: float
    tg_tps: float
    tg_tps_std: float

    @property
    def noisy(self) -> bool:
        return any(std > NOISY_SPREAD * mean
                   for mean, std in ((self.pp_tps, self.pp_tps_std), (self.tg_tps, self.tg_tps_std)))


def _rate(count: int, seconds: list[float]) -> tuple[float, float]:
    rates = [count / s for s in seconds]
    return statistics.fmean(rates), statistics.stdev(rates) if len(rates) > 1 else 0.0


def run_bench(path: str | Path, settings: LoadSettings, pp: int = 512, tg: int = 128,
              reps: int = 3, seed: int = 0) -> BenchResult:
    engine = LlamaEngine(path, settings)
    try:
        llm = engine._llm
        rng = random.Random(seed)
        n_vocab = llm.n_vocab()
        # stay clear of the special tokens at both ends of most vocabularies
        def tokens(n: int) -> list[int]:
            return [rng.randrange(min(100, n_vocab // 4), n_vocab - 100) for _ in range(n)]

        pp_times: list[float] = []
        tg_times: list[float] = []
        for rep in range(reps + 1):  # rep 0 warms up caches and the thread pool
            llm.reset()
            batch = tokens(pp)
            t0 = time.perf_counter()
            llm.eval(batch)
            t_pp = time.perf_counter() - t0
            llm.reset()
            llm.eval(tokens(1))
            t0 = time.perf_counter()
            for token in tokens(tg):
                llm.eval([token])
            t_tg = time.perf_counter() - t0
            if rep > 0:
                pp_times.append(t_pp)
                tg_times.append(t_tg)
        pp_tps, pp_std = _rate(pp, pp_times)
        tg_tps, tg_std = _rate(tg, tg_times)
        info = engine.info
        return BenchResult(model_display_name(info.path, info.name), info.quant, info.n_threads,
                           info.n_threads_batch, pp, tg, pp_tps, pp_std, tg_tps, tg_std)
    finally:
        engine.close()
