"""A model pooled over two real ``localchat worker`` processes on 127.0.0.1: its layers split
across both (llama.cpp's per-device buffer log says so), a real reply, and a worker killed
mid-reply ending the engine process, not the caller, with the worker named and the partial
reply kept."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, TextChunk
from localchat.engine.process import EngineProcess
from localchat.errors import EngineCrashed
from tests.rpc.workers import ROOT, localchat_env

pytestmark = pytest.mark.slow

# llama.cpp's load log: "load_tensors: RPC0[127.0.0.1:50052] model buffer size =    46.76 MiB"
# (the device's index on its worker, then the worker)
RPC_BUFFER = re.compile(r"RPC\d+\[([\d.]+:\d+)\] model buffer size\s*=\s*([\d.]+) MiB")
STORY = [Message("user", "Write a very long story about a dragon and a knight, with many chapters.")]


def model_buffers(lines: list[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in lines:
        for endpoint, mib in RPC_BUFFER.findall(line):
            found[endpoint] = found.get(endpoint, 0.0) + float(mib)
    return found


def test_a_model_split_over_two_workers_loads_and_replies(workers, smollm2_path: Path):
    first, second = workers
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=512, rpc_workers=(first.endpoint,
                                                                                second.endpoint)))
    try:
        buffers = model_buffers(engine.log_lines())
        assert set(buffers) == {first.endpoint, second.endpoint}, engine.log_lines()[-40:]
        assert all(mib > 10 for mib in buffers.values()), buffers  # layers on each, not a crumb
        assert engine.info.n_gpu_layers == -1  # with workers, every layer is offered to them
        events = list(engine.chat([Message("user", "Say hello in one sentence.")],
                                  Sampling(temperature=0.0, max_tokens=16, seed=1)))
    finally:
        engine.close()
    stats = events[-1]
    assert isinstance(stats, ReplyStats) and stats.completion_tokens > 0 and stats.text.strip()
    assert stats.gen_tps > 0


def test_a_lost_worker_ends_the_engine_process_and_is_named(workers, smollm2_path: Path):
    first, second = workers
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=1024, rpc_workers=(first.endpoint,
                                                                                 second.endpoint)))
    pieces: list[str] = []
    try:
        with pytest.raises(EngineCrashed) as caught:
            for event in engine.chat(STORY, Sampling(max_tokens=400, seed=3, min_p=0.0)):
                if isinstance(event, TextChunk):
                    pieces.append(event.text)
                    if len(pieces) == 3:
                        second.kill()
    finally:
        engine.close()
    crash = caught.value
    assert crash.lost_workers == (second.endpoint,)
    assert second.endpoint in str(crash) and first.endpoint not in str(crash)
    assert second.endpoint in crash.reason  # what the chat's notification says (tui/words.py)
    assert "".join(pieces).strip()  # what the chat keeps as the stopped reply
    assert engine.crashed is crash


def test_ask_over_a_pool_keeps_the_partial_reply_and_names_the_lost_worker(workers, smollm2_path: Path):
    first, second = workers
    proc = subprocess.Popen(
        [sys.executable, "-m", "localchat", "ask", "--model", str(smollm2_path), "--ctx", "1024",
         "--rpc", f"{first.endpoint},{second.endpoint}", "--max-tokens", "400", "--seed", "3",
         "Write a very long story about a dragon and a knight, with many chapters."],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=localchat_env(), cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    received = b""
    deadline = time.monotonic() + 120
    while len(received) < 40 and time.monotonic() < deadline:
        chunk = proc.stdout.read1(4096)
        if not chunk:
            break
        received += chunk
    first.kill()
    out, err = proc.communicate(timeout=120)
    text, error = (received + out).decode(), err.decode()
    assert proc.returncode == 2, error
    assert len(text.strip()) >= 40  # the reply so far stays on stdout
    lines = [line for line in error.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("localchat: error: the model process ended")
    assert f"lost the RPC worker {first.endpoint}" in lines[0] and second.endpoint not in lines[0]
    assert "Traceback" not in error
