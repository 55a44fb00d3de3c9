"""What a generated drone district is: the structures on its map (the truth), its raised textured planes,
and the scene that holds them with its ground orthophoto. Built by `drone_scene.build_scene`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_textures import BGR

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Structure:
    """Something with an outline on the map: what it is and whether it is registered, new or a distractor."""

    id: str
    kind: str
    """building, steel_roof, scaffold, excavation; distractors: car, pool, court, tarp, solar, roof_<colour>."""
    status: str
    """registered (known or permitted), new, or distractor."""
    ring_m: tuple[tuple[float, float], ...]
    top_m: float
    """Height of its visible top above the ground."""
    base_m: float = 0.0
    """Height of what it stands on (0, or the roof it was built on)."""
    on: str | None = None
    """Id of the building it stands on."""
    needs_model: bool = False
    """Only a trained model (or a change between surveys) can find it: scored apart."""

    @property
    def centre_m(self) -> tuple[float, float]:
        a = np.asarray(self.ring_m)
        return float(a[:, 0].mean()), float(a[:, 1].mean())

    @property
    def area_m2(self) -> float:
        a = np.asarray(self.ring_m)
        x, y = a[:, 0], a[:, 1]
        return float(0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


@dataclass
class Layer:
    """A textured plane at a height (a roof, a deck of panels) with walls down to its base."""

    texture: NDArray[np.uint8]
    patch_to_enu: Array
    """3x3: texture pixel (x, y, 1) -> (east, north, 1)."""
    ring_m: Array
    top_m: float
    base_m: float
    wall_bgr: BGR
    texel_m: float


@dataclass
class Scene:
    """The district: ground orthophoto (north up), raised layers, and every structure's truth."""

    seed: int
    origin_lat_deg: float
    origin_lon_deg: float
    size_m: float
    cell_m: float
    ground: NDArray[np.uint8]
    layers: list[Layer]
    structures: list[Structure]
    surround: NDArray[np.uint8]
    """Plain fields around the district (coarser cells, no structures) seen beyond its edge."""
    surround_size_m: float
    surround_cell_m: float

    def ortho_px_to_enu(self) -> Array:
        """3x3: orthophoto pixel (col, row, 1) -> (east, north, 1)."""
        return _px_to_enu(self.size_m, self.cell_m)

    def surround_px_to_enu(self) -> Array:
        return _px_to_enu(self.surround_size_m, self.surround_cell_m)


    def truth(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "origin_lat_deg": self.origin_lat_deg,
            "origin_lon_deg": self.origin_lon_deg,
            "size_m": self.size_m,
            "structures": [
                {**asdict(s), "centre_m": s.centre_m, "area_m2": round(s.area_m2, 2)} for s in self.structures
            ],
        }


def _px_to_enu(size_m: float, cell_m: float) -> Array:
    h, c = size_m / 2, cell_m
    return np.array([[c, 0, -h + c / 2], [0, -c, h - c / 2], [0, 0, 1]], np.float64)



