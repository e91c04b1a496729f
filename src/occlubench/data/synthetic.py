"""Synthetic faces whose expression cues sit in known image regions: a dataset with a ground truth for occlusion.

Each face is drawn procedurally (face oval, hair, eyes, brows, nostrils, mouth) with random jitter of position, scale,
rotation, feature placement, cue strength, background/face/hair/feature brightness, a lighting gradient and pixel
noise. The seven classes carry FER2013's names, in FER2013's order, and differ from ``neutral`` only by these cues
(half: the study's half that holds the cue entirely; box: (top, bottom, left, right) in fractions of the image, the
worst case over every pose, rounded here):

========  ================================================  ============  ========================
class     cue                                               half          box
========  ================================================  ============  ========================
angry     brows slanted down toward the nose                upper         (0.09, 0.44, 0.16, 0.84)
disgust   image-right mouth corner raised (subject's left)  lower, right  (0.53, 0.84, 0.51, 0.76)
fear      brows raised                                      upper         (0.09, 0.44, 0.16, 0.84)
fear      eyes wide open                                    upper         (0.22, 0.49, 0.22, 0.78)
happy     mouth curved up                                   lower         (0.58, 0.88, 0.24, 0.76)
neutral   none: flat brows, normal eyes, straight mouth     -             -
sad       inner brows raised                                upper         (0.09, 0.44, 0.16, 0.84)
sad       mouth curved down                                 lower         (0.58, 0.88, 0.24, 0.76)
surprise  brows raised                                      upper         (0.09, 0.44, 0.16, 0.84)
surprise  mouth open and round                              lower         (0.55, 0.91, 0.24, 0.76)
========  ================================================  ============  ========================

A class's ``regions`` in :data:`SYNTHETIC_CUES` lists every half that entirely holds at least one of its cues, so
hiding that half with the study's masks (upper = rows ``[0, H/2)``, lower = rows ``[H/2, H)``, left = columns
``[0, W/2)``, right = columns ``[W/2, W)``, in image coordinates: image-right is the subject's left) removes that cue.
Every brow/eye cue lies in the upper half, every mouth cue in the lower half and the disgust corner in the right
half, whatever the jitter. The exact boxes are data, :data:`SYNTHETIC_CUES`, computed from the geometry and the jitter
bounds (:data:`JITTER`) below and padded by half a pixel at :data:`MIN_SIZE`.

Drawing is batched: a face-frame coordinate grid per face (rotated, scaled, shifted), a signed distance to each shape,
a one-pixel linear anti-aliasing ramp, compositing with tensor ops; each feature is drawn only inside its worst-case
box, which both saves work and makes the containment hold by construction. No Python loop per face.

Examples:
    >>> faces = synthetic_faces(n_per_class=10, seed=0)
    >>> tuple(faces.images.shape), faces.classes[3], faces.ids[0]
    ((70, 1, 48, 48), 'happy', 'synthetic-0-0')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

from occlubench.data.imageset import FER2013_CLASSES, ImageSet
from occlubench.errors import ConfigError

__all__ = [
    "EXPRESSION_PARAMETERS",
    "JITTER",
    "MIN_SIZE",
    "SYNTHETIC_CUES",
    "FaceJitter",
    "FacePose",
    "class_expressions",
    "render_faces",
    "sample_face_poses",
    "synthetic_faces",
]

#: Smallest image side supported: the cue boxes include half a pixel of anti-aliasing at this size.
MIN_SIZE = 24

# Geometry, in the face frame: units of image side at scale 1, origin at the face centre, v pointing down.
FACE_HALF_WIDTH, FACE_HALF_HEIGHT = 0.34, 0.44
HAIRLINE_V, HAIRLINE_CURVE = -0.36, 0.08
HAIR_WIDTH, HAIR_HEIGHT, HAIR_SHIFT = 1.06, 1.02, -0.02  # the hair cap: the face oval, a little larger and higher
EYE_U, EYE_V, EYE_HALF_WIDTH, EYE_HALF_HEIGHT, IRIS_RADIUS = 0.13, -0.14, 0.055, 0.022, 0.021
EYE_WIDEN = 0.028  # fear: extra eye half-height per unit of cue strength
BROW_INNER_U, BROW_OUTER_U, BROW_INNER_V, BROW_OUTER_V, BROW_HALF_THICKNESS = 0.055, 0.215, -0.225, -0.235, 0.016
BROW_RAISE = 0.045  # fear, surprise: both ends up
BROW_INNER_RAISE = 0.05  # sad: inner ends up
BROW_SLANT = 0.05  # angry: inner ends down toward the nose (outer ends up by a fifth of it)
NOSTRIL_U, NOSTRIL_V, NOSTRIL_RADIUS = 0.03, 0.085, 0.014
MOUTH_V, MOUTH_HALF_WIDTH, MOUTH_HALF_THICKNESS = 0.22, 0.14, 0.016
MOUTH_CURVE = 0.06  # happy (+) / sad (-): the centre moves down and the corners up by half of it each
MOUTH_CORNER_U = 0.085  # disgust: the mouth bends up only right of this, so the cue stays in the image-right half
MOUTH_CORNER_RAISE = 0.07
MOUTH_OPEN_HALF_WIDTH, MOUTH_OPEN_HALF_HEIGHT = 0.06, 0.07  # surprise


@dataclass(frozen=True)
class FaceJitter:
    """Bounds (low, high) of every random face parameter; the cue boxes are computed from them.

    Position, scale and rotation are kept small enough that upper cues never reach row H/2, mouth cues never reach
    above it, and the disgust corner never crosses column W/2.
    """

    center_x: tuple[float, float] = (0.475, 0.525)
    center_y: tuple[float, float] = (0.475, 0.525)
    scale: tuple[float, float] = (0.9, 1.1)
    angle: tuple[float, float] = (-math.radians(5.0), math.radians(5.0))
    eye_offset: tuple[float, float] = (-0.012, 0.012)  # eyes and brows move apart/together
    mouth_offset: tuple[float, float] = (-0.012, 0.012)  # mouth moves down/up
    mouth_width: tuple[float, float] = (-0.012, 0.012)  # added to the mouth half-width
    cue_strength: tuple[float, float] = (0.75, 1.25)
    background_level: tuple[float, float] = (0.05, 0.95)
    face_level: tuple[float, float] = (0.4, 0.75)
    hair_level: tuple[float, float] = (0.05, 0.7)
    feature_darkness: tuple[float, float] = (0.15, 0.45)  # features are this fraction of the face level
    sclera_gain: tuple[float, float] = (0.15, 0.35)
    light_x: tuple[float, float] = (-0.4, 0.4)  # relative brightness change across the image
    light_y: tuple[float, float] = (-0.3, 0.3)
    noise_std: tuple[float, float] = (0.015, 0.05)


JITTER = FaceJitter()


@dataclass(frozen=True)
class FacePose:
    """The class-independent random parameters of N faces, each an (N,) float tensor (see :class:`FaceJitter`)."""

    center_x: torch.Tensor
    center_y: torch.Tensor
    scale: torch.Tensor
    angle: torch.Tensor
    eye_offset: torch.Tensor
    mouth_offset: torch.Tensor
    mouth_width: torch.Tensor
    cue_strength: torch.Tensor
    background_level: torch.Tensor
    face_level: torch.Tensor
    hair_level: torch.Tensor
    feature_darkness: torch.Tensor
    sclera_gain: torch.Tensor
    light_x: torch.Tensor
    light_y: torch.Tensor
    noise_std: torch.Tensor

    def __len__(self) -> int:
        return int(self.center_x.shape[0])

    def slice(self, start: int, stop: int) -> FacePose:
        """The poses of faces ``start..stop-1``."""
        return FacePose(**{f.name: getattr(self, f.name)[start:stop] for f in fields(self)})


def sample_face_poses(n: int, generator: torch.Generator, jitter: FaceJitter = JITTER) -> FacePose:
    """Draw ``n`` face poses uniformly within ``jitter``, in a fixed order so a seed always gives the same faces."""
    values = {}
    for f in fields(jitter):
        low, high = getattr(jitter, f.name)
        values[f.name] = low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64).float()
    return FacePose(**values)


#: Columns of an expression tensor, each an amplitude in units of its geometry constant.
EXPRESSION_PARAMETERS: tuple[str, ...] = (
    "brow_raise",
    "brow_inner_raise",
    "brow_slant",
    "eye_widen",
    "mouth_curve",
    "mouth_corner_raise",
    "mouth_open",
)

_CLASS_EXPRESSION: dict[str, dict[str, float]] = {
    "angry": {"brow_slant": 1.0},
    "disgust": {"mouth_corner_raise": 1.0},
    "fear": {"brow_raise": 1.0, "eye_widen": 1.0},
    "happy": {"mouth_curve": 1.0},
    "neutral": {},
    "sad": {"brow_inner_raise": 1.0, "mouth_curve": -1.0},
    "surprise": {"brow_raise": 1.0, "mouth_open": 1.0},
}

_EXPRESSION_TABLE = torch.tensor(
    [[_CLASS_EXPRESSION[c].get(p, 0.0) for p in EXPRESSION_PARAMETERS] for c in FER2013_CLASSES]
)


def class_expressions(labels: torch.Tensor, cue_strength: torch.Tensor) -> torch.Tensor:
    """The (N, 7) expression amplitudes of faces of classes ``labels`` (FER2013 order) at the given cue strengths."""
    return _EXPRESSION_TABLE[labels] * cue_strength[:, None]


# ---- Where each feature can be: face-frame extents mapped to image boxes over every pose allowed by JITTER. ----

_Box = tuple[float, float, float, float]  # (top, bottom, left, right), fractions of the image side
_Extent = tuple[tuple[float, float], tuple[float, float]]  # ((u_min, u_max), (v_min, v_max)) in the face frame


def _image_box(extent: _Extent, jitter: FaceJitter = JITTER) -> _Box:
    """Worst-case image box of a face-frame extent over every pose in ``jitter``, padded for anti-aliasing."""
    us = torch.tensor(extent[0], dtype=torch.float64)[:, None]
    vs = torch.tensor(extent[1], dtype=torch.float64)[None, :]
    xs, ys = [], []
    for angle in torch.linspace(jitter.angle[0], jitter.angle[1], 41, dtype=torch.float64).tolist():
        for scale in jitter.scale:
            x = scale * (us * math.cos(angle) - vs * math.sin(angle))
            y = scale * (us * math.sin(angle) + vs * math.cos(angle))
            xs += [x.min().item() + jitter.center_x[0], x.max().item() + jitter.center_x[1]]
            ys += [y.min().item() + jitter.center_y[0], y.max().item() + jitter.center_y[1]]
    pad = 0.5 / MIN_SIZE + 0.002  # half a pixel of anti-aliasing at the smallest size, plus slack for angle sampling
    return (round(min(ys) - pad, 4), round(max(ys) + pad, 4), round(min(xs) - pad, 4), round(max(xs) + pad, 4))


def _feature_extents(jitter: FaceJitter = JITTER) -> dict[str, _Extent]:
    """Face-frame extent of every feature part, at the strongest cue and the widest feature jitter.

    For a cue part, this is also where the cue can change pixels relative to neutral: the union of the part drawn
    with and without the cue.
    """
    strength = jitter.cue_strength[1]
    eye_out = EYE_U + jitter.eye_offset[1] + EYE_HALF_WIDTH
    eye_half_height = EYE_HALF_HEIGHT + EYE_WIDEN * strength
    brow_out = BROW_OUTER_U + jitter.eye_offset[1] + BROW_HALF_THICKNESS
    brow_top = min(BROW_INNER_V, BROW_OUTER_V) - max(BROW_RAISE, BROW_INNER_RAISE) * strength - BROW_HALF_THICKNESS
    brow_bottom = max(BROW_INNER_V + BROW_SLANT * strength, BROW_OUTER_V) + BROW_HALF_THICKNESS
    mouth_out = MOUTH_HALF_WIDTH + jitter.mouth_width[1] + MOUTH_HALF_THICKNESS
    mouth_top = MOUTH_V + jitter.mouth_offset[0] - MOUTH_HALF_THICKNESS
    mouth_bottom = MOUTH_V + jitter.mouth_offset[1] + MOUTH_HALF_THICKNESS
    curve = MOUTH_CURVE * strength / 2
    open_out = max(mouth_out, MOUTH_OPEN_HALF_WIDTH * strength)
    open_half_height = MOUTH_OPEN_HALF_HEIGHT * strength
    hair_out, hair_top = FACE_HALF_WIDTH * HAIR_WIDTH, -FACE_HALF_HEIGHT * HAIR_HEIGHT + HAIR_SHIFT
    return {
        "hair": ((-hair_out, hair_out), (hair_top, HAIRLINE_V + HAIRLINE_CURVE * HAIR_WIDTH**2)),
        "eyes": ((-eye_out, eye_out), (EYE_V - eye_half_height, EYE_V + eye_half_height)),
        "brows": ((-brow_out, brow_out), (brow_top, brow_bottom)),
        "nose": (
            (-NOSTRIL_U - NOSTRIL_RADIUS, NOSTRIL_U + NOSTRIL_RADIUS),
            (NOSTRIL_V - NOSTRIL_RADIUS, NOSTRIL_V + NOSTRIL_RADIUS),
        ),
        "mouth curve": ((-mouth_out, mouth_out), (mouth_top - curve, mouth_bottom + curve)),
        "mouth corner": ((MOUTH_CORNER_U, mouth_out), (mouth_top - MOUTH_CORNER_RAISE * strength, mouth_bottom)),
        "open mouth": (
            (-open_out, open_out),
            (
                min(mouth_top, MOUTH_V + jitter.mouth_offset[0] - open_half_height),
                max(mouth_bottom, MOUTH_V + jitter.mouth_offset[1] + open_half_height),
            ),
        ),
    }


def _union(*extents: _Extent) -> _Extent:
    return (
        (min(e[0][0] for e in extents), max(e[0][1] for e in extents)),
        (min(e[1][0] for e in extents), max(e[1][1] for e in extents)),
    )


_EXTENTS = _feature_extents()
_PART_BOXES: dict[str, _Box] = {name: _image_box(extent) for name, extent in _EXTENTS.items()}
# Each drawing step only touches the pixels of its worst-case box: faster, and containment holds by construction.
_DRAW_BOXES: dict[str, _Box] = {
    "hair": _PART_BOXES["hair"],
    "eyes and brows": _image_box(_union(_EXTENTS["eyes"], _EXTENTS["brows"])),
    "nose": _PART_BOXES["nose"],
    "mouth": _image_box(_union(_EXTENTS["mouth curve"], _EXTENTS["mouth corner"], _EXTENTS["open mouth"])),
}


def _pixel_span(box: _Box, size: int) -> tuple[slice, slice]:
    """Rows and columns of a ``size`` x ``size`` image whose pixel centres may fall in ``box``."""
    top, bottom, left, right = box
    rows = slice(max(0, math.floor(top * size)), min(size, math.ceil(bottom * size)))
    cols = slice(max(0, math.floor(left * size)), min(size, math.ceil(right * size)))
    return rows, cols


# ---- Drawing: signed distances in the face frame, anti-aliased coverage, compositing. ----


def _ellipse_distance(u2: torch.Tensor, v2: torch.Tensor, half_u: torch.Tensor, half_v: torch.Tensor) -> torch.Tensor:
    """Signed distance to an origin-centred, axis-aligned ellipse, from squared coordinates (exact near the outline).

    Inigo Quilez's estimate k0 (k0 - 1) / k1; the ratio k0 / k1 lies in [min half-axis, max half-axis] except at
    the centre (0 / 0), where the clamp keeps it finite and the point inside.
    """
    k0 = torch.sqrt(u2 / half_u**2 + v2 / half_v**2)
    k1 = torch.sqrt(u2 / half_u**4 + v2 / half_v**4)
    return (k0 - 1.0) * (k0 / k1.clamp_min(1e-12)).clamp_min(torch.minimum(half_u, half_v))


def _segment_distance(
    u: torch.Tensor, v: torch.Tensor, a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor]
) -> torch.Tensor:
    """Unsigned distance to the segment from ``a`` to ``b`` (each point a (u, v) pair)."""
    pu, pv = u - a[0], v - a[1]
    bu, bv = b[0] - a[0], b[1] - a[1]
    t = ((pu * bu + pv * bv) / (bu * bu + bv * bv)).clamp(0.0, 1.0)
    return torch.sqrt((pu - bu * t).square() + (pv - bv * t).square())


def _coverage(distance: torch.Tensor, pixels_per_unit: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage from a signed distance: a linear ramp one pixel wide across the outline.

    The ramp has compact support, so a shape changes no pixel whose centre lies over half a pixel outside it.
    """
    return (0.5 - distance * pixels_per_unit).clamp_(0.0, 1.0)


