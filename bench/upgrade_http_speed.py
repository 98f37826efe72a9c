"""Enrol and compare throughput over HTTP, this checkout against an earlier one, in one run.

Why a script and not an `openfrs bench` verb: it needs a second checkout (a git worktree of the
commit before the recogniser change) with its own model pack, which only a one-off comparison
has. Each round starts `openfrs serve` (auth off, default settings) from each checkout in turn
and measures (a) add-face of the same N LFW images with `single: true` by 4 clients and (b)
face-compare of an LFW pair by 4 clients; medians over the rounds and the new/old ratios.

    git worktree add /tmp/old 506ece4
    PYTHONPATH=/tmp/old/src .venv/bin/python -m openfrs.cli --model-dir /tmp/oldmodels models install
    .venv/bin/python bench/upgrade_http_speed.py --old /tmp/old --old-models /tmp/oldmodels \
        --json bench/out/upgrade_http_speed.json
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from bench_run import Clock, report_arguments, write_report  # noqa: E402
from openfrs.benchmark.http_load import _load, free_port, start_server  # noqa: E402
from openfrs.benchmark.import_speed import _post_all  # noqa: E402
from openfrs.config import Settings  # noqa: E402

DATA = REPO.parent / "shared" / "data"
PAIR = ("lfw-partial/images/Abdullah/Abdullah_0002.jpg", "lfw-partial/images/Abdullah/Abdullah_0003.jpg")
CLIENTS = 4


def _add_bodies(count: int) -> list[bytes]:
    root = DATA / "lfw-partial" / "images"
    paths = [p for person in sorted(root.iterdir()) for p in sorted(person.glob("*.jpg"))][:count]
    return [json.dumps({"image_base64": base64.b64encode(p.read_bytes()).decode(),
                        "external_image_id": f"img{i:05d}", "single": True}).encode()
            for i, p in enumerate(paths)]


def _measure(src: Path, models: Path, bodies: list[bytes], compares: int) -> dict:
    """One server from checkout `src`: add-face images/s, then face-compare requests/s."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(port, Path(tmp), models, {"PYTHONPATH": str(src / "src")})
        base = f"http://127.0.0.1:{port}/v2/bench"
        try:
            for name in ("warm", "bench"):
                httpx.post(f"{base}/face-sets", json={"face_set_name": name}, timeout=30).raise_for_status()
            asyncio.run(_post_all(f"{base}/face-sets/warm/faces", bodies[:8], CLIENTS))
            seconds, add_failures = asyncio.run(
                _post_all(f"{base}/face-sets/bench/faces", bodies[8:], CLIENTS))
            pair = {"image1_base64": base64.b64encode((DATA / PAIR[0]).read_bytes()).decode(),
                    "image2_base64": base64.b64encode((DATA / PAIR[1]).read_bytes()).decode()}
            asyncio.run(_load(f"{base}/face-compare", pair, 4, 2))
            compare_seconds, compare_failures = asyncio.run(
                _load(f"{base}/face-compare", pair, compares, CLIENTS))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return {"add_images_per_s": (len(bodies) - 8) / seconds, "add_failures": add_failures,
            "compare_rps": compares / compare_seconds, "compare_failures": compare_failures}


def main() -> None:
    parser = report_arguments(__doc__)
    parser.add_argument("--old", type=Path, required=True, help="the earlier checkout (a worktree)")
    parser.add_argument("--old-models", type=Path, required=True, help="its model dir")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--compares", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clock = Clock()
    bodies = _add_bodies(args.images + 8)
    checkouts = {"old": (args.old, args.old_models), "new": (REPO, Settings().model_dir)}
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for round_ in range(args.rounds):
        for name, (src, models) in checkouts.items():
            runs[name].append(_measure(src, models, bodies, args.compares))
            clock.log(f"round {round_ + 1} {name}: {runs[name][-1]}")
    medians = {name: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
               for name, rows in runs.items()}
    report = {"images": args.images, "compares": args.compares, "clients": CLIENTS, "runs": runs,
              "medians": medians,
              "new_over_old": {key: medians["new"][key] / medians["old"][key]
                               for key in ("add_images_per_s", "compare_rps")}}

    def render(r: dict) -> str:
        rows = [f"{'':8s} {'add-face images/s':>18s} {'compare req/s':>14s}"]
        for name in ("old", "new"):
            m = r["medians"][name]
            rows.append(f"{name:8s} {m['add_images_per_s']:18.1f} {m['compare_rps']:14.1f}")
        ratio = r["new_over_old"]
        rows.append(f"{'new/old':8s} {ratio['add_images_per_s']:18.2f} {ratio['compare_rps']:14.2f}")
        return "\n".join(rows)

    print(write_report(args, report, render))


if __name__ == "__main__":
    main()
