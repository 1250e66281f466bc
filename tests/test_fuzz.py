"""Fuzzing the inputs a user (or an attacker) controls (issue 13): GGUF files, prompts, titles and
config values. The rule every example is held to: the command exits 0 or 2, with one line on
stderr when it is 2, never a traceback, never a hang, and never changes a user's file.

In-process (``localchat.cli.main``) so it runs in seconds; ``derandomize=True`` and no example
database, so CI runs the same examples every time; no per-example deadline (a busy 2-core box
is slow), a watchdog of a few seconds instead. The real llama.cpp is swapped for a stub that
refuses the file as llama-cpp-python does (a malformed file can make llama.cpp abort the whole
process, which is the engine's own matter); a few subprocess runs use the real entry point.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import signal
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localchat.cli import main
from localchat.safetext import one_line

ROOT = Path(__file__).resolve().parent.parent
WATCHDOG_S = 10.0
UNSAFE = {chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]} - {"\n", "\t"}


def profile(examples: int) -> settings:
    return settings(derandomize=True, database=None, deadline=None, max_examples=examples,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


class Hung(BaseException):
    """Raised by the watchdog: a BaseException, so no ``except Exception`` can swallow it."""


@contextlib.contextmanager
def watchdog(seconds: float = WATCHDOG_S) -> Iterator[None]:
    def fire(signum, frame):
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    """``localchat ARGV`` in this process, held to the rule; returns (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin  # pytest's refuses reads: piped text, or nothing piped
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""), errors="surrogateescape")
    try:
        with watchdog(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved_stdin
    stderr = err.getvalue()
    assert code in (0, 2), f"exit {code} for {argv!r}: {stderr}"
    assert "Traceback" not in stderr
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, f"{argv!r} said: {stderr}"
    assert not UNSAFE & set(stderr), stderr
    return code, out.getvalue(), stderr


# ---------------------------------------------------------------- GGUF files
@functools.cache
def valid_gguf() -> bytes:
    """A tiny but complete llama-architecture GGUF written by the ``gguf`` package itself."""
    import gguf
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_name("tiny")
        writer.add_block_count(1)
        writer.add_context_length(128)
        writer.add_embedding_length(8)
        writer.add_feed_forward_length(16)
        writer.add_head_count(2)
        writer.add_head_count_kv(1)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_file_type(0)
        writer.add_tokenizer_model("llama")
        writer.add_token_list([f"t{i}" for i in range(16)])
        writer.add_token_scores([0.0] * 16)
        writer.add_token_types([1] * 16)
        writer.add_chat_template("{{ messages[0]['content'] }}")
        rng = np.random.default_rng(0)
        for name, shape in [("token_embd.weight", (16, 8)), ("blk.0.attn_norm.weight", (8,)),
                            ("blk.0.attn_q.weight", (8, 8)), ("blk.0.attn_k.weight", (4, 8)),
                            ("blk.0.attn_v.weight", (4, 8)), ("blk.0.attn_output.weight", (8, 8)),
                            ("blk.0.ffn_norm.weight", (8,)), ("blk.0.ffn_gate.weight", (16, 8)),
                            ("blk.0.ffn_up.weight", (16, 8)), ("blk.0.ffn_down.weight", (8, 16)),
                            ("output_norm.weight", (8,))]:
            writer.add_tensor(name, rng.standard_normal(shape).astype(np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path.read_bytes()


METADATA_KEYS = ["general.alignment", "general.file_type", "general.architecture", "general.name",
                 "llama.block_count", "llama.context_length", "llama.embedding_length",
                 "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
                 "llama.attention.sliding_window", "llama.attention.sliding_window_pattern",
                 "llama.expert_count", "llama.expert_used_count",
                 "tokenizer.ggml.tokens", "tokenizer.chat_template"]


def metadata_values():
    import gguf

    T = gguf.GGUFValueType
    return st.one_of(
        st.tuples(st.integers(0, 2**32 - 1), st.just(T.UINT32)),
        st.tuples(st.integers(-(2**31), 2**31 - 1), st.just(T.INT32)),
        st.tuples(st.integers(0, 2**64 - 1), st.just(T.UINT64)),
        st.tuples(st.floats(width=32), st.just(T.FLOAT32)),
        st.tuples(st.booleans(), st.just(T.BOOL)),
        st.tuples(st.text(max_size=40), st.just(T.STRING)),
        st.tuples(st.lists(st.integers(0, 2**31 - 1), max_size=20), st.none()),
    )


def gguf_with_metadata(values: dict) -> bytes:
    """The valid file's tensors under metadata with some values replaced (any type)."""
    import gguf
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "meta.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_block_count(1)
        writer.add_context_length(128)
        writer.add_embedding_length(8)
        writer.add_head_count(2)
        for key, (value, vtype) in values.items():
            writer.kv_data[0].pop(key, None)
            if vtype is None:
                writer.add_array(key, value)
            else:
                writer.add_key_value(key, value, vtype)
        writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
        writer.add_tensor("blk.0.attn_q.weight", np.zeros((8, 8), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path.read_bytes()


@st.composite
def gguf_files(draw) -> bytes:
    """Valid, mutated (bytes flipped, cut short, counts and lengths made huge, metadata of any
    type) or random files."""
    kind = draw(st.sampled_from(["valid", "flip", "truncate", "huge", "metadata", "header+random",
                                 "random"]))
    if kind == "metadata":
        return gguf_with_metadata(draw(st.dictionaries(st.sampled_from(METADATA_KEYS), metadata_values(),
                                                       min_size=1, max_size=4)))
    data = bytearray(valid_gguf())
    header_end = 24 + 4096  # mutations aim at the header, where the parser works
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, min(len(data), header_end) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif kind == "huge":
        at = draw(st.sampled_from([8, 16]) | st.integers(24, min(len(data), header_end) - 8))
        value = draw(st.sampled_from([2**63 - 1, 2**64 - 1, 2**32, 2**40, 0]) | st.integers(0, 2**64 - 1))
        data[at:at + 8] = struct.pack("<Q", value)
    elif kind == "header+random":
        data = bytearray(b"GGUF" + struct.pack("<I", draw(st.sampled_from([2, 3])))
                         + draw(st.binary(max_size=512)))
    elif kind == "random":
        data = bytearray(draw(st.binary(max_size=512)))
    return bytes(data)


@pytest.fixture
def refusing_llama(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama_cpp.Llama refuses every file as llama-cpp-python does for one llama.cpp rejects."""
    llama_cpp = pytest.importorskip("llama_cpp")

    def refuse(*args, **kwargs):
        raise ValueError(f"Failed to load model from file: {kwargs.get('model_path')}")

    monkeypatch.setattr(llama_cpp, "Llama", refuse)


@profile(150)
@given(data=gguf_files())
def test_model_files_end_in_a_reply_or_one_line(data: bytes, refusing_llama: None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.gguf"
        path.write_bytes(data)
        before = hashlib.sha256(data).hexdigest()
        run_cli(["recommend", "--ram", "16", "--model", str(path)])
        run_cli(["recommend", "--ram", "16", "--json", "--ctx", "1000000", "--model", str(path)])
        run_cli(["ask", "--model", str(path), "--max-tokens", "1", "hi"])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never changed


# ---------------------------------------------------------------- prompts
HOSTILE_TEXT = st.lists(st.one_of(
    st.characters(), st.sampled_from(sorted(UNSAFE)), st.integers(0xDC80, 0xDCFF).map(chr),
    st.sampled_from(["\x1b]52;c;aGFja2Vk\x07", "\x1b[2J", "\x1b]2;PWNED\x1b\\", "[/x]", "[b]"]),
), max_size=60).map("".join)


@pytest.fixture
def scripted_ask(monkeypatch: pytest.MonkeyPatch):
    from tests.tui.scripted import ScriptedEngine

    engines: list[ScriptedEngine] = []

    def load(path, settings):
        engines.append(ScriptedEngine([engines_reply[0]], piece_chars=3))
        return engines[-1]

    engines_reply = [""]
    monkeypatch.setattr("localchat.engine.load_engine", load)
    return engines, engines_reply


@profile(60)
@given(prompt=HOSTILE_TEXT, stdin=st.binary(max_size=200), reply=HOSTILE_TEXT)
def test_prompts_and_replies_of_any_characters(prompt: str, stdin: bytes, reply: str, scripted_ask) -> None:
    engines, engines_reply = scripted_ask
    engines_reply[0] = reply
    for argv, piped in ((["ask", "--model", "m.gguf", "--system", prompt, "--", prompt or "x"], None),
                        (["ask", "--model", "m.gguf", "--json"], stdin)):
        code, out, _err = run_cli(argv, stdin=piped)
        if code == 0:
            assert not UNSAFE & set(out)  # the reply, and the JSON, inert
            for message in engines[-1].calls[-1]:
                message.content.encode("utf-8")  # valid text reached the engine


# ---------------------------------------------------------------- config values
TOML_VALUES = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    HOSTILE_TEXT.map(lambda s: s.encode("utf-8", "surrogatepass").decode("utf-8", "replace")),
    st.lists(st.integers(), max_size=3),
)
CONFIG_KEYS = ["chat.temperature", "chat.top_p", "chat.max_tokens", "chat.system_prompt", "model.path",
               "model.ctx", "model.n_gpu_layers", "model.kv_type", "ui.theme", "models.dirs"]


@st.composite
def config_files(draw) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    import tomli_w

    raw: dict = {}
    for key in draw(st.lists(st.sampled_from(CONFIG_KEYS), max_size=4, unique=True)):
        section, name = key.split(".")
        raw.setdefault(section, {})[name] = draw(TOML_VALUES)
    return tomli_w.dumps(raw).encode()


@profile(60)
@given(config=config_files())
def test_config_files_of_any_content(config: bytes, scripted_ask) -> None:
    from localchat import paths

    engines, engines_reply = scripted_ask
    engines_reply[0] = "ok"
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob("config.toml*"):
        old.unlink()
    path.write_bytes(config)
    run_cli(["ask", "--model", "m.gguf", "hi"])
    run_cli(["recommend", "--ram", "8"])
    # the user's file is where it was or moved aside whole: never rewritten, never lost
    kept = [p.read_bytes() for p in path.parent.glob("config.toml*")]
    assert config in kept


# ---------------------------------------------------------------- titles
@profile(4)
@given(titles=st.lists(HOSTILE_TEXT.filter(lambda t: t.strip()), min_size=6, max_size=6))
def test_conversation_titles_of_any_characters(titles: list[str]) -> None:
    import asyncio

    from localchat.history import ConversationStore
    from tests.tui.conftest import SIZE, make_app, ready, wait_until

    with tempfile.TemporaryDirectory() as tmp:
        store = ConversationStore(Path(tmp) / "chats.db")
        for title in titles:
            clean = title.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            conversation = store.create(title=clean)
            store.add_message(conversation.id, "user", clean)
            store.add_message(conversation.id, "assistant", clean)

        async def drive() -> None:
            app = make_app(store=store)
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                await ready(pilot)
                for key in ("ctrl+b", "f3", "escape", "f2", "escape", "f8", "escape"):
                    await pilot.press(key)
                await wait_until(pilot, lambda: not app.screen.query("#yes"), what="the dialog to close")
                shown = app.export_screenshot()
                assert not UNSAFE & set(shown)
                assert app.is_running

        with watchdog(60):
            asyncio.run(drive())


# ---------------------------------------------------------------- the real entry point
@pytest.mark.parametrize("seed", range(4))
def test_the_installed_command_on_mutated_files(seed: int, tmp_path: Path) -> None:
    import random

    rnd = random.Random(seed)
    data = bytearray(valid_gguf())
    for _ in range(4):
        data[rnd.randrange(24, 2048)] = rnd.randrange(256)
    path = tmp_path / "model.gguf"
    path.write_bytes(bytes(data[: rnd.randrange(24, len(data))]))
    for argv in (["recommend", "--ram", "16", "--model", str(path)],
                 ["ask", "--model", str(path), "--max-tokens", "1", "hi"]):
        result = subprocess.run([sys.executable, "-m", "localchat", *argv], capture_output=True, text=True,
                                timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert result.returncode in (0, 2) and "Traceback" not in result.stderr, result.stderr
        if result.returncode == 2:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert one_line(str(path)) == str(path)
