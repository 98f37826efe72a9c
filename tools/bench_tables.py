"""Print the markdown tables of docs/benchmarks.md from `openfrs bench --json` output.

    python tools/bench_tables.py bench/out/bench.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: Path) -> None:
    data = json.loads(path.read_text())
    ours, peer, ratio = data["openfrs"], data["peer_face_recognition"] or {}, data["ratios"]
    threads = data["threads"]

    def per_s(key: str) -> str:
        return f"{ours[key]:.0f} faces/s ({1000 / ours[key]:.2f} ms/face)"

    rows = [
        ("detection, 640×480 (2 faces)", f"{ours['detect_ms[640x480]']:.1f} ms",
         f"{peer.get('detect_ms[640x480]', 0):.1f} ms (HOG, upsample 1)",
         f"{ratio.get('peer/ours detect_ms[640x480]', 0):.1f}×"),
        ("detection, 1280×886 crowd (6 faces)", f"{ours['detect_ms[1280x886]']:.1f} ms",
         f"{peer.get('detect_ms[1280x886]', 0):.1f} ms",
         f"{ratio.get('peer/ours detect_ms[1280x886]', 0):.1f}×"),
        ("detection + 68-point landmarks, 640×480",
         f"{ours['detect_landmarks_ms[640x480]']:.1f} ms", "—", ""),
        ("detection + 68-point landmarks, 1280×886",
         f"{ours['detect_landmarks_ms[1280x886]']:.1f} ms", "—", ""),
        ("embedding, batch 1", per_s("embed_faces_per_s[batch=1]"),
         f"{1000 / peer['embed_ms_per_face']:.1f} faces/s ({peer['embed_ms_per_face']:.1f} ms/face)"
         if peer else "—", ""),
        ("embedding, batch 16", "**" + per_s("embed_faces_per_s[batch=16]") + "**", "(no batching)",
         f"{ratio.get('peer/ours embed_ms_per_face (ours batch 16)', 0):.0f}×"),
        ("compare two LFW photos, in-process", f"{ours['compare_ms']:.1f} ms",
         f"{peer.get('compare_ms', 0):.1f} ms", f"{ratio.get('peer/ours compare_ms', 0):.1f}×"),
    ]
    for key in ours:
        if key.startswith("compare_rps["):
            label = key[len("compare_rps["):-1]
            failures = ours[f"compare_failures[{label}]"]
            rows.append((f"compare over HTTP, {ours[f'concurrency[{label}]']} clients, server {label}",
                         f"{ours[key]:.1f} requests/s ({failures} failed)", "—", ""))
    print(f"Threads per session for the in-process rows: {threads}.\n")
    print("| measure | OpenFRS | face_recognition 1.3.0 (dlib 20.0.1) | peer time / OpenFRS time |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/bench.json"))
