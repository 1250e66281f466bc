"""The installed command as a user runs it: real subprocesses, real model, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def localchat(*args: str, stdin: str | None = None, env: dict | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    # no stdin given: /dev/null, as a terminal-less user has (an inherited pipe would be read)
    feed: dict = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        [sys.executable, "-m", "localchat", *args], **feed, capture_output=True,
        text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # the line ends with a newline, so the shell prompt (or the next error) starts on its own line
    assert result.stderr.endswith("\n"), repr(result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_and_version_do_not_import_llama_cpp_or_textual():
    code = (
        "import sys, contextlib, io\n"
        "from localchat.cli import main\n"
        "for argv in (['--help'], ['--version'], ['ask', '--help'], ['bench', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "heavy = [m for m in ('llama_cpp', 'textual', 'huggingface_hub') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_version():
    from localchat import __version__

    result = localchat("--version")
    assert result.stdout.strip() == f"localchat {__version__}"


def test_ask_streams_reply_and_prints_json_stats(smollm2_path):
    # 72 tokens: a reply long enough for its speed to be kept (64 at least)
    result = localchat("ask", "--model", str(smollm2_path), "--max-tokens", "72", "--json",
                       "--seed", "1", "Write a long story about the sea.")
    assert result.returncode == 0, result.stderr
    *reply_lines, json_line = result.stdout.rstrip("\n").splitlines()
    record = json.loads(json_line)
    for key in ("text", "model", "prompt_tokens", "completion_tokens", "ttft_s", "prompt_tps",
                "gen_tps"):
        assert key in record
    assert record["completion_tokens"] > 0 and record["gen_tps"] > 0
    assert record["model"] == "SmolLM2-135M-Instruct"  # as the chat names it, not the GGUF header
    assert "\n".join(reply_lines).strip() == record["text"].strip()
    # the measured speed is kept for the recommender and the model menu
    from localchat import paths
    from localchat.recommend.calibration_store import CalibrationStore

    assert record["completion_tokens"] == 72 and record["finish_reason"] == "length"
    speeds = {k: v["tps"] for k, v in CalibrationStore(paths.calibration_file()).load().speeds.items()}
    assert speeds and all(abs(v - record["gen_tps"]) < 0.05 for v in speeds.values()), speeds


def test_ask_reads_prompt_from_stdin(smollm2_path):
    result = localchat("ask", "--model", str(smollm2_path), "--max-tokens", "8", "--json", "-",
                       stdin="What is 2+2?")
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["prompt_tokens"] > 5 and record["completion_tokens"] > 0


def test_ask_reads_piped_text_and_the_prompt(smollm2_path):
    """``localchat ask "Summarize the text above" < notes.txt``: the text, then the instruction."""
    args = ("ask", "--model", str(smollm2_path), "--max-tokens", "4", "--json", "--seed", "1")
    alone = json.loads(localchat(*args, "Summarize the text above.").stdout.splitlines()[-1])
    notes = "Lighthouses guide ships past rocks at night. " * 8
    both = json.loads(localchat(*args, "Summarize the text above.", stdin=notes).stdout.splitlines()[-1])
    assert both["prompt_tokens"] >= alone["prompt_tokens"] + 8 * 8
    empty = json.loads(localchat(*args, "Summarize the text above.", stdin="").stdout.splitlines()[-1])
    assert empty["prompt_tokens"] == alone["prompt_tokens"]


def test_ask_piped_text_too_long_for_the_context_says_so(smollm2_path):
    notes = "Lighthouses guide ships past rocks at night. " * 200
    result = localchat("ask", "--model", str(smollm2_path), "--ctx", "256", "Summarize the text above.",
                       stdin=notes)
    assert_one_line_error(result, "context")


def test_ask_without_model_or_prompt_says_what_to_do(smollm2_path):
    assert_one_line_error(localchat("ask", "hello"), "no model", "--model")
    assert_one_line_error(localchat("ask", "--model", str(smollm2_path), stdin=""), "empty")


def test_missing_file(tmp_path):
    assert_one_line_error(localchat("ask", "--model", str(tmp_path / "nope.gguf"), "hi"),
                          "not found", "nope.gguf")


def test_not_a_gguf(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_text("<html>404 not found</html>")
    assert_one_line_error(localchat("ask", "--model", str(bogus), "hi"), "not a GGUF", "model.gguf")


def test_truncated_gguf(tmp_path, smollm2_path):
    cut = tmp_path / "cut.gguf"
    with open(smollm2_path, "rb") as src:
        cut.write_bytes(src.read(5_000_000))
    assert_one_line_error(localchat("ask", "--model", str(cut), "hi"), "truncated", "cut.gguf",
                          "5.0 MB on disk")


def test_unknown_architecture(tmp_path):
    import gguf
    import numpy as np

    path = tmp_path / "alien.gguf"
    writer = gguf.GGUFWriter(str(path), "alienformer")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = localchat("ask", "--model", str(path), "hi")
    assert_one_line_error(result, "alienformer", "pip install -U llama-cpp-python")


def test_debug_variable_shows_traceback(tmp_path):
    result = localchat("ask", "--model", str(tmp_path / "nope.gguf"), "hi",
                       env={"LOCALCHAT_DEBUG": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_ctrl_c_during_ask_stops_cleanly(smollm2_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "localchat", "ask", "--model", str(smollm2_path),
         "--max-tokens", "2000", "--ctx", "4096", "Write a very long story about a lighthouse."],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    first = proc.stdout.read(20)  # the reply has started streaming
    assert first
    proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    assert proc.returncode == 130
    assert "Traceback" not in err and "stopped" in err


def test_bench_json(smollm2_path):
    result = localchat("bench", "--model", str(smollm2_path), "--pp", "64", "--tg", "16",
                       "--reps", "1", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["pp_tps"] > 0 and record["tg_tps"] > 0
    assert record["model"] == "SmolLM2-135M-Instruct"  # as the chat names it, not the GGUF header
    assert record["noisy"] in (True, False)  # runs that varied by >10% after the warm-up say so


@pytest.mark.parametrize("argv", [["ask", "--ctx", "0", "x"], ["bench", "--threads-list", "a"],
                                  ["--ctx", "0"], ["--ctx", "-5"]])
def test_bad_arguments_exit_2(argv):
    result = localchat(*argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_ask_marks_a_reply_cut_at_max_tokens(smollm2_path):
    result = localchat("ask", "--model", str(smollm2_path), "--max-tokens", "16", "--json", "--seed", "1",
                       "Write a long story about a lighthouse keeper.")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.splitlines()[-1])
    assert record["finish_reason"] == "length" and record["cut_off"] is True
    assert "cut off at --max-tokens 16" in result.stderr


def test_ask_keeps_thinking_out_of_the_answer(tmp_path):
    """A template that opens a <think> block (R1 distills): the thinking goes to stderr with
    --show-thinking and to --json's own field, never into stdout's answer or ``text``."""
    from tests.engine.test_thinking import R1_STYLE
    from tests.testmodels import smollm2_with_template

    model = smollm2_with_template("r1style", R1_STYLE)
    args = ("ask", "--model", str(model), "--max-tokens", "8", "--seed", "1", "--json")
    result = localchat(*args, "--show-thinking", "Hi")
    assert result.returncode == 0, result.stderr
    *answer, json_line = result.stdout.splitlines()
    record = json.loads(json_line)
    assert record["thinking"] and record["thinking_tokens"] == 8
    assert record["text"] == "" and "".join(answer).strip() == ""  # SmolLM2 never ends its thinking
    assert record["thinking"].strip()[:10] in result.stderr
    quiet = localchat(*args, "Hi")  # stderr is not a terminal: the thinking is not printed
    assert record["thinking"].strip()[:10] not in quiet.stderr


def test_ask_on_the_configured_model_uses_its_configured_settings(smollm2_path):
    """`ask` without --model loads the configured model the way the chat does: the saved
    context, GPU layers and KV type; an option given on the command line replaces only itself."""
    from localchat import paths

    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text(
        f'[model]\npath = "{smollm2_path}"\nctx = 1280\nn_gpu_layers = 7\nkv_type = "q8_0"\n')

    def ask(*args: str) -> dict:
        result = localchat("ask", *args, "--max-tokens", "2", "--json", "Hi")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    configured = ask()
    assert (configured["n_ctx"], configured["n_gpu_layers"], configured["kv_type"]) == (1280, 7, "q8_0")
    asked = ask("--ctx", "512")
    assert (asked["n_ctx"], asked["n_gpu_layers"], asked["kv_type"]) == (512, 7, "q8_0")
    other_file = ask("--model", str(smollm2_path))  # a file of its own: the defaults, not the saved
    assert (other_file["n_ctx"], other_file["n_gpu_layers"], other_file["kv_type"]) == (8192, 0, "f16")


def test_ask_with_a_preset_sends_its_system_prompt(smollm2_path):
    """``--preset Coder``: the preset's (longer) system prompt is what the model reads."""
    args = ("ask", "--model", str(smollm2_path), "--max-tokens", "4", "--json", "--seed", "1",
            "What is a list?")
    default = json.loads(localchat(*args).stdout.splitlines()[-1])
    coder = json.loads(localchat(*args, "--preset", "coder").stdout.splitlines()[-1])
    helpful = json.loads(localchat(*args, "--preset", "Helpful assistant").stdout.splitlines()[-1])
    assert coder["prompt_tokens"] > default["prompt_tokens"] + 10
    assert helpful["prompt_tokens"] == default["prompt_tokens"]  # today's default is that preset


