"""`openfrs eval liveness`'s arithmetic on hand-made rows: the operating point rule, the
per-video verdict, the candidates' rates and the fused candidate's cross-validation (the
measured figures themselves come from the command, docs/liveness.md)."""

from __future__ import annotations

import numpy as np

from openfrs.evaluation.liveness import OPERATING_SOURCES, candidates, chosen_cut, operating_curve, per_video
from openfrs.evaluation.liveness_fusion import group_of, out_of_group_scores
from openfrs.evaluation.liveness_tables import silent_tables


def row(p_live: float, label: str = "real", kind: str = "real", source: str = "lfw", **extra) -> dict:
    cues = {"liveness": 0.99, "moire": 2.5, "frame": 0.0}
    return {"fr": [p_live, 1 - p_live, 0.0], "cues": cues, "antispoof": 0.7, "peer": p_live, "warnings": [],
            "label": label, "kind": kind, "source": source, "file": f"{source}-{p_live}", **extra}


def real_sets(low_share: float, n: int = 100) -> dict[str, list[dict]]:
    """Each operating source: `low_share` of its faces at P(live) 0.03, the rest at 0.9."""
    low = round(low_share * n)
    return {s: [row(0.03 if i < low else 0.9, source=s, file=f"{s}{i}") for i in range(n)]
            for s in OPERATING_SOURCES}


def test_the_cut_is_the_largest_with_mean_bpcer_within_five_percent():
    attacks = [row(0.01, "attack", "print", "nuaa"), row(0.5, "attack", "screen", "x")]
    curve = operating_curve(real_sets(0.04), attacks)
    by_cut = {p["cut"]: p for p in curve}
    assert by_cut[0.03]["bpcer_mean"] == 0.0 and by_cut[0.05]["bpcer_mean"] == 0.04
    assert by_cut[0.05]["apcer"] == {"print": 0.0, "screen": 1.0}
    assert chosen_cut(curve) == 0.9  # 0.9 > 0.9 is false: the 0.9 faces still pass at 0.9
    assert chosen_cut(operating_curve(real_sets(0.08), attacks)) == 0.03


def test_a_video_is_judged_by_its_median_frame():
    frames = [row(p, "attack", "screen", "s", media="video", file="a.mp4") for p in (0.01, 0.02, 0.9)]
    frames += [row(p, media="video", file="b.mp4") for p in (0.2, 0.8, 0.9)]
    verdicts = {v["video"]: v["passed"] for v in per_video(frames, 0.05)}
    assert verdicts == {"attack a.mp4": False, "real b.mp4": True}


def test_candidates_report_every_decision_on_the_same_faces():
    real = real_sets(0.0, 40)
    attacks = [row(0.001, "attack", "print", "nuaa", subject=f"s{i % 4}", file=f"p{i}") for i in range(40)]
    table = candidates(real, attacks, 0.05)
    shipped = table["fr_liveness (shipped)"]
    assert shipped["bpcer_mean"] == 0.0 and shipped["apcer"]["print"] == 0.0
    assert set(table) >= {"cues until 2026-12", "logistic fusion, out-of-subject"}
    peer = table["peer: hairymax CelebA-Spoof (comparison only)"]
    assert peer["apcer"]["print"] == 0.0 and peer["bpcer_mean"] <= 0.05


def test_the_fused_candidate_never_scores_a_group_with_a_model_that_saw_it():
    rng = np.random.default_rng(0)
    rows = []
    for subject in range(6):
        for i in range(20):
            attack = i % 2 == 1
            p = float(np.clip(rng.normal(0.1 if attack else 0.9, 0.05), 0.001, 0.999))
            rows.append(row(p, "attack" if attack else "real", "print" if attack else "real", "nuaa",
                            subject=f"n{subject}", file=f"{subject}-{i}"))
    scores = out_of_group_scores(rows)
    attack = np.array([r["label"] == "attack" for r in rows])
    assert scores[attack].min() > scores[~attack].max()  # separable: held-out groups still separate
    assert group_of(rows[0]) == "n0" and group_of(row(0.5, file="x.jpg")).startswith("lfw-")


def test_the_tables_render_from_a_report():
    real = real_sets(0.02, 20)
    attacks = [row(0.01, "attack", "print", "nuaa", media="image", subject="s1", file="p1"),
               row(0.01, "attack", "print", "nuaa", media="image", subject="s2", file="p2")]
    report = {"operating_point": {"shipped": 0.05, "chosen_by_this_run": 0.05, "rule": "r",
                                  "curve": operating_curve(real, attacks)},
              "real_faces": {"lfw": {"faces": 20, "bpcer": 0.0, "bpcer_with_quality": 0.05}},
              "attacks": {"by_kind": {"print (all)": {"n": 2, "apcer": 0.0}},
                          "by_kind_with_quality": {"print (all)": {"n": 2, "apcer": 0.0}}, "videos": []},
              "candidates": candidates(real, attacks, 0.05),
              "synthetic": {"original": {"faces": 3, "bpcer": 0.0}}}
    text = silent_tables(report)
    assert "| print (all) | 2 | 0.0% | 0.0% |" in text and "| lfw | 20 | 0.0% | 5.0% |" in text
