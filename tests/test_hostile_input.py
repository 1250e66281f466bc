"""Input a hostile or careless user gives the command line (issue 13): escape sequences a model
copies back, bytes that are not UTF-8, repository names the Hub refuses, numbers that are not
finite, pipes and devices as model files. Each ends in a reply or in one line on stderr with exit
status 2, never a traceback or a hang."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localchat.cli import main

ROOT = Path(__file__).resolve().parent.parent
# the prompt from the issue: gemma-3-270m copies a repeated pattern exactly
HOSTILE = "\x1b]2;PWNED\x07\x1b]52;c;aGFja2Vk\x07" * 15


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs read stdin as piped and empty (pytest's own stdin refuses reads)."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``localchat ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def assert_refused(argv: list[str], *needles: str) -> str:
    code, _out, err = run_main(argv)
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def localchat(*args: str | bytes, stdin: bytes | None = None, timeout: float = 120,
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "localchat", *args], input=stdin,
                          capture_output=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


# ---------------------------------------------------------------- 5: output cannot drive the terminal
@pytest.mark.slow
def test_ask_shows_escape_sequences_a_model_writes_inertly(gemma_path: Path):
    result = localchat("ask", "--model", str(gemma_path), "--max-tokens", "80", "--temperature", "0",
                       "--seed", "1", "--ctx", "1024", "--json", HOSTILE, timeout=600)
    assert result.returncode == 0, result.stderr
    written = json.loads(result.stdout.decode().splitlines()[-1])["text"]
    assert "\x1b]52;c;aGFja2Vk\x07" in written, "the model no longer copies the sequence"
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout  # nor in the JSON line
    assert "␛]52;c;aGFja2Vk␇".encode() in result.stdout  # visible, not lost


def test_ask_json_escapes_the_reply_and_stream_is_inert(monkeypatch: pytest.MonkeyPatch, capsys):
    from tests.tui.scripted import ScriptedEngine

    engine = ScriptedEngine([HOSTILE + "\x9b2J done"], piece_chars=3)
    monkeypatch.setattr("localchat.engine.load_engine", lambda path, settings: engine)
    assert main(["ask", "--model", "x.gguf", "--json", "hi"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x9b")
    assert json.loads(out.splitlines()[-1])["text"] == HOSTILE + "\x9b2J done"


# ---------------------------------------------------------------- 7: bytes that are not UTF-8
def test_prompt_bytes_that_are_not_utf8_become_replacement_characters(monkeypatch, capsys):
    from tests.tui.scripted import ScriptedEngine

    engine = ScriptedEngine(["ok"])
    monkeypatch.setattr("localchat.engine.load_engine", lambda path, settings: engine)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Hi\xff there"),
                                                      errors="surrogateescape"))
    assert main(["ask", "--model", "x.gguf", "--system", ""]) == 0
    # an argument: Python keeps the byte as a lone surrogate (surrogateescape)
    assert main(["ask", "--model", "x.gguf", "--system", "be \udcfe brief", "Hi\udcff there"]) == 0
    sent = [[m.content for m in call] for call in engine.calls]
    assert sent == [["Hi\ufffd there"], ["be \ufffd brief", "Hi\ufffd there"]]
    for contents in sent:
        for text in contents:
            text.encode("utf-8")


@pytest.mark.slow
def test_ask_with_invalid_utf8_on_stdin_and_argv(smollm2_path: Path):
    piped = localchat("ask", "--model", str(smollm2_path), "--max-tokens", "4", stdin=b"Hi\xff there")
    assert piped.returncode == 0, piped.stderr.decode()
    argv = localchat("ask", "--model", str(smollm2_path), "--max-tokens", "4", b"Hi\xff there")
    assert argv.returncode == 0, argv.stderr.decode()


# ---------------------------------------------------------------- 8: arguments checked first
@pytest.mark.parametrize("argv, needle", [
    (["pull", "a/b/c"], "'a/b/c' is not a Hub repository name"),
    (["pull", "../../etc/passwd"], "not a Hub repository name"),
    (["pull", "--list", "org/na--me"], "not a Hub repository name"),
    (["pull", "org/-name"], "not a Hub repository name"),
    (["recommend", "--model", "a/b/c"], "not a Hub repository name"),
])
def test_repository_names_are_checked_before_any_request(argv, needle, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: no request is made
    assert_refused(argv, needle)


@pytest.mark.parametrize("argv, needle", [
    (["recommend", "--ram", "inf"], "RAM"),
    (["recommend", "--ram", "1e300"], "RAM"),
    (["recommend", "--ram", "nan"], "RAM"),
    (["recommend", "--ram", "0"], "RAM"),
    (["recommend", "--ram", "16", "--vram", "-1", "--gpu", "cuda"], "VRAM"),
    (["recommend", "--ram", "16", "--vram", "nan", "--gpu", "cuda"], "VRAM"),
    (["recommend", "--ctx", "99999999999999999999"], "--ctx"),
    (["recommend", "--gpu-layers", "-3", "--model", "x.gguf"], "--gpu-layers"),
    (["ask", "--temperature", "-1", "--model", "x.gguf", "hi"], "--temperature"),
    (["ask", "--temperature", "nan", "--model", "x.gguf", "hi"], "--temperature"),
    (["ask", "--temperature", "inf", "--model", "x.gguf", "hi"], "--temperature"),
    (["ask", "--seed", "-5", "--model", "x.gguf", "hi"], "--seed"),
    (["ask", "--seed", str(1 << 40), "--model", "x.gguf", "hi"], "--seed"),
    (["ask", "--threads", "100000000", "--model", "x.gguf", "hi"], "--threads"),
    (["ask", "--gpu-layers", str(1 << 33), "--model", "x.gguf", "hi"], "--gpu-layers"),
    (["ask", "--max-tokens", "0", "--model", "x.gguf", "hi"], "--max-tokens"),
    (["bench", "--pp", str(1 << 40), "--model", "x.gguf"], "--pp"),
    (["bench", "--threads-list", "1,99999", "--model", "x.gguf"], "--threads-list"),
    (["ask", "--nonsense", "\x1b]2;PWNED\x07"], "--nonsense"),
])
def test_numbers_are_finite_and_in_range_before_they_reach_the_engine(argv, needle):
    line = assert_refused(argv, needle)
    assert "\x1b" not in line and "\x07" not in line


def test_an_unwritable_hugging_face_cache_is_named(smol_repo: str, monkeypatch):
    # the tests run as root, which writes through permission bits: /sys refuses even root
    unwritable = Path("/sys/localchat-test-hf")
    try:
        unwritable.mkdir()
    except OSError:
        pass
    else:
        unwritable.rmdir()
        pytest.skip("no folder here refuses writes")
    monkeypatch.setenv("HF_HOME", str(unwritable))
    assert_refused(["pull", f"{smol_repo}:Q4_1"], "cannot write to the Hugging Face cache",
                   str(unwritable), "HF_HOME")


# ---------------------------------------------------------------- 10: pipes, devices, folders
@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
@pytest.mark.parametrize("command", ["ask", "recommend"])
def test_a_model_path_that_is_not_a_regular_file_is_refused_at_once(kind, command, tmp_path):
    if kind == "fifo":
        path = tmp_path / "model.gguf"
        os.mkfifo(path)
    elif kind == "folder":
        path = tmp_path / "folder.gguf"
        path.mkdir()
    else:
        path = Path("/dev/zero")
    args = ["ask", "--model", str(path), "hi"] if command == "ask" else ["recommend", "--model", str(path)]
    start = time.monotonic()
    result = localchat(*args, timeout=30)
    assert time.monotonic() - start < 25
    err = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and "not a GGUF model file" in err, err


# ---------------------------------------------------------------- header values the sizing relies on
def write_gguf(path: Path, **values) -> Path:
    """A small llama GGUF with ``values`` (key → (value, GGUFValueType or None for an array))."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_block_count(1)
    writer.add_context_length(128)
    writer.add_embedding_length(8)
    writer.add_head_count(2)
    for key, (value, vtype) in values.items():
        key = key.replace("__", ".")
        writer.kv_data[0].pop(key, None)
        if vtype is None:
            writer.add_array(key, value)
        else:
            writer.add_key_value(key, value, vtype)
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("key, value, vtype_name, needle", [
    ("general.alignment", "abc", "STRING", "not a whole number"),
    ("general.alignment", 3, "UINT32", "not a power of 2"),
    ("general.file_type", "q4", "STRING", "not a whole number"),
    ("llama.context_length", "x", "STRING", "not a whole number"),
    ("llama.block_count", 1 << 40, "UINT64", "more than the 512 layers"),
])
def test_header_numbers_of_the_wrong_kind_are_a_damaged_header(key, value, vtype_name, needle, tmp_path):
    import gguf

    path = write_gguf(tmp_path / "odd.gguf", **{key.replace(".", "__"): (value, getattr(gguf.GGUFValueType,
                                                                                       vtype_name))})
    assert_refused(["recommend", "--ram", "16", "--model", str(path)], "damaged GGUF header", key, needle)


