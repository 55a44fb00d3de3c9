"""The /metrics reader of the pipeline benchmark: samples, label matching, histogram percentiles."""

from __future__ import annotations

import pytest

from benchmarks.promtext import bucket_delta, parse, quantile

TEXT = """
# HELP gridwatch_camera_frames_analysed_total Frames handed to the camera's detectors.
# TYPE gridwatch_camera_frames_analysed_total counter
gridwatch_camera_frames_analysed_total{camera_id="a"} 10.0
gridwatch_camera_frames_analysed_total{camera_id="b"} 5.0
gridwatch_camera_frames_dropped_total{camera_id="a",reason="analysis_lag"} 2.0
gridwatch_camera_frames_dropped_total{camera_id="a",reason="model_stale"} 1.0
gridwatch_frame_to_event_seconds_bucket{le="0.1"} 2.0
gridwatch_frame_to_event_seconds_bucket{le="0.5"} 6.0
gridwatch_frame_to_event_seconds_bucket{le="+Inf"} 10.0
gridwatch_frame_to_event_seconds_sum 9.5
gridwatch_frame_to_event_seconds_count 10.0
"""


def test_samples_are_found_by_name_and_labels() -> None:
    s = parse(TEXT)
    assert s.get("gridwatch_camera_frames_analysed_total", camera_id="b") == 5.0
    assert s.total("gridwatch_camera_frames_analysed_total") == 15.0
    assert s.total("gridwatch_camera_frames_dropped_total", camera_id="a") == 3.0
    assert s.get("gridwatch_camera_frames_analysed_total", camera_id="zz") == 0.0


def test_histogram_quantiles_interpolate_inside_a_bucket() -> None:
    b = parse(TEXT).buckets("gridwatch_frame_to_event_seconds")
    assert b[-1] == (float("inf"), 10.0)
    assert quantile(0.1, b) == pytest.approx(0.05)   # 1 of 2 in (0, 0.1]
    assert quantile(0.4, b) == pytest.approx(0.3)    # 2 of 4 in (0.1, 0.5]
    assert quantile(0.99, b) == pytest.approx(0.5)   # in +Inf: the highest finite bound


def test_deltas_between_scrapes_and_empty_histograms() -> None:
    before = [(0.1, 1.0), (0.5, 1.0), (float("inf"), 1.0)]
    after = [(0.1, 1.0), (0.5, 4.0), (float("inf"), 4.0)]
    delta = bucket_delta(after, before)
    assert delta == [(0.1, 0.0), (0.5, 3.0), (float("inf"), 3.0)]
    assert quantile(0.5, delta) == pytest.approx(0.3)
    assert quantile(0.5, bucket_delta(before, before)) is None
