"""The Markdown tables docs/liveness.md shows, rendered from `openfrs eval liveness`'s report."""

from __future__ import annotations

from openfrs.evaluation.action_clips import report_table


def _pct(value: float) -> str:
    return "n/a" if value != value else f"{100 * value:.1f}%"  # NaN: no faces


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def silent_tables(silent: dict) -> str:
    point = silent["operating_point"]
    lines = [f"Operating point: P(live) >= {point['shipped']} (this run's rule, {point['rule']}, "
             f"chooses {point['chosen_by_this_run']}).", ""]
    kinds = list(point["curve"][0]["apcer"])
    lines += _table(["P(live) cut", "mean BPCER", *(f"APCER {k}" for k in kinds)],
                    [[str(p["cut"]), _pct(p["bpcer_mean"]), *(_pct(p["apcer"][k]) for k in kinds)]
                     for p in point["curve"]])
    lines += _table(["real source", "faces", "BPCER (liveness)", "BPCER (with quality warnings)"],
                    [[name, str(r["faces"]), _pct(r["bpcer"]), _pct(r["bpcer_with_quality"])]
                     for name, r in silent["real_faces"].items()])
    attacks = silent["attacks"]
    with_quality = attacks["by_kind_with_quality"]
    header = ["attack kind / source / media", "faces", "APCER (liveness)", "APCER (with quality warnings)"]
    lines += _table(header,
                    [[name, str(r["n"]), _pct(r["apcer"]), _pct(with_quality[name]["apcer"])]
                     for name, r in attacks["by_kind"].items()])
    lines += _table(["video", "frames", "median P(live)", "passed"],
                    [[v["video"], str(v["frames"]), f"{v['median_p_live']:.3f}",
                      "yes" if v["passed"] else "no"] for v in attacks["videos"]])
    first = next(iter(silent["candidates"].values()))
    sources, attack_kinds = list(first["bpcer"]), list(first["apcer"])
    lines += _table(["candidate", *(f"BPCER {s}" for s in sources), "mean BPCER",
                     *(f"APCER {k}" for k in attack_kinds)],
                    [[name, *(_pct(c["bpcer"][s]) for s in sources), _pct(c["bpcer_mean"]),
                      *(_pct(c["apcer"][k]) for k in attack_kinds)]
                     for name, c in silent["candidates"].items()])
    synthetic = silent["synthetic"]
    lines += _table(["synthetic attack (LFW photos)", "faces", "APCER (BPCER for originals)"],
                    [[kind, str(r["faces"]), _pct(r.get("apcer", r.get("bpcer", float("nan"))))]
                     for kind, r in synthetic.items()])
    return "\n".join(lines)


def tables(report: dict) -> str:
    """Silent liveness's tables, then the real action clips' (evaluation/action_clips.py)."""
    return "\n".join([silent_tables(report["silent"]), "Action liveness on real clips:", "",
                      report_table(report["action_clips"])])
