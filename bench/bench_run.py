"""What the long one-off bench scripts share: `--json` / `--txt` arguments, a log that prints
the seconds since the start, and writing the report as JSON plus its rendered table."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import cv2


def report_arguments(doc: str) -> argparse.ArgumentParser:
    """A parser described by the script's first docstring paragraph, with --json and --txt."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--txt", type=Path, help="table output (default: the --json path with .txt)")
    return parser


class Clock:
    """Started when made; OpenCV pinned to one thread so the timings are the models'."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        cv2.setNumThreads(1)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():6.0f}s] {message}", flush=True)


def write_report(args: argparse.Namespace, report: dict, render: Callable[[dict], str]) -> str:
    """The report to --json, its table to --txt (or beside the JSON); returns the table."""
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    text = render(report)
    (args.txt or args.json.with_suffix(".txt")).write_text(text)
    return text
