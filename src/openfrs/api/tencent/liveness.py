"""Tencent DetectLiveFaceAccurate and DetectLiveFace on our silent liveness.

The same service and decision as FRS live-detect-face (service/silent_liveness.py, docs/liveness.md):
the largest face, fr_liveness at its operating point, and no pass for a face whose quality
warnings hide what the model looks for. Tencent clients decide on `Score` against a fixed
threshold (40 recommended for DetectLiveFaceAccurate; live above about 87 for DetectLiveFace), so
our decision is carried onto that scale: Score >= the client's threshold exactly when FRS would
answer alive.
"""

from __future__ import annotations

from fastapi import Request

from openfrs.api.tencent.actions import Action
from openfrs.api.tencent.fields import Params, decoded_image, face_model_version, image_source
from openfrs.service import silent_liveness

ACCURATE_THRESHOLD = 40.0  # Tencent's recommended DetectLiveFaceAccurate threshold
LEGACY_THRESHOLD = 87.0  # DetectLiveFace: live above about 87 (tencent-iai.md §6)
BELOW = 0.01  # how far under the threshold a refused face is held at most


def tencent_live_score(confidence: float, alive: bool, threshold: float) -> float:
    """Our confidence (0-1, 0.5 at the operating point) on Tencent's 0-100 scale, piecewise linear
    so the operating point lands exactly on `threshold`; a face refused for its quality (alive
    False whatever the model said) is held just under it, so a client's Score >= threshold test
    gives the same answer as FRS's `alive`."""
    c = min(max(confidence, 0.0), 1.0)
    score = threshold * c / 0.5 if c < 0.5 else threshold + (100.0 - threshold) * (c - 0.5) / 0.5
    if not alive:
        score = min(score, threshold - BELOW)
    return round(score, 2)


async def _judge(request: Request, params: Params) -> tuple[silent_liveness.SilentResult, str]:
    version = face_model_version(params)
    image = await decoded_image(request, image_source(params))
    service = request.app.state.face_service
    return await service.pool.run(silent_liveness.check_image, service, image), version


async def detect_live_face_accurate(request: Request, params: Params) -> dict[str, object]:
    result, version = await _judge(request, params)
    return {"Score": tencent_live_score(result.confidence, result.alive, ACCURATE_THRESHOLD),
            "FaceModelVersion": version}


async def detect_live_face(request: Request, params: Params) -> dict[str, object]:
    """For clients older than SDK 3.1.191 (which no longer has it): IsLiveness is our decision."""
    result, version = await _judge(request, params)
    return {"Score": tencent_live_score(result.confidence, result.alive, LEGACY_THRESHOLD),
            "IsLiveness": result.alive, "FaceModelVersion": version}


ACTIONS: dict[str, Action] = {
    "DetectLiveFaceAccurate": Action(detect_live_face_accurate, "live_detect"),
    "DetectLiveFace": Action(detect_live_face, "live_detect"),
}
