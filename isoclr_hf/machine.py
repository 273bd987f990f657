"""The machine a measurement ran on, in one line, for benchmark records and model cards."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# CPU flags that decide how fast bf16 and fp32 matrix products run.
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_description() -> str:
    """``"<CPU model>, <n> cores, flags: <the SPEED_FLAGS it has>"`` (from /proc/cpuinfo where there is one)."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    present = " ".join(flag for flag in SPEED_FLAGS if flag in flags)
    return f"{model}, {os.cpu_count()} cores, flags: {present or 'none of ' + '/'.join(SPEED_FLAGS)}"


__all__ = ["SPEED_FLAGS", "cpu_description"]
