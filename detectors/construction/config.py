"""Configuration of the construction detector (`detectors.construction` in the root config).

Every field has a default, so an empty section is valid; per-flight (per-source) overrides are merged
over it by the composition root. Descriptions say what raising or lowering a value does.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from detectors.construction.registry_entries import StructureKind
from detectors.construction.survey.config import SurveyConfig
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig
from detectors.geometry.selfcal_config import SelfCalibrationConfig
from models.config import TilingConfig


def default_drone_models() -> dict[str, DroneCameraSpec]:
    """Cameras of common survey drones; telemetry's focal_len (35 mm-equivalent) wins when present."""
    return {
        "generic": DroneCameraSpec(focal_35mm=24.0),
        "dji_phantom_4": DroneCameraSpec(focal_length_mm=3.61, sensor_width_mm=6.17, focal_35mm=20.0),
        "dji_phantom_4_pro": DroneCameraSpec(
            focal_length_mm=8.8, sensor_width_mm=13.2, focal_35mm=24.0, sensor_aspect=3 / 2
        ),
        "dji_phantom_4_rtk": DroneCameraSpec(
            focal_length_mm=8.8, sensor_width_mm=13.2, focal_35mm=24.0, sensor_aspect=3 / 2
        ),
        "dji_mavic_3": DroneCameraSpec(focal_length_mm=12.29, sensor_width_mm=17.3, focal_35mm=24.0),
        "dji_mini_4_pro": DroneCameraSpec(focal_35mm=24.0),
    }


def default_top_heights() -> dict[StructureKind, float]:
    """How far above its ground (or registered roof) the visible top of each kind typically is."""
    return {StructureKind.STEEL_ROOF: 2.5, StructureKind.SCAFFOLD: 0.5, StructureKind.EXCAVATION: 0.0}


def default_model_classes() -> dict[str, StructureKind]:
    """Class names a construction model may use, and the structure kind each one means."""
    return {
        "steel_roof": StructureKind.STEEL_ROOF,
        "blue_roof": StructureKind.STEEL_ROOF,
        "color_steel_roof": StructureKind.STEEL_ROOF,
        "scaffold": StructureKind.SCAFFOLD,
        "scaffolding": StructureKind.SCAFFOLD,
        "excavation": StructureKind.EXCAVATION,
        "construction_site": StructureKind.EXCAVATION,
    }


