"""RAM, swap, and a container's memory limit (cgroup v2 or v1), which wins over the host's RAM."""

from __future__ import annotations

from pathlib import Path

from localchat.hardware.profile import MemoryInfo

# cgroup v1 reports "no limit" as a huge page-aligned number (PAGE_COUNTER_MAX * page size)
_NO_LIMIT = 1 << 60


def _read_int(path: Path) -> int | None:
    text = path.read_text().strip()
    if text in ("max", ""):
        return None
    value = int(text)
    return None if value >= _NO_LIMIT else value


def cgroup_limit(root: Path = Path("/")) -> tuple[int | None, int | None]:
    """(limit_bytes, usage_bytes) of this process's memory cgroup; (None, None) if unlimited.

    Raises OSError/ValueError when the files exist but cannot be read or parsed."""
    proc = root / "proc" / "self" / "cgroup"
    if not proc.exists():
        return None, None
    v2_path, v1_path = None, None
    for line in proc.read_text().splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2_path = path
        elif "memory" in controllers.split(","):
            v1_path = path
    fs = root / "sys" / "fs" / "cgroup"
    if v2_path is not None and (fs / "cgroup.controllers").exists():
        base = fs / v2_path.lstrip("/")
        # walk up: a limit set on a parent cgroup applies too
        limits: list[int] = []
        usage = None
        node = base
        while True:
            if (node / "memory.max").exists():
                value = _read_int(node / "memory.max")
                if value is not None:
                    limits.append(value)
                if usage is None and (node / "memory.current").exists():
                    usage = _read_int(node / "memory.current")
            if node == fs or fs not in node.parents:
                break
            node = node.parent
        return (min(limits) if limits else None), usage
    if v1_path is not None:
        base = fs / "memory" / v1_path.lstrip("/")
        for candidate in (base, fs / "memory"):
            limit_file = candidate / "memory.limit_in_bytes"
            if limit_file.exists():
                usage_file = candidate / "memory.usage_in_bytes"
                usage = _read_int(usage_file) if usage_file.exists() else None
                return _read_int(limit_file), usage
    return None, None


def probe_memory(root: Path = Path("/"), notes: list[str] | None = None) -> MemoryInfo:
    import psutil

    notes = notes if notes is not None else []
    vm = psutil.virtual_memory()
    swap = psutil.swap_memory()
    total, available = int(vm.total), int(vm.available)
    limit = None
    try:
        limit, usage = cgroup_limit(root)
    except (OSError, ValueError) as exc:
        notes.append(f"memory: container limit unknown (cannot read cgroup files: {exc})")
        usage = None
    if limit is not None and limit < total:
        total = limit
        available = min(available, max(limit - (usage or 0), 0))
    return MemoryInfo(total_bytes=total, available_bytes=available,
                      swap_total_bytes=int(swap.total), swap_free_bytes=int(swap.free),
                      cgroup_limit_bytes=limit)
