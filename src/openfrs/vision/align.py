"""Face chips exactly as dlib cuts them (get_face_chip_details + extract_image_chip).

The dlib ResNet was trained on chips made this way, so staying faithful matters more
than elegance.  The steps, all from dlib/image_transforms/interpolation.h:

1. Fit a similarity transform from a mean-face template (scaled into a ``size`` chip with
   ``padding``) to the landmarks: 5-point shapes use all 5 points, 68-point shapes use
   points 27..67 minus the lower lip (55..59, 65..67).
2. Turn it into a rotated rectangle: angle and scale from the transform, centred on the
   image of the chip centre, ``size*scale`` wide (dlib's ``centered_drect`` spans
   ``size*scale - 1`` between the first and the last pixel centre).
3. If the rectangle is much larger than the chip, build dlib's ``pyramid_down<2>``
   levels (5-tap [1 4 6 4 1] binomial, integer maths) over the cropped region until one
   more halving would make it smaller than the chip, so the bilinear step never
   aliases.  Rectangles follow dlib's ``point_down`` (``p/2 - (1.25, 0.75)``).
4. Bilinear sampling (cv2.warpAffine here) of the chip grid, pixels whose 2x2
   neighbourhood leaves the source are black, values truncated to uint8 as dlib's
   ``assign_pixel`` does.

dlib's exact-copy shortcut (angle exactly 0 and rectangle exactly chip-sized) is not
reproduced; bilinear sampling on the integer grid gives the same pixels there, except
that a last image row/column touched by the chip reads black.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# dlib's mean face, landmarks 17..67 of the 68-point markup, in unit coordinates.
_MEAN_X = (
    0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
    0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
    0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
    0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
    0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
    0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
    0.553364, 0.490127, 0.42689,
)
_MEAN_Y = (
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
    0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
    0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
    0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
    0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
    0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
    0.784792, 0.824182, 0.831803, 0.824182,
)
MEAN_FACE_68 = np.column_stack([_MEAN_X, _MEAN_Y])  # row i is landmark 17 + i

# dlib's template for its 5-point model (corners of both eyes, bottom of the nose).
MEAN_FACE_5 = np.array([
    (0.8595674595992, 0.2134981538014),
    (0.6460604764104, 0.2289674387677),
    (0.1205750620789, 0.2137274526848),
    (0.3340850613712, 0.2290642403242),
    (0.4901123135679, 0.6277975316475),
])

# 68-point landmarks used for the fit: 27..67 without the lower lip.
_FIT_68 = np.array([i for i in range(27, 68) if not (55 <= i <= 59 or 65 <= i <= 67)])


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares similarity mapping src->dst 2-D points: returns (2x2 M, t).

    dlib's ``find_similarity_transform`` is Umeyama's method (SVD of the covariance,
    reflections excluded).  In 2-D that has a closed form, M = [[a, -b], [b, a]] with
    a = sum(s.d) / sum(s.s), b = sum(s x d) / sum(s.s) over centred points, which gives
    the same transform (to ~1e-15) without an SVD.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mean_src, mean_dst = src.mean(0), dst.mean(0)
    s, d = src - mean_src, dst - mean_dst
    var = (s * s).sum()
    if var == 0:
        m = np.eye(2)
    else:
        a = (s * d).sum() / var
        b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / var
        m = np.array([[a, -b], [b, a]])
    return m, mean_dst - m @ mean_src


def chip_rect(shape: np.ndarray, size: int, padding: float) -> tuple[np.ndarray, float]:
    """dlib chip_details for a face: (rect [l, t, r, b] as floats, rotation angle)."""
    pts = np.asarray(shape, np.float64)
    if pts.shape == (5, 2):
        template, target = MEAN_FACE_5, pts
    elif pts.shape == (68, 2):
        template, target = MEAN_FACE_68[_FIT_68 - 17], pts[_FIT_68]
    else:
        raise ValueError(f"face_chip needs a (5, 2) or (68, 2) shape, got {pts.shape}")
    chip_pts = (padding + template) / (2 * padding + 1) * size
    m, t = similarity_transform(chip_pts, target)
    direction = m[:, 0]
    angle = math.atan2(direction[1], direction[0])
    scale = math.hypot(direction[0], direction[1])
    centre = m @ np.array([size / 2.0, size / 2.0]) + t
    half = (size * scale - 1) / 2.0
    return np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half]), angle


def _area(rect: np.ndarray) -> float:
    w, h = rect[2] - rect[0] + 1, rect[3] - rect[1] + 1
    return 0.0 if w <= 0 or h <= 0 else w * h


def _rect_down(rect: np.ndarray) -> np.ndarray:
    """dlib pyramid_down<2>::rect_down: both corners through p/2 - (1.25, 0.75)."""
    return rect / 2.0 - np.array([1.25, 0.75, 1.25, 0.75])


def _rotated_corners(rect: np.ndarray, angle: float) -> np.ndarray:
    """tl, tr, bl, br of ``rect`` rotated by ``angle`` about its centre."""
    left, top, right, bottom = rect
    centre = np.array([(left + right) / 2.0, (top + bottom) / 2.0])
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]])
    return (corners - centre) @ rot.T + centre


_BINOMIAL = np.array([1, 4, 6, 4, 1], np.float32)


def pyramid_down2(image: np.ndarray) -> np.ndarray:
    """dlib pyramid_down<2> on an HxWxC uint8 image: 5x5 binomial, integer /256, stride 2.

    Output (H-3)//2 x (W-3)//2; pixel (i, j) is the filter centred on (2i+2, 2j+2).  The
    float32 sums are exact integers (< 2**24), so truncating them reproduces dlib's
    integer arithmetic bit for bit.
    """
    h, w = image.shape[:2]
    if h <= 8 or w <= 8:
        return image[:0, :0]
    out_h, out_w = (h - 3) // 2, (w - 3) // 2
    sums = cv2.sepFilter2D(image.astype(np.float32), cv2.CV_32F, _BINOMIAL, _BINOMIAL,
                           borderType=cv2.BORDER_CONSTANT)
    picked = sums[2:2 + 2 * out_h:2, 2:2 + 2 * out_w:2]
    return (picked * (1.0 / 256)).astype(np.uint8)


def _pyramid_source(image: np.ndarray, rect: np.ndarray, angle: float, chip_area: int):
    """The (possibly downsampled) crop to sample from and the rect in its coordinates."""
    h, w = image.shape[:2]
    grow, probe = 2.0, _rect_down(rect)  # dlib's crop margin grows with the pyramid depth
    while _area(probe) > chip_area:
        probe = _rect_down(probe)
        grow = grow * 2 + 2
    corners = _rotated_corners(rect, angle)
    box = np.concatenate([corners.min(0) - grow, corners.max(0) + grow])
    box = np.array([max(box[0], 0), max(box[1], 0), min(box[2], w - 1), min(box[3], h - 1)])
    bl, bt, br, bb = (int(math.floor(v + 0.5)) for v in box)
    if br < bl or bb < bt:
        return None, rect
    source = image[bt:bb + 1, bl:br + 1]
    local = rect - np.array([bl, bt, bl, bt], np.float64)
    while _area(_rect_down(local)) > chip_area:
        source = pyramid_down2(source)
        local = _rect_down(local)
    return source, local


def _sample_bilinear(source: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """dlib interpolate_bilinear over the chip grid: black outside, truncate to uint8."""
    chip = cv2.warpAffine(source.astype(np.float32), affine, (size, size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    h, w = source.shape[:2]
    grid = np.array([[0, 0, 1], [size - 1, 0, 1], [0, size - 1, 1], [size - 1, size - 1, 1]])
    ends = grid @ affine.T
    if not (ends.min() >= 0 and ends[:, 0].max() < w - 1 and ends[:, 1].max() < h - 1):
        ys, xs = np.mgrid[0:size, 0:size]
        px = affine[0, 0] * xs + affine[0, 1] * ys + affine[0, 2]
        py = affine[1, 0] * xs + affine[1, 1] * ys + affine[1, 2]
        fx, fy = np.floor(px), np.floor(py)
        ok = (fx >= 0) & (fy >= 0) & (fx + 1 < w) & (fy + 1 < h)
        chip[~ok] = 0
    # dlib truncates its double result; the epsilon keeps float32 results that should be
    # exact integers (flat regions) from flooring one level down
    return np.clip(np.floor(chip + 1e-3), 0, 255).astype(np.uint8)


def face_chip(image_rgb: np.ndarray, shape: np.ndarray, size: int = 150,
              padding: float = 0.25) -> np.ndarray:
    """Aligned ``size`` x ``size`` x 3 uint8 chip from a 5- or 68-point dlib shape."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError("face_chip expects an HxWx3 RGB image")
    rect, angle = chip_rect(shape, size, padding)
    source, local = _pyramid_source(image_rgb, rect, angle, size * size)
    if source is None or source.size == 0:
        return np.zeros((size, size, 3), np.uint8)
    corners = _rotated_corners(local, angle)
    step = size - 1 if size > 1 else 1
    affine = np.column_stack([(corners[1] - corners[0]) / step,
                              (corners[2] - corners[0]) / step, corners[0]])
    return _sample_bilinear(source, affine, size)
