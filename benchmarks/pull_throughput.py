"""Pull throughput against plain curl, and bytes re-fetched after a killed pull.

Both fetch the same file from the Hub stand-in (tests/download/hubserver.py, run in its own
process) in the same run; localchat's figure includes everything `pull` does: the API call,
hashing while writing, fsync, verification and the move into the HF cache. Then a pull running
as `python -m localchat pull` is killed (SIGKILL) halfway and resumed; the bytes the server sent
beyond the file size are what the interruption cost.

    python3 benchmarks/pull_throughput.py [--file PATH] [--reps 7] [--min-mb 1000]

Targets: throughput ratio >= 0.9 of curl's; re-fetched bytes < 1% of the file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localchat.download.source import HubModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REPO = "bench/Model-GGUF"


def control(url: str, **params: object) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    with urllib.request.urlopen(f"{url}/_control?{query}") as r:
        return json.load(r)


def time_curl(url: str, out: Path) -> float:
    began = time.perf_counter()
    subprocess.run(["curl", "-sS", "-L", "-o", str(out), url], check=True)
    elapsed = time.perf_counter() - began
    out.unlink()
    return elapsed


def time_pull(model: HubModel, hf_home: Path) -> float:
    from localchat.download.fetch import pull

    shutil.rmtree(hf_home, ignore_errors=True)
    os.environ["HF_HOME"] = str(hf_home)
    began = time.perf_counter()
    pull(model)
    return time.perf_counter() - began


def partial_bytes(hf_home: Path) -> int:
    return sum(p.stat().st_size for p in hf_home.rglob("*.localchat-partial"))


def interrupted_pull(url: str, model: HubModel, hf_home: Path, size: int) -> tuple[int, int]:
    """Kill a pull halfway, resume it; return (bytes on disk at the kill, bytes re-fetched)."""
    from localchat.download.fetch import pull

    shutil.rmtree(hf_home, ignore_errors=True)
    os.environ["HF_HOME"] = str(hf_home)
    control(url, reset=1, throttle_bps=max(size // 4, 1))  # about 4 s for the whole file
    proc = subprocess.Popen([sys.executable, "-m", "localchat", "pull", model.spec], cwd=ROOT,
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while partial_bytes(hf_home) < size // 2 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    on_disk = partial_bytes(hf_home)
    control(url, throttle_bps=0)
    pull(model)
    sent = sum(control(url)["bytes_sent"].values())
    return on_disk, sent - size


def grown(source: Path, min_bytes: int, folder: Path) -> Path:
    """``source``, or copies of it joined into one file of at least ``min_bytes`` (same name).

    The bytes need not be a valid GGUF: pull checks them against the SHA-256 the stand-in lists.
    """
    if source.stat().st_size >= min_bytes:
        return source
    folder.mkdir(parents=True)
    target = folder / source.name
    data = source.read_bytes()
    with open(target, "wb") as out:
        for _ in range(-(-min_bytes // len(data))):
            out.write(data)
    return target


def main() -> None:
    from localchat.download.source import HubModel
    from localchat.ggufmeta import quant_label_from_filename
    from tests import testmodels

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=None,
                        help="GGUF to serve (default: gemma-3-270m, 253 MB)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--min-mb", type=int, default=1000,
                        help="serve copies of the file joined up to at least this size: sub-second "
                             "transfers measure the machine's noise more than the download (default 1000)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pull-bench-"))
    source = grown(args.file or testmodels.gemma(), args.min_mb * 10**6, work / "served")
    size = source.stat().st_size
    os.environ["LOCALCHAT_HOME"] = str(work / "localchat")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.download.hubserver", "--repo", REPO, "--file", str(source)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        os.environ["HF_ENDPOINT"] = url
        model = HubModel(REPO, quant_label_from_filename(source.name))
        file_url = f"{url}/{REPO}/resolve/main/{source.name}"
        time_curl(file_url, work / "curl.out")  # warm-up: imports, page cache, connections
        time_pull(model, work / "hf")
        curl_s, pull_s = [], []
        for _ in range(args.reps):  # interleaved, so both see the same machine load
            curl_s.append(time_curl(file_url, work / "curl.out"))
            pull_s.append(time_pull(model, work / "hf"))
        on_disk, refetched = interrupted_pull(url, model, work / "hf", size)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"file: {source.name} ({size / 1e6:.1f} MB), {args.reps} interleaved runs each")
    for label, pick in (("best", min), ("median", statistics.median)):
        curl_mbps, pull_mbps = size / pick(curl_s) / 1e6, size / pick(pull_s) / 1e6
        print(f"{label:6}  curl {curl_mbps:7.1f} MB/s  localchat pull {pull_mbps:7.1f} MB/s  "
              f"ratio {pull_mbps / curl_mbps:.2f}  (target >= 0.90)")
    print(f"killed at {on_disk / 1e6:.1f} MB on disk; re-fetched after resume: {refetched} bytes "
          f"= {100 * refetched / size:.3f}% of the file (target < 1%)")


if __name__ == "__main__":
    main()