def _paint(image: torch.Tensor, coverage: torch.Tensor, level: torch.Tensor) -> None:
    """Blend ``level`` into ``image`` (in place, possibly a crop) with the given coverage."""
    image.add_(coverage * (level - image))


def render_faces(
    pose: FacePose, expression: torch.Tensor, size: int = 48, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw faces in one batch of tensor ops.

    Args:
        pose: the class-independent parameters of N faces.
        expression: (N, 7) amplitudes, columns as in :data:`EXPRESSION_PARAMETERS` (see :func:`class_expressions`).
        size: image side in pixels.
        generator: source of the pixel noise; ``None`` draws noise-free faces (used to isolate cues).

    Returns:
        float32 tensor (N, size, size) in [0, 1].
    """
    p = {f.name: getattr(pose, f.name).float()[:, None, None] for f in fields(pose)}
    e = {name: expression[:, i].float()[:, None, None] for i, name in enumerate(EXPRESSION_PARAMETERS)}
    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    # Face frame: u = ((x - cx) cos + (y - cy) sin) / s, v = (-(x - cx) sin + (y - cy) cos) / s, split into a
    # column term and a row term so that the full grid costs one broadcast add.
    cos_s, sin_s = torch.cos(p["angle"]) / p["scale"], torch.sin(p["angle"]) / p["scale"]
    dx, dy = grid[None, None, :] - p["center_x"], grid[None, :, None] - p["center_y"]
    u = dx * cos_s + dy * sin_s
    v = dy * cos_s - dx * sin_s
    px = p["scale"] * size  # pixels per face-frame unit
    face_level = p["face_level"]
    dark = face_level * p["feature_darkness"]
    zero = torch.zeros_like(px)

    image = p["background_level"].expand(-1, size, size).clone()
    u2, v2 = u.square(), v.square()
    _paint(image, _coverage(_ellipse_distance(u2, v2, zero + FACE_HALF_WIDTH, zero + FACE_HALF_HEIGHT), px), face_level)

    rows, cols = _pixel_span(_DRAW_BOXES["hair"], size)
    cu, cv = u[:, rows, cols], v[:, rows, cols]
    hair_cap = _ellipse_distance(
        cu.square(),
        (cv - HAIR_SHIFT).square(),
        zero + FACE_HALF_WIDTH * HAIR_WIDTH,
        zero + FACE_HALF_HEIGHT * HAIR_HEIGHT,
    )
    hairline = HAIRLINE_V + HAIRLINE_CURVE * (cu / FACE_HALF_WIDTH).square()
    _paint(image[:, rows, cols], _coverage(torch.maximum(hair_cap, cv - hairline), px), p["hair_level"])

    # Eyes: a light sclera, widened by fear, with a dark iris clipped to it. Brows: one segment per side; raise lifts
    # both ends, inner raise and slant move the inner end. Both are mirror-symmetric, hence |u|.
    rows, cols = _pixel_span(_DRAW_BOXES["eyes and brows"], size)
    cu, cv = u[:, rows, cols].abs(), v[:, rows, cols]
    crop = image[:, rows, cols]
    eye_du2, eye_dv2 = (cu - (EYE_U + p["eye_offset"])).square(), (cv - EYE_V).square()
    sclera = _ellipse_distance(eye_du2, eye_dv2, zero + EYE_HALF_WIDTH, EYE_HALF_HEIGHT + EYE_WIDEN * e["eye_widen"])
    _paint(crop, _coverage(sclera, px), (face_level + p["sclera_gain"]).clamp(max=1.0))
    iris = torch.maximum(torch.sqrt(eye_du2 + eye_dv2) - IRIS_RADIUS, sclera)
    _paint(crop, _coverage(iris, px), dark * 0.6)
    inner_v = BROW_INNER_V - BROW_RAISE * e["brow_raise"] - BROW_INNER_RAISE * e["brow_inner_raise"]
    inner_v = inner_v + BROW_SLANT * e["brow_slant"]
    outer_v = BROW_OUTER_V - BROW_RAISE * e["brow_raise"] - 0.2 * BROW_SLANT * e["brow_slant"]
    brow = _segment_distance(
        cu, cv, (BROW_INNER_U + p["eye_offset"], inner_v), (BROW_OUTER_U + p["eye_offset"], outer_v)
    )
    _paint(crop, _coverage(brow - BROW_HALF_THICKNESS, px), dark)

    rows, cols = _pixel_span(_DRAW_BOXES["nose"], size)
    cu, cv = u[:, rows, cols].abs(), v[:, rows, cols]
    nostrils = torch.sqrt((cu - NOSTRIL_U).square() + (cv - NOSTRIL_V).square()) - NOSTRIL_RADIUS
    _paint(image[:, rows, cols], _coverage(nostrils, px), 0.5 * (face_level + dark))

    # Mouth: a stroke along a curve (happy/sad bend it, disgust lifts the image-right corner), or an open ellipse.
    rows, cols = _pixel_span(_DRAW_BOXES["mouth"], size)
    cu, cv = u[:, rows, cols], v[:, rows, cols]
    mouth_v = MOUTH_V + p["mouth_offset"]
    half_width = MOUTH_HALF_WIDTH + p["mouth_width"]
    along = torch.minimum(torch.maximum(cu, -half_width), half_width)
    curve = mouth_v + MOUTH_CURVE * e["mouth_curve"] * (0.5 - (along / half_width).square())
    corner = (along - MOUTH_CORNER_U).clamp_min(0.0) / (half_width - MOUTH_CORNER_U)
    curve = curve - MOUTH_CORNER_RAISE * e["mouth_corner_raise"] * corner.square()
    stroke = torch.sqrt((cu.abs() - half_width).clamp_min(0.0).square() + (cv - curve).square()) - MOUTH_HALF_THICKNESS
    is_open = e["mouth_open"] > 0
    open_mouth = _ellipse_distance(
        cu.square(),
        (cv - mouth_v).square(),
        (MOUTH_OPEN_HALF_WIDTH * e["mouth_open"]).clamp_min(1e-3),
        (MOUTH_OPEN_HALF_HEIGHT * e["mouth_open"]).clamp_min(1e-3),
    )
    mouth = torch.where(is_open, open_mouth, stroke)
    _paint(image[:, rows, cols], _coverage(mouth, px), torch.where(is_open, dark * 0.5, dark))

    image.mul_(1.0 + p["light_x"] * (grid[None, None, :] - 0.5) + p["light_y"] * (grid[None, :, None] - 0.5))
    if generator is not None:
        image.add_(p["noise_std"] * torch.randn(image.shape, generator=generator))
    return image.clamp_(0.0, 1.0)


def synthetic_faces(n_per_class: int, seed: int, size: int = 48) -> ImageSet:
    """Balanced synthetic faces of FER2013's seven classes, reproducible from ``seed``.

    Labels cycle through the classes (``k % 7``), so every prefix is nearly balanced; ids are
    ``synthetic-<seed>-<k>``.

    Args:
        n_per_class: faces per class.
        seed: the same seed gives a bit-identical ImageSet on a CPU.
        size: image side in pixels (at least :data:`MIN_SIZE`); the geometry scales with it.

    Returns:
        An ImageSet of uint8 images (7 * n_per_class, 1, size, size).

    Raises:
        ConfigError: a non-positive count, a negative seed or a size under :data:`MIN_SIZE`.
    """
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, int) or n_per_class < 1:
        raise ConfigError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < MIN_SIZE:
        raise ConfigError(f"size must be an integer >= {MIN_SIZE}, got {size!r}")
    n = n_per_class * len(FER2013_CLASSES)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n, dtype=torch.int64) % len(FER2013_CLASSES)
    pose = sample_face_poses(n, generator)
    expression = class_expressions(labels, pose.cue_strength)
    # Chunks bound the memory of the (chunk, size, size) intermediates; noise is drawn chunk after chunk, in order.
    chunk = max(1, 500_000 // (size * size))
    images = torch.empty((n, 1, size, size), dtype=torch.uint8)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        drawn = render_faces(pose.slice(start, stop), expression[start:stop], size, generator)
        images[start:stop, 0] = torch.round(drawn * 255.0).to(torch.uint8)
    ids = tuple(f"synthetic-{seed}-{k}" for k in range(n))
    return ImageSet(images, labels, ids, FER2013_CLASSES)


# ---- The cue map: which halves hold each class's cues, and where. ----


def _halves_holding(box: _Box) -> tuple[str, ...]:
    """The study's halves (upper, lower, left, right) that contain ``box`` entirely."""
    top, bottom, left, right = box
    held = {"upper": bottom < 0.5, "lower": top > 0.5, "left": right < 0.5, "right": left > 0.5}
    return tuple(name for name, inside in held.items() if inside)


def _build_cue_map() -> dict[str, dict]:
    # (description, drawn part, expression parameter) of each cue of each class.
    cues: dict[str, tuple[tuple[str, str, str], ...]] = {
        "angry": (("brows slanted down toward the nose", "brows", "brow_slant"),),
        "disgust": (("image-right mouth corner raised (subject's left)", "mouth corner", "mouth_corner_raise"),),
        "fear": (("brows raised", "brows", "brow_raise"), ("eyes wide open", "eyes", "eye_widen")),
        "happy": (("mouth curved up", "mouth curve", "mouth_curve"),),
        "neutral": (),
        "sad": (
            ("inner brows raised", "brows", "brow_inner_raise"),
            ("mouth curved down", "mouth curve", "mouth_curve"),
        ),
        "surprise": (("brows raised", "brows", "brow_raise"), ("mouth open and round", "open mouth", "mouth_open")),
    }
    cue_map: dict[str, dict] = {}
    for name in FER2013_CLASSES:
        boxes = tuple(_PART_BOXES[part] for _, part, _ in cues[name])
        held = {half for box in boxes for half in _halves_holding(box)}
        cue_map[name] = {
            "regions": tuple(half for half in ("upper", "lower", "left", "right") if half in held),
            "cues": tuple(description for description, _, _ in cues[name]),
            "boxes": boxes,
            "parameters": tuple(parameter for _, _, parameter in cues[name]),
        }
    return cue_map


#: For each class (FER2013 order): ``regions``, the study's halves that each entirely hold at least one of its cues
#: (hiding such a half removes that cue); ``cues``, a description of each cue; ``boxes``, one worst-case box per cue,
#: (top, bottom, left, right) in fractions of the image side, outside which the cue changes no pixel centre (any pose,
#: any size >= MIN_SIZE); ``parameters``, the column of :data:`EXPRESSION_PARAMETERS` that draws each cue.
SYNTHETIC_CUES: dict[str, dict] = _build_cue_map()
