"""Generator B writes a sky mask only where sky is seen: a facade reaching the top of the picture (the 3 h
soak's seed 2904, IR night) once gave a zero-area polygon that the throw config rightly refused."""

from __future__ import annotations

from benchmarks.scenarios.facade_weather import FacadeWeatherScene
from benchmarks.throw_weather import soak_specs
from detectors.throw.config import ThrowConfig


def test_no_sky_no_mask_and_the_overrides_validate() -> None:
    specs = dict((spec.seed, spec) for _, spec in soak_specs(1.0, 2900))
    no_sky = FacadeWeatherScene(specs[2904])
    assert no_sky.sky_mask() is None
    assert no_sky.detector_overrides()["foreground"]["sky_masks"] == []
    with_sky = FacadeWeatherScene(specs[2900])
    mask = with_sky.sky_mask()
    assert mask is not None and mask[2][1] > 0.0
    for scene in (no_sky, with_sky):
        ThrowConfig.model_validate(scene.detector_overrides())
