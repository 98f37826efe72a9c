"""`openfrs eval verification | fairness | calibrate`: the recognition figures of docs/accuracy.md.

* verification: TAR at FAR 1e-3 / 1e-4 / 1e-5 on ALL pairs of lfw-partial and asian-faces, for
  every candidate, fusion and the default.
* fairness: false-match rate per group at each candidate's own LFW FAR-1e-3 threshold (the same
  yardstick for every model) and, for the pack's recognisers, at the published thresholds.
* calibrate: the similarity anchors set by the worst group, TAR there, and the 1:N threshold
  table by gallery size; prints the literal for vision/calibration_tables.py.
"""

from __future__ import annotations

import numpy as np

from openfrs.evaluation.metrics import threshold_at_far
from openfrs.evaluation.recognition import match_rate, tar_table
from openfrs.evaluation.study import REFEREE_MARGIN, REFEREES, Study
from openfrs.evaluation.tails import fit_tail
from openfrs.evaluation.tails import threshold as group_threshold
from openfrs.vision.calibration import FAR_TARGETS, Calibration
from openfrs.vision.calibration_tables import CALIBRATIONS

# Groups whose impostor labels hold at each FAR: below 1e-3 UTKFace's top "impostor" pairs are
# mostly one person photographed twice (module docstring of evaluation/study.py), so only the
# identity-labelled sets set those anchors (through their tail model where too small).
LABELLED = ("lfw", "asian-faces")
GALLERIES = (10_000, 100_000, 1_000_000)
FPIRS = (0.01, 0.001)


def verification(study: Study) -> dict:
    table = {}
    for name in study.names():
        table[name] = {collection: tar_table(*study.pairs(collection, name))
                       for collection in ("lfw", "asian-faces")}
    return {"far_levels": ["1e-03", "1e-04", "1e-05"], "candidates": table,
            "excluded_same_person_pairs": study.excluded_counts(),
            "note": "all pairs; a FAR is 'resolved' when the set has at least 10/FAR impostor pairs"}


def fairness(study: Study) -> dict:
    own = {}
    for name in study.names():
        threshold = threshold_at_far(study.pairs("lfw", name)[1], 1e-3)
        asian_genuine = study.pairs("asian-faces", name)[0]
        own[name] = {"lfw_far_1e-3_threshold": round(threshold, 4),
                     "fmr": _rates(study.groups(name), threshold),
                     "fmr_without_same_person_filter": _rates(study.groups(name, dedupe=False), threshold),
                     "tar_asian_faces": round(float(np.mean(asian_genuine >= threshold)), 4)}
    published = {}
    for name, version in study.versions.items():
        calibration = CALIBRATIONS.get(version)
        if calibration is None:
            continue
        groups = study.groups(name)
        published[name] = {f"similarity>={sim}": {"far_target": far,
                                                  "fmr": _rates(groups, calibration.cosine_for(sim))}
                           for far, sim in FAR_TARGETS.items()}
    return {"group_sizes": {g: int(v.size) for g, v in study.groups(study.candidates[0]).items()},
            "excluded_same_person_pairs": study.excluded_counts(),
            "same_person_rule": f"both {REFEREES} score the pair above the highest score either gives "
                                f"an identity-labelled impostor pair, + {REFEREE_MARGIN}",
            "at_own_lfw_far_1e-3_threshold": own, "at_published_thresholds": published}


def _rates(groups: dict[str, np.ndarray], cosine: float) -> dict[str, float]:
    return {group: float(f"{match_rate(scores, cosine):.2e}") for group, scores in groups.items()}


def calibrate(study: Study, name: str) -> dict:
    """Anchors for one pack recogniser: each FAR target's cosine is the highest any group needs."""
    groups = study.groups(name)
    _, lfw_impostor = study.pairs("lfw", name)
    anchors, rows = [], []
    targets = sorted(FAR_TARGETS.items(), reverse=True)
    for position, (far, similarity) in enumerate(targets):
        needed = {}
        for group, scores in groups.items():
            if far < 1e-3 and group not in LABELLED:
                continue
            if scores.size < 1_000:
                continue
            needed[group] = group_threshold(scores, far)
        worst = max(needed, key=lambda g: needed[g][0])
        # the API matches at similarity >= the anchor; the threshold is the highest score that
        # may not match, so the anchor sits just above it
        # strictly increasing, and below 1 with room for the anchors still to come (a tail that
        # reaches 1.0 means no cosine keeps that FAR: the anchor sits at the top)
        ceiling = 1.0 - 1e-4 * (len(targets) - position)
        cosine = min(max(needed[worst][0] + 1e-4, anchors[-1] + 1e-4 if anchors else -1.0), ceiling)
        anchors.append(cosine)
        rows.append({"far": far, "similarity": similarity, "cosine": round(cosine, 4),
                     "set_by": f"{worst} ({needed[worst][1]})",
                     "per_group": {g: round(v[0], 4) for g, v in needed.items()},
                     **_tars(study, name, cosine)})
    median = float(np.median(lfw_impostor))
    calibration = Calibration(cosines=(-1.0, min(median, anchors[0] - 0.05), *anchors, 1.0),
                              similarities=(0.0, 0.5, *sorted(FAR_TARGETS.values()), 1.0))
    return {"recogniser": study.versions[name], "anchors": rows,
            "one_to_n": one_to_n(study, name, calibration),
            "literal": _literal(study.versions[name], calibration)}


def _tars(study: Study, name: str, cosine: float) -> dict:
    return {f"tar_{c}": round(float(np.mean(study.pairs(c, name)[0] >= cosine)), 4) for c in LABELLED}


def one_to_n(study: Study, name: str, calibration: Calibration) -> list[dict]:
    """Similarity threshold per gallery size and false-positive identification rate: a probe of
    someone not enrolled matches any of N faces with probability 1 - (1 - FAR)^N, so each
    comparison needs FAR = 1 - (1 - FPIR)^(1/N); the labelled groups' tail models give it."""
    groups = study.groups(name)
    tails = {g: fit_tail(groups[g]) for g in LABELLED}
    table = []
    for gallery in GALLERIES:
        for fpir in FPIRS:
            far = 1 - (1 - fpir) ** (1 / gallery)
            cosine = max(tail.threshold(far) for tail in tails.values())
            table.append({"gallery": gallery, "fpir": fpir, "far_per_comparison": float(f"{far:.2e}"),
                          "cosine": round(cosine, 4),
                          "similarity": round(float(calibration.similarity(cosine)), 3),
                          **_tars(study, name, cosine)})
    return table


def _literal(version: str, calibration: Calibration) -> str:
    cosines = ", ".join(f"{c:.4f}" for c in calibration.cosines)
    sims = ", ".join(f"{s:.2f}" for s in calibration.similarities)
    return (f'"{version}": Calibration(\n    cosines=({cosines}),\n'
            f"    similarities=({sims}),\n),")
