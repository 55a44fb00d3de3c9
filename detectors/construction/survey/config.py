"""Configuration of change detection between surveys (`detectors.construction.survey`).

Off by default: a flight then costs nothing extra. On, every flight builds a georeferenced mosaic,
keeps it in the evidence store, compares it with the previous survey of the same ground and alerts on
new structures. Descriptions say what raising or lowering a value does.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AlignmentConfig(BaseModel):
    """How frames are tied to each other and to the previous survey by image features (ORB)."""

    model_config = ConfigDict(extra="forbid")

    features_per_frame: int = Field(
        default=1500,
        ge=100,
        le=20_000,
        description="ORB features detected per keyframe. Raising it ties frames more firmly over bland ground "
        "and costs CPU.",
    )
    match_ratio: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Lowe's ratio test: a match is kept when its best distance is below this share of the "
        "second best. Raising it keeps more (and more wrong) matches for RANSAC to sort out.",
    )
    min_inliers: int = Field(
        default=15,
        ge=4,
        le=10_000,
        description="Matches agreeing on one transform needed to tie two frames (or a frame and the previous "
        "mosaic). Lowering it ties frames over bland ground and risks a wrong tie.",
    )
    ransac_threshold_m: float = Field(
        default=0.75,
        gt=0,
        le=20,
        description="Ground distance within which a match agrees with a transform. Raising it tolerates "
        "parallax of tall buildings and admits wrong matches.",
    )
    position_prior_m: float = Field(
        default=3.0,
        gt=0,
        le=100,
        description="How far telemetry may place a keyframe from where the features put it (1 sigma). Raising "
        "it lets features move frames further; lowering it trusts GNSS more.",
    )
    rotation_prior_deg: float = Field(
        default=3.0, gt=0, le=45, description="Yaw error telemetry may have (1 sigma) before features correct it."
    )
    scale_prior: float = Field(
        default=0.03,
        gt=0,
        le=0.5,
        description="Relative scale error (altitude, focal) telemetry may have (1 sigma).",
    )
    max_frame_disagreement_m: float = Field(
        default=6.0,
        ge=0,
        le=100,
        description="A keyframe that features move further than this from where telemetry and the flight's "
        "common correction put it is taken as wrongly tied and placed by telemetry (moved by that common "
        "correction): GNSS errs by one offset for a whole flight, not by metres for one frame. Tuning flights "
        "measured at most 3.4 m. Lowering it distrusts good ties; raising it (0: off) lets one wrong tie shift "
        "a keyframe and make a seam of false change.",
    )
    register_to_previous: bool = Field(
        default=True,
        description="Tie each keyframe to the previous survey's mosaic, so both line up pixel for pixel. Off, "
        "the mosaic rests on telemetry alone and GNSS offsets between days become false changes.",
    )


class ChangeConfig(BaseModel):
    """How two co-registered mosaics are compared and which differences are new structures."""

    model_config = ConfigDict(extra="forbid")

    cell_m: float = Field(
        default=0.25,
        gt=0,
        le=5,
        description="Ground cell of the comparison (the mosaics are averaged down to it; at most the mosaic's "
        "resolution). Raising it is faster, and lets parked cars side by side blur into one wide change.",
    )
    colour_clusters: int = Field(
        default=8,
        ge=1,
        le=32,
        description="Surface classes of the earlier mosaic whose colour change is fitted separately "
        "(lighting, exposure and season change each class differently). Raising it explains more change away.",
    )
    threshold: float = Field(
        default=4.0,
        gt=0,
        le=100,
        description="Change score (in robust standard deviations of the whole comparison) a cell must reach "
        "to count as changed. Raising it misses faint structures; lowering it admits lighting and season.",
    )
    min_area_m2: float = Field(
        default=25.0,
        ge=1,
        le=100_000,
        description="Smallest changed area alerted (of it, the part unlike the ground around: min_contrast). "
        "Structures from about 30 m2 are the target (their roofs measure 28-38 m2 here); a car is 8-10 m2 and two "
        "or three parked side by side measure 10-23 m2. Lowering it alerts on parked cars.",
    )
    max_area_m2: float = Field(
        default=20_000.0,
        gt=0,
        le=10_000_000,
        description="Largest changed area alerted; larger ones are most likely a failed registration.",
    )
    min_width_m: float = Field(
        default=2.5,
        ge=0,
        le=50,
        description="Changed areas thinner than this everywhere are dropped: slivers along building edges "
        "where roofs lean differently in the two surveys, lines of moved cars. Raising it also drops narrow "
        "structures.",
    )
    min_contrast: float = Field(
        default=12.0,
        ge=0,
        le=255,
        description="Colour distance (CIELAB) from every main colour of the unchanged ground around a change "
        "below which a part of it is taken for ground, not a thing (a car gone, the gaps between parked cars, "
        "a shadow gone). A change needs min_area_m2 of thing, min_width_m wide. Raising it drops faint "
        "structures (soil on earth, a grey roof on concrete); lowering it lets rows of cars through.",
    )
    ground_hue_max_deg: float = Field(
        default=25.0,
        ge=0,
        le=180,
        description="A part of a change within min_contrast of a coloured ground around it (or as that ground in "
        "shade) is still a thing when its CIELAB hue angle is this far or more from the ground's: shade and "
        "season darken grass but keep its hue; a teal dust net in tree shade on a lawn is 26-35 degrees off the "
        "shaded grass. Lowering it keeps more ground-coloured parts as things (more false changes); 0 turns "
        "the hue test off.",
    )
    vehicle_group_max_m2: float = Field(
        default=80.0,
        ge=0,
        le=1000,
        description="Changes smaller than this that are dense with edges (vehicle_edge_density), of many "
        "colours (vehicle_colour_spread) and on grey ground (vehicle_ground_chroma_max) in the later survey are "
        "taken for cars parked side by side and not alerted (groups of cars measure 25-72 m2). Raising it can "
        "drop scaffolds on paved yards; lowering it (0: off) alerts on rows of parked cars.",
    )
    vehicle_rows_max_m2: float = Field(
        default=200.0,
        ge=0,
        le=2000,
        description="Busy changes on grey ground (as for vehicle_group_max_m2) from vehicle_group_max_m2 up to "
        "this are still taken for cars when no piece of them unlike the ground is larger than "
        "vehicle_piece_max_m2: two rows of cars across an aisle merge into one change of 80-110 m2. Raising it "
        "can drop larger busy structures on paved yards; at or below vehicle_group_max_m2 the rule is off.",
    )
    vehicle_piece_max_m2: float = Field(
        default=40.0,
        ge=0,
        le=1000,
        description="Largest piece unlike the surrounding ground (a car, or a few touching) of a change up to "
        "vehicle_rows_max_m2 for it to be taken for cars (pieces of parked cars 22-31 m2; roofs and scaffold "
        "decks are one piece of 70 m2 and up). Raising it takes more busy changes for cars.",
    )
    vehicle_edge_density: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Share of a small change's interior on a strong edge from which it can be cars (car groups "
        "0.31-0.71; plain or ribbed roofs up to 0.30 with little colour spread). Lowering it takes more small "
        "changes for cars.",
    )
    vehicle_colour_spread: float = Field(
        default=15.0,
        ge=0,
        le=200,
        description="Robust CIELAB colour spread of a small change from which it can be cars (car groups "
        "19.6-47.3; plain roofs, soil and dust nets 3-12). Lowering it takes more small changes for cars.",
    )
    vehicle_ground_chroma_max: float = Field(
        default=10.0,
        ge=0,
        le=150,
        description="CIELAB chroma of the unchanged ground around a small change up to which it can be cars "
        "(pavement measured 1.8-7.4; grass and earth 10.7 up). Raising it takes busy changes on coloured "
        "ground (a dug patch under tree shadows) for cars.",
    )
    revealed_max_score: float = Field(
        default=10.0,
        ge=0,
        le=1000,
        description="A change whose mean score is under this, nearly all of it (revealed_ground_share) the colour "
        "of ground right around it, that stood out from its surroundings in the earlier survey "
        "(revealed_before_contrast) is ground revealed where something went away (a car, a shadow, a wet patch, "
        "a roof edge leaning differently) and not alerted. Those measured 5.4-8.9; new structures that met the "
        "other two conditions scored 11.3 (a scaffold, seed 112) and 17.2. Raising it drops more changes that "
        "look like the ground beside them; 0 turns the rule off.",
    )
    revealed_ground_share: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Share of a faint change that must have the colour (within min_contrast) of some unchanged "
        "ground around it for it to be revealed ground (revealed ground 0.95-1.00; new structures scoring under "
        "12: two dust nets 0.96-0.99, kept by revealed_before_contrast, a scaffold, kept by revealed_max_score, "
        "others up to 0.81). Lowering it drops "
        "more faint structures.",
    )
    revealed_before_contrast: float = Field(
        default=6.0,
        ge=0,
        le=255,
        description="CIELAB contrast with its surroundings the spot must have had in the earlier survey for a "
        "faint ground-coloured change to be revealed ground (revealed ground 9.3-24.3; a new roof on plain "
        "ground about 0-4). Lowering it drops faint roofs the colour of the ground they were built on.",
    )
    lattice_close_m: float = Field(
        default=0.75,
        ge=0,
        le=5,
        description="Gap between changed lines closed when looking for scaffold decks seen only as their tube "
        "lattice (decks the colour of the ground under them); what is then min_width_m wide is proposed when it "
        "is a compact, new, regular lattice (lattice_fill_min, lattice_period_min). Tubes stand 1-2 m apart, "
        "so closing 0.75 m joins the changed cells either side of each gap. 0 turns the proposal off; raising "
        "it proposes more busy areas (car parks) for the checks to reject.",
    )
    lattice_fill_min: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="Share of its minimum-area rectangle a proposed lattice deck must fill (scaffold decks "
        "proposed on development seeds 41-52, 61-88, 91-114 and 127-138: 0.85-0.96; the 15 busy areas there with "
        "a new even lattice that were no structure: 0.52-0.79; a deck taken with the holes its closing left, dev "
        "seed 72: 0.81). Lowering it proposes ragged areas.",
    )
    lattice_period_min: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Normalised autocorrelation, at a spacing of 1-3 m, of the lines across a proposed lattice "
        "deck (lattice.line_period, strong edges such as shadows and netting left out): tubes stand at a fixed "
        "pitch (scaffold decks on development seeds 61, 62, 67, 69, 72, 75, 84, 87, 91, 95, 100, 105, 110, 115, "
        "120 and 125: 0.60-0.84; the three of them missed at c6ed88b measured 0.00-0.49 there), cars and "
        "their shadows do not (the 60 other parts there with an even lattice: 0.00-0.28; lines at random "
        "spacings of 0.5-3.75 m: up to 0.41). Lowering it proposes irregular busy areas; raising it misses decks.",
    )
    max_relief_height_m: float = Field(
        default=25.0,
        ge=0,
        le=300,
        description="Height of the tallest things whose lean may differ between the two surveys. A later "
        "pixel is matched against the earlier mosaic along its lean direction up to the shift this height "
        "gives (around registered structures with a height when the registry has any; elsewhere only as far as a 3 m "
        "thing leans). Raising it tolerates taller buildings and can hide a new structure beside a similar one.",
    )
    border_m: float = Field(
        default=10.0,
        ge=0,
        le=200,
        description="Ground within this distance of the edge of the two surveys' overlap is not judged: the "
        "outer strip of a flight is seen most obliquely (at 100 m, the last 10 m of a 144 m wide swath lie beyond "
        "32 degrees), where buildings lean most and are cut by the frame edge. Ground left out beside a tall "
        "registered building keeps no such strip. Lowering it compares more ground with more false changes at "
        "the edges.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ChangeConfig:
        if self.min_area_m2 >= self.max_area_m2:
            raise ValueError("min_area_m2 must be below max_area_m2")
        return self


class SurveyConfig(BaseModel):
    """Change between surveys: mosaics from each flight, compared with the previous survey of the ground."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=False,
        description="Build a mosaic of every flight, keep it in the evidence store and alert on new structures "
        "since the previous survey. Costs memory for the keyframes during the flight and CPU at its end.",
    )
    resolution_m: float = Field(
        default=0.25,
        ge=0.02,
        le=2,
        description="Ground size of a mosaic pixel. 0.25 m shows a 30 m2 shed as ~480 pixels; halving it "
        "quadruples storage and CPU.",
    )
    lattice_snap_deg: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="The reference latitude of the district's pixel lattice is snapped to this, so every "
        "flight over a district uses the same lattice (mosaics then compare without resampling).",
    )
    keyframe_step: float = Field(
        default=0.3,
        gt=0.02,
        le=0.9,
        description="A frame becomes a keyframe once the view has moved this share of the frame's ground "
        "height since the last one. Lowering it keeps more overlapping frames (memory, CPU, steadier mosaic).",
    )
    max_off_nadir_deg: float = Field(
        default=20.0,
        ge=0,
        le=60,
        description="Frames looking further than this from straight down are left out of the mosaic (their "
        "roofs lean far and ground pixels are large).",
    )
    max_keyframes: int = Field(
        default=3000,
        ge=2,
        le=100_000,
        description="Keyframes kept per flight (each about 0.2-1 MB at the mosaic resolution); later frames "
        "are dropped with a warning. A guard for memory, not a tuning knob.",
    )
    compare_with: Literal["latest", "baseline"] = Field(
        default="latest",
        description="latest: the newest earlier mosaics covering the ground; baseline: only the survey named "
        "in baseline_survey_id (a district's base map).",
    )
    baseline_survey_id: str | None = Field(
        default=None, description="The survey every flight is compared with when compare_with is baseline."
    )
    max_previous_age_days: float = Field(
        default=1100.0,
        gt=0,
        le=36_500,
        description="Earlier mosaics older than this are not compared with.",
    )
    store_prefix: str = Field(
        default="surveys",
        pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$",
        description="Key prefix of mosaics, change crops and survey summaries in the evidence store.",
    )
    crop_margin_m: float = Field(
        default=10.0,
        ge=0,
        le=200,
        description="Ground shown around a change in its before/after crops.",
    )
    alignment: AlignmentConfig = Field(default_factory=AlignmentConfig, description="Feature alignment.")
    change: ChangeConfig = Field(default_factory=ChangeConfig, description="Comparison of the two mosaics.")

    @model_validator(mode="after")
    def _baseline(self) -> SurveyConfig:
        if self.compare_with == "baseline" and not self.baseline_survey_id:
            raise ValueError("compare_with: baseline needs baseline_survey_id")
        return self
