"""Same-person action clips (turn, nod, open mouth, blink) synthesized from ONE real face photo.

Why: no real action videos exist here, and a clip stitched from stills of different people (or a
still and its mirror image) cannot show a continuous nod, blink or mouth opening of one person.
So the photo's own pixels are moved along its 468-point face mesh: the mesh points, rings of
points just outside the face that follow it part of the way, and fixed anchors (the image border
and a ring around the face, so the background stays put) are triangulated once; each triangle's
texture is mapped by the affine transform between its rest and its moved corners, and triangles
are drawn back to front by depth so a turned head hides its far side. Geometry only: no
relighting, no motion blur; the side of the face a turn reveals is the frontal texture stretched
(smoothed there), a closed eye is the lid skin above it stretched down over the eye, an open
mouth a dark painted gap with a band of teeth.

numpy + cv2 only (and evaluation/clips.on_canvas). Frames are RGB uint8, the size of the source canvas
(640x480 via on_canvas).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

from openfrs.evaluation.clips import on_canvas

# The source photos: real, frontal (|yaw|, |pitch|, |roll| < 7 degrees on the mesh), eyes open,
# mouth closed (mouth ratio < 0.03), plain background; paths under ../shared/data.
SOURCE_PHOTOS = ("lfw-partial/images/Ana_Isabel_Sanchez/Ana_Isabel_Sanchez_0001.jpg",
                 "lfw-partial/images/Ambrose_Lee/Ambrose_Lee_0001.jpg")

# MediaPipe face mesh indices (subject's right eye is on the image's left).
RIGHT_UPPER_LID = (246, 161, 160, 159, 158, 157, 173)
RIGHT_LOWER_LID = (7, 163, 144, 145, 153, 154, 155)
RIGHT_LID_CREASE = (247, 30, 29, 27, 28, 56, 190)  # skin just above the upper lid
RIGHT_LID_FOLD = (113, 225, 224, 223, 222, 221, 189)  # higher up, below the brow
LEFT_UPPER_LID = (466, 388, 387, 386, 385, 384, 398)
LEFT_LOWER_LID = (249, 390, 373, 374, 380, 381, 382)
LEFT_LID_CREASE = (467, 260, 259, 257, 258, 286, 414)
LEFT_LID_FOLD = (342, 445, 444, 443, 442, 441, 413)
UPPER_INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 76, 184, 74, 73, 72, 11, 302, 303, 304,
             408, 306, 62, 183, 42, 41, 38, 12, 268, 271, 272, 407, 292) + UPPER_INNER_LIP
LOWER_LIP = (146, 91, 181, 84, 17, 314, 405, 321, 375, 77, 90, 180, 85, 16, 315, 404, 320, 307, 96,
             89, 179, 86, 15, 316, 403, 319, 325) + LOWER_INNER_LIP[1:-1]
MOUTH_CORNERS = (61, 291)
INNER_CORNERS = (78, 308)
LOWER_LIP_BOTTOM = 17
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)

RING_SCALE = 1.55  # anchor ring half-axes / face mesh half-extents: the band between deforms
RING_POINTS = 32
HALOS = ((1.12, 0.6), (1.3, 0.25))  # (scale about the face centre, share of the oval's motion)
PIVOT_DEPTH = 0.3  # head turns about a point this many face widths behind the mesh centroid
EYE_MEET = 0.1  # closed lids meet this far up from the lower lid (the upper lid does most)
MOUTH_OPEN = 0.5  # lower lip drop at amount 1, in inner mouth widths (mouth ratio ~0.5)
STRETCH_SMOOTH = 6.0  # px: smoothing of the warp where a turn stretches the texture
MOUTH_DARK = (48, 18, 22)
TEETH = (208, 200, 185)

# Peak pose per FRS action code: turn left (yaw < 0), turn right, nod (head down), mouth, blink.
ACTION_POSES = {1: {"yaw": -40.0}, 2: {"yaw": 40.0}, 3: {"pitch": -25.0}, 4: {"mouth": 1.0},
                5: {"eyes": 1.0}}


def load_source(pipeline, path) -> tuple[np.ndarray, np.ndarray]:
    """(640x480 RGB canvas of the photo, its face mesh)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(path)
    canvas = on_canvas(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return canvas, source_mesh(pipeline, canvas)


def source_mesh(pipeline, image: np.ndarray) -> np.ndarray:
    """The largest face's (468, 3) mesh in image pixels (z in the same scale, negative toward the
    camera): what every synthesized frame is warped from."""
    faces = pipeline.detect(image)
    if not faces:
        raise ValueError("no face in the source image")
    pipeline.mesh.landmarks(image, faces[:1])
    return np.asarray(faces[0].extras["mesh468"], np.float64)


# --- geometry: where the mesh points go ------------------------------------------------------


def _with_eyes_closed(mesh: np.ndarray, amount: float) -> np.ndarray:
    """Upper lids onto the lower lids (which rise a little), the lid skin above following less, so
    the texture above the eye stretches down over it; brows stay."""
    out = mesh.copy()
    for upper, lower, crease, fold in ((RIGHT_UPPER_LID, RIGHT_LOWER_LID, RIGHT_LID_CREASE, RIGHT_LID_FOLD),
                                       (LEFT_UPPER_LID, LEFT_LOWER_LID, LEFT_LID_CREASE, LEFT_LID_FOLD)):
        up, low = mesh[list(upper), :2], mesh[list(lower), :2]
        meet = low + EYE_MEET * (up - low)
        drop = amount * (meet - up)
        out[list(upper), :2] += drop
        out[list(lower), :2] += amount * (meet - low)
        out[list(crease), :2] += 0.8 * drop
        out[list(fold), :2] += 0.4 * drop
    return out


def _with_mouth_open(mesh: np.ndarray, amount: float) -> np.ndarray:
    """The lower lip, chin and jaw move down (the mouth corners stay; the jaw's sides move less,
    as they hinge near the ears); the upper lip stays."""
    out = mesh.copy()
    xy = mesh[:, :2]
    width = np.linalg.norm(xy[INNER_CORNERS[0]] - xy[INNER_CORNERS[1]])
    centre_x = xy[list(MOUTH_CORNERS), 0].mean()
    mouth_half = abs(xy[MOUTH_CORNERS[1], 0] - xy[MOUTH_CORNERS[0], 0]) / 2
    face_half = (xy[:, 0].max() - xy[:, 0].min()) / 2
    corner_y = xy[list(MOUTH_CORNERS), 1].mean()
    below = np.clip((xy[:, 1] - corner_y) / max(xy[LOWER_LIP_BOTTOM, 1] - corner_y, 1.0), 0, 1)
    weight = below * below * (3 - 2 * below)  # smoothstep: 0 at the corners' height, 1 below the lip
    dx = xy[:, 0] - centre_x
    weight[list(UPPER_LIP)] = 0.0
    weight[list(LOWER_LIP)] = np.clip(1 - (dx[list(LOWER_LIP)] / mouth_half) ** 2, 0, 1)
    weight *= np.clip(1 - (dx / face_half) ** 2, 0, 1) ** 0.5
    out[:, 1] += amount * MOUTH_OPEN * width * weight
    return out


def _rotated(mesh: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """The head turned (yaw > 0: toward the image's right) and nodded (pitch > 0: up) about a
    pivot behind the face, projected orthographically (x, y kept, z is depth)."""
    width = mesh[:, 0].max() - mesh[:, 0].min()
    pivot = mesh.mean(axis=0) + np.array([0.0, 0.0, PIVOT_DEPTH * width])
    y, p = np.radians(yaw_deg), np.radians(pitch_deg)
    turn = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    nod = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    return (mesh - pivot) @ (turn @ nod).T + pivot


def moved_mesh(mesh: np.ndarray, yaw: float = 0.0, pitch: float = 0.0, eyes: float = 0.0,
               mouth: float = 0.0) -> np.ndarray:
    """The rest mesh with the expression applied in the face, then the head rotated."""
    out = _with_mouth_open(_with_eyes_closed(mesh, eyes), mouth)
    return _rotated(out, yaw, pitch) if yaw or pitch else out


# --- the warp ---------------------------------------------------------------------------------


def _anchors(mesh: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Fixed points: the image border and a ring around the face, so only the face and a band
    around it move."""
    height, width = shape[:2]
    xs, ys = np.linspace(0, width - 1, 9), np.linspace(0, height - 1, 7)
    border = [(x, 0) for x in xs] + [(x, height - 1) for x in xs]
    border += [(0, y) for y in ys[1:-1]] + [(width - 1, y) for y in ys[1:-1]]
    low, high = mesh[:, :2].min(axis=0), mesh[:, :2].max(axis=0)
    centre, half = (low + high) / 2, (high - low) / 2 * RING_SCALE
    angles = np.linspace(0, 2 * np.pi, RING_POINTS, endpoint=False)
    ring = centre + half * np.column_stack([np.cos(angles), np.sin(angles)])
    ring = np.clip(ring, [2, 2], [width - 3, height - 3])
    return np.vstack([np.asarray(border, np.float64), ring])


def _halos(mesh: np.ndarray, dst_mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rest, moved) points on rings just outside the face oval that follow the oval part of the
    way, so the band between face and fixed ring (hair, ears, neck) bends smoothly instead of
    shearing in long thin triangles."""
    oval = mesh[list(FACE_OVAL), :2]
    moved = dst_mesh[list(FACE_OVAL), :2] - oval
    centre = (mesh[:, :2].min(axis=0) + mesh[:, :2].max(axis=0)) / 2
    rest = [centre + scale * (oval - centre) for scale, _ in HALOS]
    return np.vstack(rest), np.vstack([r + share * moved for r, (_, share) in zip(rest, HALOS, strict=True)])


def _control_points(mesh: np.ndarray, dst_mesh: np.ndarray, shape: tuple[int, ...]):
    """(rest xy, moved xy, moved depth) of every control point: mesh, halos, anchors (the last
    two at infinite depth: they are drawn first, under the face)."""
    anchors = _anchors(mesh, shape)
    halo_rest, halo_moved = _halos(mesh, dst_mesh)
    rest = np.vstack([mesh[:, :2], halo_rest, anchors])
    moved = np.vstack([dst_mesh[:, :2], halo_moved, anchors])
    depth = np.concatenate([dst_mesh[:, 2], np.full(len(rest) - len(mesh), np.inf)])
    return rest, moved, depth


def _triangulate(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Delaunay triangles (vertex indices) of `points`."""
    subdiv = cv2.Subdiv2D((0, 0, shape[1], shape[0]))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    index = {(float(x), float(y)): i for i, (x, y) in enumerate(points.astype(np.float32))}
    triangles = []
    for corners in subdiv.getTriangleList().reshape(-1, 3, 2):
        ids = [index.get((float(x), float(y))) for x, y in corners]
        if None not in ids and len(set(ids)) == 3:  # else a corner is a virtual outer vertex
            triangles.append(ids)
    return np.asarray(triangles)


def _inside(points: np.ndarray, triangles: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether each triangle's centroid lies inside `polygon`."""
    contour = polygon.astype(np.float32).reshape(-1, 1, 2)
    return np.array([cv2.pointPolygonTest(contour, tuple(map(float, points[t].mean(axis=0))), False) >= 0
                     for t in triangles])


def triangulation(mesh: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Triangles over the control points of a rest mesh (cached: every frame of a clip uses them)."""
    return _triangulation(mesh.tobytes(), tuple(shape[:2])).copy()


@functools.lru_cache(maxsize=8)
def _triangulation(mesh_bytes: bytes, shape: tuple[int, int]) -> np.ndarray:
    """Triangles over the control points of a rest mesh: the face (inside the mesh's convex hull)
    and the band around it triangulated apart, so no triangle crosses the face's outline (one
    would cut a wedge of hair into the face when it turns). Triangulated with the mouth open, so
    no triangle spans a lip: those between the inner lips open up, and the mouth is painted there."""
    opened = _with_mouth_open(np.frombuffer(mesh_bytes).reshape(-1, 3), 1.0)
    points, _, _ = _control_points(opened, opened, shape)
    points = np.clip(points, 0, [shape[1] - 1, shape[0] - 1])
    face = _triangulate(points[:len(opened)], shape)
    hull = cv2.convexHull(points[:len(opened)].astype(np.float32), returnPoints=False).ravel()
    band_ids = np.concatenate([hull, np.arange(len(opened), len(points))])
    band = band_ids[_triangulate(points[band_ids], shape)]
    band = band[~_inside(points, band, points[hull])]
    return np.vstack([face, band])


def _area(triangles: np.ndarray) -> np.ndarray:
    u, v = triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    return np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2


def _affines(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per triangle the 2x3 affine map destination -> source, and whether both are non-degenerate."""
    ones = np.ones((*dst.shape[:2], 1))
    lhs, rhs = np.concatenate([dst, ones], axis=2), src
    ok = (_area(src) > 0.05) & (_area(dst) > 0.05)
    maps = np.zeros((len(src), 2, 3))
    maps[ok] = np.linalg.solve(lhs[ok], rhs[ok]).transpose(0, 2, 1)
    return maps, ok


def warp(image: np.ndarray, mesh: np.ndarray, dst_mesh: np.ndarray) -> np.ndarray:
    """The image with its face moved from `mesh` to `dst_mesh` (both (468, 3)), piecewise affine.

    Each output pixel takes the triangle drawn last over it (the band around the face first, then
    face triangles far to near by mean depth) and samples the source through that triangle's
    affine map: one bilinear remap, no seams between triangles."""
    triangles = triangulation(mesh, image.shape)
    rest, moved, depth = _control_points(mesh, dst_mesh, image.shape)
    src, dst = rest[triangles], moved[triangles]
    maps, ok = _affines(src, dst)
    depth = depth[triangles].mean(axis=1)
    owner = np.full(image.shape[:2], -1, np.int32)
    for t in sorted(np.flatnonzero(ok), key=lambda t: -depth[t]):
        cv2.fillConvexPoly(owner, np.round(dst[t] * 16).astype(np.int32), int(t), cv2.LINE_8, 4)
    if (owner < 0).any():  # a pixel no triangle covered (rounding): take a neighbour's triangle
        grown = cv2.dilate(owner.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
        owner = np.where(owner < 0, grown, owner)
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float64)
    chosen = maps[np.maximum(owner, 0)]
    map_x = chosen[..., 0, 0] * xs + chosen[..., 0, 1] * ys + chosen[..., 0, 2]
    map_y = chosen[..., 1, 0] * xs + chosen[..., 1, 1] * ys + chosen[..., 1, 2]
    map_x = np.where(owner >= 0, map_x, xs).astype(np.float32)
    map_y = np.where(owner >= 0, map_y, ys).astype(np.float32)
    # Where a turn stretches the texture a lot (the side of the face it reveals, foreshortened in
    # the frontal photo) each thin source triangle's hair/skin edge would show as a saw tooth:
    # there the piecewise-affine map is smoothed, so the edge maps to a smooth curve.
    stretch = np.append(_area(dst) / np.maximum(_area(src), 1e-6), 1.0)[owner]
    weight = np.clip((stretch - 1.5) / 1.5, 0, 1).astype(np.float32)
    if weight.any():
        weight = cv2.GaussianBlur(weight, (0, 0), STRETCH_SMOOTH)
        map_x += weight * (cv2.GaussianBlur(map_x, (0, 0), STRETCH_SMOOTH) - map_x)
        map_y += weight * (cv2.GaussianBlur(map_y, (0, 0), STRETCH_SMOOTH) - map_y)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _paint_mouth(frame: np.ndarray, dst_mesh: np.ndarray) -> np.ndarray:
    """Dark mouth interior between the inner lips, a band of upper teeth along the upper lip: what
    an opening looks like to the mesh model."""
    upper, lower = dst_mesh[list(UPPER_INNER_LIP), :2], dst_mesh[list(LOWER_INNER_LIP), :2]
    gap = float(np.max(lower[:, 1] - upper[:, 1]))
    if gap < 1.0:
        return frame
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.vstack([upper, lower[::-1]]) * 16).astype(np.int32)], 255,
                 cv2.LINE_AA, 4)
    teeth = np.zeros_like(mask)
    band = upper + [0, min(0.35 * gap, 0.12 * np.ptp(upper[:, 0]))]
    cv2.fillPoly(teeth, [np.round(np.vstack([upper, band[::-1]]) * 16).astype(np.int32)], 255,
                 cv2.LINE_AA, 4)
    teeth = cv2.GaussianBlur(teeth.astype(np.float32) / 255, (0, 0), 0.8)[..., None]
    colour = teeth * np.array(TEETH) + (1 - teeth) * np.array(MOUTH_DARK)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 0.8)[..., None]
    return (frame * (1 - alpha) + colour * alpha).round().astype(np.uint8)


def render(image: np.ndarray, mesh: np.ndarray, yaw: float = 0.0, pitch: float = 0.0,
           eyes: float = 0.0, mouth: float = 0.0) -> np.ndarray:
    """One synthesized frame: the face in `image` posed and with the given expression."""
    dst = moved_mesh(mesh, yaw, pitch, eyes, mouth)
    frame = warp(image, mesh, dst)
    return _paint_mouth(frame, dst) if mouth > 0 else frame


def turned(image: np.ndarray, mesh: np.ndarray, yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> np.ndarray:
    """The head turned (yaw < 0: toward the image's left, FRS "turn left") and nodded (pitch < 0: down)."""
    return render(image, mesh, yaw=yaw_deg, pitch=pitch_deg)


def eyes_closed(image: np.ndarray, mesh: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Both eyes closed by `amount` (0 open .. 1 shut)."""
    return render(image, mesh, eyes=amount)


def mouth_opened(image: np.ndarray, mesh: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """The mouth opened by `amount` (0 closed .. 1 wide, mouth ratio ~0.5)."""
    return render(image, mesh, mouth=amount)


# --- clips ------------------------------------------------------------------------------------


def _ramp(steps: int) -> list[float]:
    """`steps` values rising smoothly (raised cosine) from just above 0 to 1."""
    return [float(0.5 - 0.5 * np.cos(np.pi * (i + 1) / (steps + 1))) for i in range(steps)]


def action_profile(action: int, fps: int = 10) -> list[float]:
    """The action's amount (0..1 of its peak pose) per frame, without the rests around it: 0.4 s
    in, 0.2 s held, 0.4 s out; a blink is quicker, as a real one is (shut for 0.2 s, half shut
    the frame before and after)."""
    if action == 5:
        up = _ramp(max(1, round(0.1 * fps)))
        return up + [1.0] * max(1, round(0.2 * fps)) + up[::-1]
    up = _ramp(max(2, round(0.4 * fps)))
    return up + [1.0] * max(1, round(0.2 * fps)) + up[::-1]


def action_clip(image: np.ndarray, mesh: np.ndarray, actions: int | Sequence[int], fps: int = 10,
                rest_seconds: float = 0.8, gap_seconds: float = 0.6) -> list[np.ndarray]:
    """RGB frames: rest, each action in turn (ramped in and out, `gap_seconds` of rest between),
    rest. The rest frame is the warp with nothing moved, so it has the same resampling as the rest."""
    codes = [actions] if isinstance(actions, int) else list(actions)
    rendered: dict[tuple[int, float], np.ndarray] = {}  # a ramp out repeats the ramp in

    def frame(code: int, amount: float) -> np.ndarray:
        if (code, amount) not in rendered:
            pose = {k: v * amount for k, v in ACTION_POSES[code].items()}
            rendered[code, amount] = render(image, mesh, **pose)
        return rendered[code, amount]

    still = frame(codes[0], 0.0)
    frames = [still] * round(rest_seconds * fps)
    for i, code in enumerate(codes):
        frames += [still] * (round(gap_seconds * fps) if i else 0)
        frames += [frame(code, amount) for amount in action_profile(code, fps)]
    return frames + [still] * round(rest_seconds * fps)