def test_ask_with_an_unknown_preset_says_so_in_one_line(smollm2_path):
    result = localchat("ask", "--model", str(smollm2_path), "--preset", "Shouty", "hello")
    assert_one_line_error(result, "unknown preset 'Shouty'", "Coder", "Translator")
    both = localchat("ask", "--model", str(smollm2_path), "--preset", "Coder", "--system", "x", "hi")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def _ask_sampling(argv: list[str], config_text: str, model_file: str, thinking: str = "none"):
    """The Sampling ``localchat ask`` would use for a model file, with this config."""
    import tomllib

    from localchat.cli import build_parser
    from localchat.commands.ask import sampling_for
    from localchat.config import parse_config
    from localchat.engine.types import ModelInfo

    args = build_parser().parse_args(["ask", *argv, "hi"])
    config, problems = parse_config(tomllib.loads(config_text))
    assert not problems
    info = ModelInfo(path=f"/m/{model_file}", name="", architecture="", quant="Q4_K_M",
                     size_bytes=1, n_ctx=512, n_ctx_train=512, n_layers=1, n_gpu_layers=0,
                     kv_type="f16", flash_attn=False, n_threads=1, n_threads_batch=1,
                     thinking=thinking)
    return sampling_for(args, config, info)


@pytest.mark.parametrize(("argv", "config_text", "expected"), [
    # Qwen3, thinking by default: its published thinking-mode values
    ([], "", dict(temperature=0.6, top_p=0.95, top_k=20, min_p=0.0, repeat_penalty=1.0)),
    (["--thinking", "off"], "", dict(temperature=0.7, top_p=0.8, top_k=20, min_p=0.0)),
    # the config's [chat] value wins over the recommendation, a flag over both
    ([], "[chat]\ntemperature = 0.7\n", dict(temperature=0.7, top_p=0.95, top_k=20)),
    (["--temperature", "1.1", "--top-k", "5", "--min-p", "0.2", "--repeat-penalty", "1.3"],
     "[chat]\ntemperature = 0.3\n",
     dict(temperature=1.1, top_p=0.95, top_k=5, min_p=0.2, repeat_penalty=1.3)),
])
def test_ask_sampling_is_the_flag_then_the_config_then_the_model_family(argv, config_text, expected):
    sampling = _ask_sampling(argv, config_text, "Qwen3-4B-Q4_K_M.gguf", thinking="switchable")
    assert {key: getattr(sampling, key) for key in expected} == expected


def test_ask_sampling_without_a_family_is_the_config_then_localchats_defaults():
    sampling = _ask_sampling(["--top-p", "0.5"], "[chat]\nmin_p = 0.1\n", "my-model.gguf")
    assert (sampling.temperature, sampling.top_p, sampling.top_k, sampling.min_p) == (0.7, 0.5, 40, 0.1)
