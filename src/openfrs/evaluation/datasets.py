"""The labelled face collections recognition is measured on, read from ../shared/data.

Each image carries what its set labels: an identity (LFW, asian-faces) or demographic labels
without identities (UTKFace: age, gender, race). Which face of an image is the labelled one
differs: LFW and UTKFace centre it; NUAA frames in asian-faces often show people behind the
subject, who sits closest to the webcam (the largest face).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

# UTKFace's race label in its file names.
UTK_RACES = ("white", "black", "asian", "indian", "other")
ADULT = 18  # UTKFace impostor pairs are taken between adults (ages < 18 change too fast)


@dataclass(frozen=True)
class Sample:
    path: Path
    name: str  # relative to the set's root
    identity: str | None  # None: the set labels no identities (every pair is taken as impostor)
    labels: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FaceCollection:
    name: str
    samples: list[Sample]
    choose: str  # "central" or "largest": which detected face is the labelled one
    note: str = ""


def lfw(root: Path) -> FaceCollection:
    images = root / "images"
    samples = [Sample(p, str(p.relative_to(images)), p.parent.name)
               for p in sorted(images.glob("*/*.jpg"))]
    return FaceCollection("lfw-partial", samples, "central",
                          "1,044 deep-funnelled LFW images of 432 people; mostly white, male adults")


def asian_faces(root: Path) -> FaceCollection:
    with (root / "identities.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    samples = [Sample(root / r["file"], r["file"], r["identity"], {"source": r["source"]})
               for r in rows if (root / r["file"]).exists()]
    return FaceCollection("asian-faces", samples, "largest",
                          "35 East-Asian people: 20 CASIA-FaceV5 (5 crops each), 15 NUAA webcam "
                          "(10 frames each, several near-duplicates)")


def utkface_adults(images: Path, every: int = 1) -> FaceCollection:
    """UTKFace adults with a race label; `every` thins the set (quick runs)."""
    samples = []
    for path in sorted(images.glob("*.jpg"))[::every]:
        parts = path.name.split("_")
        if len(parts) < 4 or not parts[2].isdigit() or parts[1] not in ("0", "1"):
            continue  # a few UTKFace names lack a label
        age, race = int(parts[0]), int(parts[2])
        if age < ADULT or race >= len(UTK_RACES):
            continue
        samples.append(Sample(path, path.name, None, {"age": age, "race": UTK_RACES[race],
                                                       "gender": "female" if parts[1] == "1" else "male"}))
    return FaceCollection("utkface-adults", samples, "central",
                          "UTKFace aligned crops, ages 18+, no identity labels: every pair is "
                          "counted as an impostor pair (a person photographed twice would count "
                          "as a false match)")
