"""The embedded default, this checkout against an earlier one, in one run: did it get slower?

Why a script and not an `openfrs bench` verb: it needs a second checkout (a git worktree of the
commit before the change under test), which only a one-off comparison has. Issue 16 rewrote the
stores under the embedded path (shared SQL for accounts, one filter walker with two dialects,
rows decoded by shared code, the index registry's provider hook); this measures, alternating the
checkouts round by round:

1. the stores alone, in a fresh process per checkout: the per-request accounts work (credential
   lookup, sub-service check, usage count, audit append) and the metadata store (single-face
   commit, 1,000-face batches, get, records by key, a filter's keys), median CPU microseconds of
   the calling thread (CPU time, not wall time: this machine's 2 cores are shared, and waiting
   for the disk or for a core is not the code's cost);
2. the whole server with auth on, every request signed: add-face, search and compare by 4
   clients; images or requests per second (wall time, noisy here) and the server process's CPU
   milliseconds per request (user + system, all its threads: what a busy machine cannot skew).

    git worktree add /tmp/before 5130047
    .venv/bin/python bench/embedded_regression.py --old /tmp/before --json bench/out/embedded_regression.json
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from bench_run import Clock, report_arguments, write_report  # noqa: E402
from openfrs.benchmark.http_load import free_port, start_server  # noqa: E402
from openfrs.config import Settings  # noqa: E402
from openfrs.signing import sign  # noqa: E402

DATA = REPO.parent / "shared" / "data"
PAIR = ("lfw-partial/images/Abdullah/Abdullah_0002.jpg", "lfw-partial/images/Abdullah/Abdullah_0003.jpg")
CLIENTS = 4

# Run in a fresh interpreter with the checkout's src first on sys.path; prints one JSON object.
STORE_WORKLOAD = r'''
import json, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np
from openfrs.service.tenancy import Tenancy
from openfrs.service.filters import parse_filter
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.sqlite import SQLiteMetadataStore

def timed(fn, n):
    out = []
    for i in range(n):
        t = time.thread_time(); fn(i); out.append(time.thread_time() - t)
    return statistics.median(out) * 1e6

rng = np.random.default_rng(0)
def faces(start, n):
    v = rng.standard_normal((n, 512)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return [FaceRecord(face_id=f"{start + i:08x}", external_image_id=f"img{start + i}",
                       bounding_box=(1, 2, 30, 40), embedding=v[i], fields={"group": (start + i) % 20},
                       model_version="bench") for i in range(n)]

out = {}
with tempfile.TemporaryDirectory() as tmp:
    tenancy = Tenancy.open(Path(tmp))
    project = tenancy.create_project("bench")
    issued = tenancy.create_credential(project.project_id)
    out["credential_lookup_us"] = timed(lambda i: tenancy.secret_key(issued.ak), 2000)
    out["admit_us"] = timed(lambda i: tenancy.admit(project.project_id, "search"), 2000)
    out["count_call_us"] = timed(lambda i: tenancy.count_call(project.project_id, "search"), 500)
    out["audit_append_us"] = timed(lambda i: tenancy.audit(project.project_id, "bench", "createFaceSet",
                                                           f"faceset/s{i}", {"n": i}), 500)
    tenancy.close()
    store = SQLiteMetadataStore(Path(tmp) / "openfrs.db")
    record = FaceSetRecord(key=0, project_id="bench", name="s", face_set_id="s0000000", capacity=10**6,
                           external_fields={"group": "integer"}, model_version="bench", created_at="")
    key = store.create_face_set(record).key
    singles = faces(0, 300)
    out["single_face_commit_us"] = timed(lambda i: store.add_faces(key, [singles[i]], capacity=10**6), 300)
    batches = [faces(1000 + 1000 * b, 1000) for b in range(20)]
    out["batch_1000_commit_us"] = timed(lambda i: store.add_faces(key, batches[i], capacity=10**6), 20)
    keys = store.face_keys(key)
    ids = [f"{i:08x}" for i in range(300)]
    out["get_face_us"] = timed(lambda i: store.get_face(key, ids[i % 300]), 1000)
    by_ten = [keys[i * 10:(i + 1) * 10].tolist() for i in range(1000)]
    out["records_by_10_keys_us"] = timed(lambda i: store.faces_by_keys(key, by_ten[i]), 1000)
    expr = parse_filter("group:3", {"group": "integer"})
    out["filter_keys_5pct_of_20k_us"] = timed(lambda i: store.keys_matching(key, expr), 50)
    store.close()
print(json.dumps(out))
'''


def _store_run(src: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", STORE_WORKLOAD], env=env, capture_output=True,
                          text=True, check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _credential(src: Path, data_dir: Path) -> dict:
    """A project and AK/SK made by the checkout's own `openfrs admin` (its own store format)."""
    env = {**os.environ, "PYTHONPATH": str(src / "src")}
    cli = [sys.executable, "-m", "openfrs.cli", "admin", "--data-dir", str(data_dir)]
    subprocess.run([*cli, "--init", "create-project", "bench"], env=env, check=True, capture_output=True)
    made = subprocess.run([*cli, "create-credential", "--project", "bench"], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(made.stdout)


async def _signed_posts(url: str, bodies: list[bytes], credential: dict) -> tuple[float, int]:
    """All bodies POSTed to url by CLIENTS concurrent clients, each request signed; (s, failures)."""
    parts = urlsplit(url)
    pending, failures = iter(bodies), 0
    async with httpx.AsyncClient(timeout=120) as client:
        async def worker() -> None:
            nonlocal failures
            for body in pending:
                headers = sign("POST", parts.netloc, parts.path, [], {"Content-Type": "application/json"},
                               body, credential["ak"], credential["sk"])
                response = await client.post(url, content=body, headers=headers)
                failures += response.status_code not in (200, 201)

        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        return asyncio.get_running_loop().time() - started, failures


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _bodies(count: int) -> tuple[list[bytes], list[bytes], bytes]:
    root = DATA / "lfw-partial" / "images"
    paths = [p for person in sorted(root.iterdir()) for p in sorted(person.glob("*.jpg"))][:count]
    adds = [json.dumps({"image_base64": _b64(p), "external_image_id": f"img{i:05d}", "single": True}).encode()
            for i, p in enumerate(paths)]
    searches = [json.dumps({"image_base64": _b64(p), "top_n": 10}).encode() for p in paths]
    pair = json.dumps({"image1_base64": _b64(DATA / PAIR[0]), "image2_base64": _b64(DATA / PAIR[1])}).encode()
    return adds, searches, pair


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _http_run(src: Path, models: Path, adds: list[bytes], searches: list[bytes], pair: bytes,
              compares: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        credential = _credential(src, Path(tmp))
        port = free_port()
        server = start_server(port, Path(tmp), models, {"PYTHONPATH": str(src / "src"), "OPENFRS_AUTH": "on"})
        sets = f"http://127.0.0.1:{port}/v2/{credential['project_id']}/face-sets"
        try:
            for name in ("warm", "bench"):
                body = json.dumps({"face_set_name": name}).encode()
                asyncio.run(_signed_posts(sets, [body], credential))
            asyncio.run(_signed_posts(f"{sets}/warm/faces", adds[:8], credential))
            compare_url = f"http://127.0.0.1:{port}/v2/{credential['project_id']}/face-compare"
            loads = {"add": (f"{sets}/bench/faces", adds[8:]), "search": (f"{sets}/bench/search", searches),
                     "compare": (compare_url, [pair] * compares)}
            out: dict[str, float] = {"failures": 0}
            for name, (url, bodies) in loads.items():
                cpu = _cpu_s(server.pid)
                seconds, failed = asyncio.run(_signed_posts(url, bodies, credential))
                out[f"{name}_server_cpu_ms"] = (_cpu_s(server.pid) - cpu) * 1000 / len(bodies)
                out[f"{name}_per_s"] = len(bodies) / seconds
                out["failures"] += failed
        finally:
            server.terminate()
            server.wait(timeout=10)
    return out


def main() -> None:
    parser = report_arguments(__doc__)
    parser.add_argument("--old", type=Path, required=True, help="the earlier checkout (a worktree)")
    parser.add_argument("--old-models", type=Path, default=None, help="its model dir (default: ours)")
    parser.add_argument("--images", type=int, default=150)
    parser.add_argument("--compares", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clock = Clock()
    models = Settings().model_dir
    checkouts = {"old": (args.old, args.old_models or models), "new": (REPO, models)}
    adds, searches, pair = _bodies(args.images + 8)
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for round_ in range(args.rounds):
        for name, (src, model_dir) in checkouts.items():
            figures = _store_run(src)
            figures.update(_http_run(src, model_dir, adds, searches, pair, args.compares))
            runs[name].append(figures)
            clock.log(f"round {round_ + 1} {name}: {figures}")
    medians = {name: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
               for name, rows in runs.items()}
    # The best round of each: costs only grow with a busy machine, so the best round is the
    # estimate least skewed by other work (throughputs: the highest; costs: the lowest).
    best = {name: {key: (max if key.endswith("_per_s") else min)(r[key] for r in rows) for key in rows[0]}
            for name, rows in runs.items()}
    keys = [key for key in medians["new"] if key != "failures" and medians["old"][key]]
    report = {"old": str(args.old), "rounds": args.rounds, "images": args.images, "clients": CLIENTS,
              "runs": runs, "medians": medians, "best": best,
              "new_over_old": {key: medians["new"][key] / medians["old"][key] for key in keys},
              "new_over_old_best": {key: best["new"][key] / best["old"][key] for key in keys}}

    def render(r: dict) -> str:
        rows = [f"{'':28s} {'old':>9s} {'new':>9s} {'new/old':>8s} {'best old':>9s} {'best new':>9s} "
                f"{'new/old':>8s}"]
        for key, ratio in r["new_over_old"].items():
            rows.append(f"{key:28s} {r['medians']['old'][key]:9.1f} {r['medians']['new'][key]:9.1f} "
                        f"{ratio:8.2f} {r['best']['old'][key]:9.1f} {r['best']['new'][key]:9.1f} "
                        f"{r['new_over_old_best'][key]:8.2f}")
        return "\n".join(rows)

    print(write_report(args, report, render))


if __name__ == "__main__":
    main()