class BlueRoofCueConfig(BaseModel):
    """The weights-free cue for blue colour-steel roofs (彩钢瓦): colour, ribs, rectangular shape, size.

    Each shape/texture feature scores 0 at its `min_*` value and 1 at its `full_*` value; the cue's
    confidence is their geometric mean, so one failing feature vetoes a candidate.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Run the cue on every analysed frame (no model needed).")
    analysis_width_px: int = Field(
        default=1920,
        ge=160,
        le=8192,
        description="Frames wider than this are downscaled for the cue. Ribs of colour-steel sheet are "
        "0.2-0.3 m apart, 3-4 pixels in 1080p video at 100 m: downscaling below the frame's own width "
        "blurs them away. Raising it helps 4K footage at more CPU per frame; lowering it loses small roofs.",
    )
    hue_min: int = Field(
        default=100,
        ge=0,
        le=179,
        description="Lowest OpenCV hue (0-179, half degrees) counted as roof blue. Colour-steel blue is about "
        "200-225 degrees (100-112), pool water turquoise below 200; lowering it admits pools and glass.",
    )
    hue_max: int = Field(
        default=130,
        ge=0,
        le=179,
        description="Highest OpenCV hue counted as roof blue; raising it admits violet.",
    )
    min_saturation: int = Field(
        default=70,
        ge=0,
        le=255,
        description="Minimum HSV saturation (0-255). Lowering it finds faded roofs and also "
        "grey-blue asphalt and shadows.",
    )
    min_value: int = Field(
        default=45,
        ge=0,
        le=255,
        description="Minimum HSV brightness (0-255); lowering it admits roofs in shadow and dark water.",
    )
    min_area_px: int = Field(
        default=60,
        ge=4,
        le=1_000_000,
        description="Blobs smaller than this (analysis pixels) are ignored before any "
        "shape analysis; a speed guard, the real size gate is min_area_m2.",
    )
    max_candidates: int = Field(
        default=40, ge=1, le=1000, description="At most this many largest blobs are analysed per frame."
    )
    min_fill_ratio: float = Field(
        default=0.55,
        ge=0,
        le=1,
        description="Blob area over its rotated bounding rectangle at which the shape score is 0; "
        "raising it rejects irregular blue things (tarps, clothes).",
    )
    full_fill_ratio: float = Field(default=0.85, ge=0, le=1, description="Fill ratio that scores 1.")
    min_rib_coherence: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Orientation coherence of the brightness gradients (parallel ribs give ~1, smooth or "
        "random texture ~0) at which the rib score is 0. Raising it rejects smooth blue surfaces.",
    )
    full_rib_coherence: float = Field(default=0.6, ge=0, le=1, description="Rib coherence that scores 1.")
    min_rib_contrast: float = Field(
        default=1.2,
        ge=0,
        le=255,
        description="Median brightness gradient across the ribs inside the blob (grey levels per analysis "
        "pixel) at which the contrast score is 0. Raising it rejects flat blue paint, water and courts whose "
        "only texture is a few painted lines.",
    )
    full_rib_contrast: float = Field(
        default=4.0,
        ge=0,
        le=255,
        description="Median rib gradient that scores 1. Ribs 0.2-0.3 m apart are 3-4 pixels at 100 m in 1080p "
        "video and barely resolved: small roofs score 1.5-2.5, sensor noise on flat paint about 1.",
    )
    min_rib_alignment: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="How parallel the ribs run to a side of the roof rectangle (1 parallel, "
        "0 at 45 degrees) at which the alignment score is 0.",
    )
    full_rib_alignment: float = Field(default=0.8, ge=0, le=1, description="Rib alignment that scores 1.")
    min_confidence: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="The alert threshold: candidates below it are dropped. Raising it trades "
        "missed roofs for fewer false ones.",
    )
    min_area_m2: float = Field(
        default=12.0,
        ge=0,
        le=100_000,
        description="Smallest roof on the ground; below it (cars, tarps, clothes) is "
        "ignored. Lowering it finds small sheds and more false blue objects.",
    )
    max_area_m2: float = Field(
        default=5000.0,
        gt=0,
        le=1_000_000,
        description="Largest roof on the ground; above it is likely water or a painted court.",
    )
    min_width_m: float = Field(
        default=2.5,
        ge=0,
        le=100,
        description="Narrowest roof on the ground: blue strips narrower than this (rows of solar panels, cars, "
        "pipes) are ignored. Lowering it finds narrow lean-tos and more false strips.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> BlueRoofCueConfig:
        for low, high in (
            ("hue_min", "hue_max"),
            ("min_fill_ratio", "full_fill_ratio"),
            ("min_rib_coherence", "full_rib_coherence"),
            ("min_rib_contrast", "full_rib_contrast"),
            ("min_rib_alignment", "full_rib_alignment"),
            ("min_area_m2", "max_area_m2"),
        ):
            if getattr(self, low) >= getattr(self, high):
                raise ValueError(f"{low} must be below {high}")
        return self


class SiteMergeConfig(BaseModel):
    """How footprints from many frames and passes are merged into one site, and when a site is alerted."""

    model_config = ConfigDict(extra="forbid")

    merge_distance_m: float = Field(
        default=6.0,
        ge=0,
        le=500,
        description="Footprints of the same kind whose centres are closer than this are one site. Raising "
        "it merges neighbouring structures; lowering it splits one site when telemetry is noisy.",
    )
    min_overlap_ratio: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Footprints also merge when their overlap covers this share of the "
        "smaller one (partial views at the frame edge).",
    )
    min_frames: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="Frames a site must be seen in before it is alerted (a survey at 1 fps sees a roof in "
        "5-15 frames). Raising it suppresses look-alikes seen only from far or at one angle, and delays "
        "alerts; sites seen less often are listed in the flight summary as unconfirmed.",
    )
    require_full_view: bool = Field(
        default=True,
        description="Alert only sites seen whole at least once (not cut by the frame edge), so position, "
        "area and snapshot are right; sites only ever seen at the edge are listed in the flight summary as "
        "partial. Turn off for structures larger than a frame.",
    )
    pass_gap_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="A gap longer than this between sightings starts a new pass over the site.",
    )


class RegistryConfig(BaseModel):
    """The GeoJSON of known or permitted structures, and how a site is matched against it."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None,
        description="GeoJSON file of registered structures (kinds: building, steel_roof, scaffold, "
        "excavation, other). Empty: every site is new.",
    )
    known_min_overlap: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of a site's footprint a registered structure of the same kind must "
        "cover for the site to be known. Raising it alerts on extensions of registered roofs sooner.",
    )
    tolerance_m: float = Field(
        default=2.0,
        ge=0,
        le=50,
        description="Registered outlines are grown by this much before matching, to absorb "
        "geolocation error. Raising it can make a new structure next to a registered one look known.",
    )
    use_heights: bool = Field(
        default=True,
        description="Project candidates onto the roof plane of registered buildings with height_m (right "
        "positions for rooftop additions seen obliquely).",
    )
    scaffold_reach_m: float = Field(
        default=4.0,
        ge=0,
        le=20,
        description="A scaffold within this distance outside a registered building's wall is projected "
        "onto that building's roof plane (scaffolds rise to about roof height); 0 projects scaffolds on the "
        "ground.",
    )
    search_radius_m: float = Field(
        default=5000.0,
        gt=0,
        le=100_000,
        description="Registered structures further than this from a flight's first "
        "position are not considered for that flight.",
    )


