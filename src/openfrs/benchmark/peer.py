"""The `face_recognition` library (dlib) on the same inputs, as the reference peer."""

from __future__ import annotations

import numpy as np

from openfrs.benchmark.timing import median_ms


def available() -> bool:
    try:
        import face_recognition  # noqa: F401
    except Exception:
        return False
    return True


def measure(images: dict[str, np.ndarray], compare_pair: tuple[np.ndarray, np.ndarray],
            repeat: int) -> dict[str, float]:
    """HOG detection per image, one 5-point encoding per face, and a whole compare."""
    import face_recognition as fr

    out: dict[str, float] = {}
    for name, image in images.items():
        out[f"detect_ms[{name}]"] = median_ms(lambda im=image: fr.face_locations(im), repeat)
    a, b = compare_pair
    box_a = fr.face_locations(a)[:1]
    out["embed_ms_per_face"] = median_ms(
        lambda: fr.face_encodings(a, known_face_locations=box_a, num_jitters=1), repeat
    )

    def compare() -> float:
        ea = fr.face_encodings(a)[0]
        eb = fr.face_encodings(b)[0]
        return float(np.linalg.norm(ea - eb))

    out["compare_ms"] = median_ms(compare, repeat)
    return out


