"""What every benchmark script records about its run: the commit measured, and the JSON file."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def git_head() -> str:
    """The commit measured, with "+dirty" when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def write_report(report: dict[str, Any], out: Path, started: float) -> None:
    """Write `report` with the load at the end and the run's duration, replacing `out` whole.

    Written after every phase, so the results of an interrupted long run survive.
    """
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    report["total_s"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(out)
