"""LFW-partial verification through the API's pipeline meets the accuracy floor (slow: ~40 s)."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.evaluation.lfw import embed_images, pair_cosines, read_pairs
from openfrs.evaluation.metrics import kfold_accuracy, tar_at_far

pytestmark = [pytest.mark.models, pytest.mark.data]


def test_lfw_partial_ten_fold_accuracy(face_service, settings, shared_data):
    lfw = shared_data / "lfw-partial"
    pairs = read_pairs(lfw / "pairs.tsv")
    names = sorted({p.image1 for p in pairs} | {p.image2 for p in pairs})
    vectors = embed_images(face_service, lfw / "images", names, settings)
    assert sum(v is None for v in vectors.values()) <= 2
    scores = pair_cosines(pairs, vectors)
    same = np.array([p.same for p in pairs])
    result = kfold_accuracy(scores, same, np.array([p.fold for p in pairs]))
    assert result.accuracy_mean >= 0.985
    tar, _ = tar_at_far(scores[same], scores[~same], 1e-2)
    assert tar >= 0.95
