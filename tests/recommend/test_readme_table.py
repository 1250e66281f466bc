"""The README's table of picks ("How the recommendation is made") is what `localchat recommend`
prints: each row's command is run with --json and rendered the way the table shows it.

After a deliberate change to the policy or the catalog, print the rows to paste into the README:
    PYTHONPATH=. python tests/recommend/test_readme_table.py
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from localchat.cli import main
from localchat.units import fmt_bytes

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- machine table: tests/recommend/test_readme_table.py -->"
ROW = re.compile(r"^\| `localchat recommend ([^`]*)` \|")

# the rows, in the README's order (used to print a fresh table)
COMMANDS = (
    "--ram 8 --gpu none",
    "--ram 16 --gpu none",
    "--ram 16 --gpu none --prefer faster",
    "--ram 16 --gpu none --prefer quality",
    "--ram 64 --gpu none",
    "--ram 8 --gpu metal",
    "--ram 16 --gpu metal",
    "--ram 16 --vram 8 --gpu cuda",
    "--ram 32 --vram 12",
    "--ram 64 --vram 24",
    "--ram 128 --vram 80",
)


def render(args: str, data: dict) -> str:
    """One README row from `recommend --json`."""
    c, machine = data["choice"], data["machine"]
    fp = c["footprint"]
    ctx = f"{c['ctx'] // 1024}k" + ("" if c["kv_type"] == "f16" else f", {c['kv_type']} KV")
    if c["n_gpu_layers"] and machine["gpu_backend"] != "metal":
        memory = (f"{fmt_bytes(fp['gpu']['total_bytes'])} of {fmt_bytes(machine['gpu_budget_bytes'])} "
                  f"VRAM + {fmt_bytes(fp['cpu']['total_bytes'])} RAM")
    else:
        memory = f"{fmt_bytes(fp['total_bytes'])} of {fmt_bytes(machine['ram_budget_bytes'])}"
    if machine["gpu_backend"]:
        bandwidth = f"{machine['gpu_bandwidth_gbps']:g} GB/s ({machine['gpu_bandwidth_source']})"
    else:
        bandwidth = f"{machine['ram_bandwidth_gbps']:g} GB/s ({machine['ram_bandwidth_source']})"
    return (f"| `localchat recommend {args}` | {c['model']} {c['quant']} | {ctx} | "
            f"{c['tps_text']} | {memory} | {bandwidth} |")


def run_json(args: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["recommend", *shlex.split(args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def readme_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    assert MARKER in text, "the README lost its machine table"
    table = text.split(MARKER, 1)[1]
    return [line.rstrip() for line in table.splitlines() if ROW.match(line)]


def test_the_readme_table_is_what_recommend_prints(capsys: pytest.CaptureFixture[str]) -> None:
    rows = readme_rows()
    assert [ROW.match(r).group(1) for r in rows] == list(COMMANDS)  # type: ignore[union-attr]
    for row in rows:
        args = ROW.match(row).group(1)  # type: ignore[union-attr]
        assert row == render(args, run_json(args, capsys)), f"README row for `{args}`"


def test_the_cpu_only_picks_are_q4_k_m_or_better_and_comfortable(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16: 8 and 16 GB CPU-only machines (at the assumed 50 GB/s) get a Q4_K_M-class or
    better model estimated at 10 tokens/s or more."""
    good = {"Q4_K_M", "Q4_K_S", "Q5_K_M", "Q5_K_S", "Q6_K", "Q8_0"}
    for args in ("--ram 8 --gpu none", "--ram 16 --gpu none"):
        choice = run_json(args, capsys)["choice"]
        assert choice["quant"] in good and choice["est_tps"] >= 10, (args, choice["quant"], choice["est_tps"])


if __name__ == "__main__":
    import contextlib
    import io

    for args in COMMANDS:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            main(["recommend", *shlex.split(args), "--json"])
        print(render(args, json.loads(buffer.getvalue())))