def test_a_model_name_with_escape_sequences_is_printed_inertly(tmp_path: Path):
    import gguf

    path = write_gguf(tmp_path / "named.gguf",
                      general__name=("evil\x1b]2;PWNED\x07\x1b[2J", gguf.GGUFValueType.STRING))
    code, out, err = run_main(["recommend", "--ram", "16", "--model", str(path)])
    assert code == 0, err
    assert "evil␛]2;PWNED␇␛[2J" in out and "\x1b" not in out


# ---------------------------------------------------------------- 12: messages that point the right way
def test_a_header_without_tensors_is_not_called_truncated(tmp_path: Path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))  # 24 bytes: a valid empty header
    line = assert_refused(["ask", "--model", str(path), "hi"], "not a complete GGUF model",
                          "24 bytes")
    assert "0.0 MB" not in line


def test_a_refused_pull_states_the_margin_it_keeps(tmp_path: Path, monkeypatch):
    from localchat.download import disk
    from localchat.errors import DownloadError

    monkeypatch.setattr(disk, "free_bytes", lambda path: 150 << 20)
    with pytest.raises(DownloadError) as err:
        disk.require_free_space(tmp_path, int(138.1 * (1 << 20)), "org/model:Q4_K_M")
    assert "138.1 MiB to download and 64.0 MiB kept free, 150.0 MiB free" in str(err.value)


