"""The calibrated similarity is monotone, bounded and hits the published FAR anchors."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.vision.calibration import FAR_TARGETS, Calibration
from openfrs.vision.calibration_tables import CALIBRATIONS, calibration_for


def test_default_calibration_is_monotone_and_bounded():
    calibration = calibration_for("dlib_face_recognition_resnet_model_v1")
    cosines = np.linspace(-1, 1, 2001)
    similarities = calibration.similarity(cosines)
    assert similarities[0] == 0.0 and similarities[-1] == 1.0
    assert np.all(np.diff(similarities) >= 0)


@pytest.mark.parametrize("version", sorted(CALIBRATIONS))
def test_far_targets_are_anchors(version):
    calibration = CALIBRATIONS[version]
    for similarity in FAR_TARGETS.values():
        assert similarity in calibration.similarities
        cosine = calibration.cosine_for(similarity)
        assert calibration.similarity(cosine) == pytest.approx(similarity)


def test_calibration_refuses_non_increasing_anchors():
    with pytest.raises(ValueError):
        Calibration(cosines=(0.0, 0.5, 0.5), similarities=(0.0, 0.5, 1.0))


def test_unknown_embedder_has_no_calibration():
    with pytest.raises(KeyError):
        calibration_for("some-other-model")
