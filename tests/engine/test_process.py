"""The engine in a process of its own (engine/process.py): the same replies and errors as the
in-process engine, a cancel that reaches it at once, and a crash that is an error, not the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from localchat.engine import LoadSettings, Message, ReplyStats, Sampling, TextChunk, load_engine
from localchat.engine import process as engine_process
from localchat.engine.process import EngineProcess, ended_reason
from localchat.errors import ContextOverflowError, EngineCrashed, ModelFileError

pytestmark = pytest.mark.slow

SYSTEM = Message("system", "You are a helpful assistant.")
STORY = [SYSTEM, Message("user", "Write a very long story about a dragon and a knight.")]
GREEDY = Sampling(temperature=0.0, max_tokens=48, seed=7)


@pytest.fixture
def hosted(smollm2_path: Path):
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=1024))
    yield engine
    engine.close()


def gone(pid: int, timeout_s: float = 10.0) -> bool:
    """Whether process ``pid`` has ended within the timeout (a zombie has: it holds nothing)."""
    import psutil

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)  # another process: nothing to wait on but its pid
    return False


def test_a_greedy_reply_is_the_same_as_in_process(hosted, smollm2_path):
    local = load_engine(str(smollm2_path), LoadSettings(n_ctx=1024))
    try:
        expected = [e for e in local.chat(STORY, GREEDY)]
        expected_count = local.count_tokens(STORY)
    finally:
        local.close()
    events = list(hosted.chat(STORY, GREEDY))
    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    stats = events[-1]
    assert isinstance(stats, ReplyStats) and len(chunks) == len(events) - 1 > 3  # batched pieces
    assert "".join(chunks) == stats.text == expected[-1].text
    assert stats.completion_tokens == expected[-1].completion_tokens == 48
    assert stats.gen_tps > 0 and stats.finish_reason == "length"
    assert hosted.count_tokens(STORY) == expected_count
    assert hosted.info.quant == "Q4_1" and hosted.info.allocated_weights_bytes > 80_000_000


def test_the_app_process_never_imports_llama_cpp(smollm2_path):
    code = (
        "import sys\n"
        "from localchat.engine.types import Message, Sampling\n"
        "from localchat.loadsettings import LoadSettings\n"
        "from localchat.tui.modelhost import real_engine_loader\n"
        f"engine = real_engine_loader({str(smollm2_path)!r}, LoadSettings(n_ctx=512))\n"
        "events = list(engine.chat([Message('user', 'Hi')], Sampling(max_tokens=8)))\n"
        "engine.close()\n"
        "print(events[-1].completion_tokens, 'llama_cpp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    tokens, imported = out.stdout.split()
    assert int(tokens) > 0 and imported == "False"


def test_cancel_reaches_the_engine_process_at_once(hosted):
    cancel = threading.Event()
    stats, cancelled_at = None, 0.0
    for n, event in enumerate(hosted.chat(STORY, Sampling(temperature=0.0, max_tokens=900), cancel)):
        if isinstance(event, ReplyStats):
            stats = event
            break
        if n == 4:
            cancel.set()
            cancelled_at = time.perf_counter()
    stopped_s = time.perf_counter() - cancelled_at
    assert stats is not None and stats.finish_reason == "cancelled"
    assert stats.completion_tokens < 40 and stopped_s < 1.0  # not the 900 tokens asked for
    # and the engine answers the next reply straight away
    assert list(hosted.chat(STORY, Sampling(temperature=0.0, max_tokens=4)))[-1].completion_tokens == 4


def test_a_stop_during_a_long_prompt_does_not_wait_for_the_rest_of_it(smollm2_path):
    """The stop reaches llama.cpp inside the prompt's evaluation (its abort callback), and what
    it leaves in the KV cache is right: the next replies are as if it had never run."""
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=4096))
    try:
        short = Sampling(temperature=0.0, max_tokens=8)
        fox, stitch = "The quick brown fox jumps over the lazy dog. ", "A stitch in time saves nine. "
        first = [SYSTEM, Message("user", "Summarise: " + fox * 300)]
        expected = list(engine.chat(first, short))[-1]
        other = [SYSTEM, Message("user", "Count the words: " + stitch * 400)]
        cancel = threading.Event()
        timer = threading.Timer(0.1, cancel.set)  # well before its ~3,000 tokens are in
        timer.start()
        stats = list(engine.chat(other, short, cancel))[-1]
        timer.join()
        assert stats.finish_reason == "cancelled" and stats.completion_tokens == 0 and not stats.text
        assert stats.prompt_tokens > 2500 and stats.prompt_eval_tokens < stats.prompt_tokens - 500
        assert list(engine.chat(first, short))[-1].text == expected.text
        assert list(engine.chat(other, short))[-1].completion_tokens == 8
    finally:
        engine.close()


def test_a_reply_left_unread_is_stopped(hosted):
    reply = hosted.chat(STORY, Sampling(temperature=0.0, max_tokens=900))
    next(reply)
    reply.close()  # the caller stopped reading: the engine must not go on for 900 tokens
    start = time.perf_counter()
    list(hosted.chat(STORY, Sampling(temperature=0.0, max_tokens=4)))
    assert time.perf_counter() - start < 3.0


def test_errors_come_back_as_the_same_type_and_message(tmp_path, smollm2_path):
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("not a model")
    with pytest.raises(ModelFileError) as in_process:
        load_engine(str(not_gguf))
    with pytest.raises(ModelFileError) as hosted_error:
        EngineProcess(not_gguf)
    assert str(hosted_error.value) == str(in_process.value)
    assert hosted_error.value.hint == in_process.value.hint

    huge = [SYSTEM, Message("user", "word " * 400)]
    local = load_engine(str(smollm2_path), LoadSettings(n_ctx=256))
    try:
        with pytest.raises(ContextOverflowError) as in_process:
            list(local.chat(huge))
    finally:
        local.close()
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=256))
    try:
        with pytest.raises(ContextOverflowError) as hosted_error:
            list(engine.chat(huge))
        assert str(hosted_error.value) == str(in_process.value)
        assert engine.count_tokens([SYSTEM]) > 0  # an error in one reply leaves the engine working
    finally:
        engine.close()


def test_kill_9_mid_reply_ends_the_stream_with_a_typed_error_after_the_partial_text(hosted):
    parts: list[str] = []
    with pytest.raises(EngineCrashed) as crash:
        for event in hosted.chat(STORY, Sampling(temperature=0.0, max_tokens=900)):
            assert isinstance(event, TextChunk), "no stats: the reply never finished"
            parts.append(event.text)
            if len(parts) == 10:
                os.kill(hosted.pid, signal.SIGKILL)
    assert len(parts) >= 10 and "".join(parts).strip()
    error = crash.value
    assert error.reason.startswith("killed by SIGKILL") and "SIGKILL" in str(error)
    assert error.last_log and error.last_log in str(error)  # llama.cpp's last line, forwarded
    assert hosted.crashed is error
    with pytest.raises(EngineCrashed):  # the next reply says so at once, and close still works
        list(hosted.chat(STORY, GREEDY))
    hosted.close()


def test_an_abort_says_so_with_what_llama_cpp_printed_last(hosted):
    os.kill(hosted.pid, signal.SIGABRT)
    assert gone(hosted.pid)
    with pytest.raises(EngineCrashed) as crash:
        hosted.count_tokens(STORY)
    assert crash.value.reason == "killed by SIGABRT (aborted by llama.cpp)"
    assert crash.value.last_log


def test_close_ends_the_process(smollm2_path):
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=512))
    pid = engine.pid
    engine.close()
    assert gone(pid, timeout_s=0.5)  # close waited for it
    assert engine.crashed is None  # an ordinary exit is not a crash
    engine.close()  # twice is fine


def test_close_kills_an_engine_process_that_does_not_exit(smollm2_path, monkeypatch):
    monkeypatch.setattr(engine_process, "CLOSE_TIMEOUT_S", 0.5)
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=512))
    os.kill(engine.pid, signal.SIGSTOP)  # hung: it will never read the close message
    start = time.perf_counter()
    engine.close()
    assert time.perf_counter() - start < 3.0
    assert gone(engine.pid, timeout_s=0.5)


def test_the_engine_process_ends_when_the_app_dies(smollm2_path):
    code = (
        "import os, sys\n"
        "from localchat.engine.process import EngineProcess\n"
        "from localchat.loadsettings import LoadSettings\n"
        f"engine = EngineProcess({str(smollm2_path)!r}, LoadSettings(n_ctx=512))\n"
        "print(engine.pid, flush=True)\n"
        "os._exit(0)  # no close(): as if the app were killed\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert gone(int(out.stdout.strip()))


@pytest.mark.parametrize(("returncode", "reason"), [
    (-9, "killed by SIGKILL (out of memory, or by another program)"),
    (-6, "killed by SIGABRT (aborted by llama.cpp)"),
    (-7, "killed by SIGBUS (the model file changed or was cut short while in use)"),
    (3, "exited with status 3"),
    (None, "stopped answering"),
])
def test_ended_reason(returncode, reason):
    assert ended_reason(returncode) == reason


def test_a_process_started_ahead_is_the_one_that_loads(smollm2_path):
    from localchat.engine import spawn

    spawn.prestart()
    assert spawn._spare is not None
    ahead = spawn._spare.proc.pid
    engine = EngineProcess(smollm2_path, LoadSettings(n_ctx=512))
    try:
        assert engine.pid == ahead and spawn._spare is None
    finally:
        engine.close()
    spawn.prestart()
    waiting = spawn._spare.proc.pid
    spawn.discard_spare()  # the app exits without loading again
    assert gone(waiting, timeout_s=0.5)


def test_a_process_started_ahead_has_llama_cpp_loaded_before_a_model_is_chosen():
    from localchat.engine import spawn

    spawn.prestart()
    pid = spawn._spare.proc.pid
    try:
        maps = Path(f"/proc/{pid}/maps")
        if not maps.exists():
            pytest.skip("needs /proc")
        deadline = time.monotonic() + 30
        while "libllama" not in maps.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "libllama" in maps.read_text()  # imported while waiting, not when the load comes
    finally:
        spawn.discard_spare()
