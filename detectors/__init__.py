"""Detectors: frames (and model detections) in, `detectors.event.Event`s out, one folder per detector.

Each detector folder holds its config model, its detector (`detectors.base.Detector`) and its typed event
details (`events.py`, a subclass of `detectors.event.EventDetails`) that the alerts package reads. How a
detector is wired into the service is its registration in `gridwatch/registered/`.
"""