def test_recommend_warns_when_the_context_is_longer_than_the_model_was_trained_for():
    code, out, err = run_main(["recommend", "--ram", "64", "--ctx", "10000000"])
    assert code == 0, err
    assert "was trained for" in out and "10,000,000" in out


def test_recommend_prefers_a_model_trained_for_the_context_asked_for():
    code, out, err = run_main(["recommend", "--json", "--ram", "64", "--ctx", "100000"])
    assert code == 0, err
    choice = json.loads(out)["choice"]
    assert choice["n_ctx_train"] >= 100000, choice


# ---------------------------------------------------------------- 14: --json after Ctrl-C
def test_ask_json_after_ctrl_c_prints_the_partial_reply(monkeypatch, capsys):
    from tests.tui.scripted import ScriptedEngine

    class Interrupted(ScriptedEngine):
        def chat(self, messages, sampling):
            yield from list(super().chat(messages, sampling))[:3]
            raise KeyboardInterrupt

    engine = Interrupted(["one two three four five six"], piece_chars=4)
    monkeypatch.setattr("localchat.engine.load_engine", lambda path, settings: engine)
    assert main(["ask", "--model", "x.gguf", "--json", "hi"]) == 130
    out = capsys.readouterr().out
    record = json.loads(out.strip().splitlines()[-1])
    assert record["text"] == "one two thre" and record["finish_reason"] == "cancelled"
    assert record["completion_tokens"] is None


@pytest.mark.slow
def test_ctrl_c_during_ask_json_prints_json(smollm2_path: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "localchat", "ask", "--json", "--model", str(smollm2_path),
         "--max-tokens", "2000", "--ctx", "4096", "Write a very long story about a lighthouse."],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.read(20)  # the reply has started streaming
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err
    record = json.loads(out.strip().splitlines()[-1])
    assert record["finish_reason"] == "cancelled" and len(record["text"]) >= 20