class ConstructionConfig(BaseModel):
    """Illegal-construction detection on drone footage: candidates, ground projection, sites, registry."""

    model_config = ConfigDict(extra="forbid")

    analysis_fps: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="Frames analysed per second of flight. At 10 m/s and 100 m altitude "
        "1 fps sees each structure in ~8 frames per pass; raising it costs CPU for little gain.",
    )
    model: str | None = Field(
        default=None,
        description="Name of a construction model in `models:` (classes mapped by model_classes); empty "
        "runs only the weights-free blue-roof cue.",
    )
    tiled: bool = Field(
        default=True,
        description="Run the model through tiled inference on full-resolution frames (small roofs in 4K "
        "frames) instead of the shared full-frame batcher.",
    )
    tiling: TilingConfig = Field(
        default_factory=TilingConfig,
        description="Tiles of the tiled inference (size, overlap, merge of boxes cut by tile edges).",
    )
    min_model_confidence: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Model detections below this confidence are ignored. Lowering it finds "
        "more structures and more false ones.",
    )
    model_classes: dict[str, StructureKind] = Field(
        default_factory=default_model_classes,
        description="Model class name -> structure kind; classes not listed are ignored.",
    )
    top_height_m: dict[StructureKind, float] = Field(
        default_factory=default_top_heights,
        description="Height of a candidate's visible top above what it stands on, per kind (a shed's roof is "
        "~2.5 m up). Candidates are projected onto that plane, so oblique views place them right; kinds "
        "not listed use 0.",
    )
    max_candidate_off_nadir_deg: float = Field(
        default=50.0,
        gt=0,
        le=89,
        description="Candidates seen further than this from straight down are ignored: their ground position "
        "depends on their unknown height (error = height x tan(angle)). Raising it keeps far oblique views.",
    )
    min_area_m2: float = Field(
        default=4.0,
        ge=0,
        le=100_000,
        description="Model candidates smaller than this on the ground are ignored.",
    )
    max_area_m2: float = Field(
        default=50_000.0,
        gt=0,
        le=10_000_000,
        description="Model candidates larger than this on the ground are ignored.",
    )
    drone_model: str = Field(
        default="generic",
        min_length=1,
        description="Key into drone_models for this flight's camera (set per source).",
    )
    drone_models: dict[str, DroneCameraSpec] = Field(
        default_factory=default_drone_models,
        description="Camera of each drone model: physical focal and sensor width, or a 35 mm-equivalent focal.",
    )
    geometry: DroneGeometryConfig = Field(
        default_factory=DroneGeometryConfig,
        description="Ground projection, frame gates and telemetry errors.",
    )
    calibration: SelfCalibrationConfig = Field(
        default_factory=SelfCalibrationConfig,
        description="Self-calibration of the focal and gimbal offsets from each flight's own footage.",
    )
    cue: BlueRoofCueConfig = Field(default_factory=BlueRoofCueConfig, description="Blue colour-steel roof cue.")
    sites: SiteMergeConfig = Field(default_factory=SiteMergeConfig, description="Site merging and alerting.")
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Known/permitted structures.")
    coverage_cell_m: float = Field(
        default=2.0,
        gt=0,
        le=100,
        description="Grid cell of the covered-ground outline in the flight summary.",
    )
    survey: SurveyConfig = Field(
        default_factory=SurveyConfig,
        description="Change between surveys: a mosaic per flight, compared with the previous survey of the "
        "same ground (weights-free; off by default).",
    )

    @model_validator(mode="after")
    def _known_drone(self) -> ConstructionConfig:
        if self.drone_model not in self.drone_models:
            known = ", ".join(sorted(self.drone_models))
            raise ValueError(f"drone_model '{self.drone_model}' is not in drone_models (known: {known})")
        if self.min_area_m2 >= self.max_area_m2:
            raise ValueError("min_area_m2 must be below max_area_m2")
        return self

    @property
    def camera(self) -> DroneCameraSpec:
        return self.drone_models[self.drone_model]
