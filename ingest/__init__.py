"""Ingest: camera streams, drone videos and files turned into `Frame`s, and nothing else.

- `config`: `SourceConfig` (one camera's `source:`), `IngestConfig` (the root `ingest:` section).
- `sources.open_frame_source`: all cameras of a node, as threads (`CameraGroup`) or worker processes
  (`pool.IngestPool`), delivering `Frame`s to a non-blocking sink (e.g. `queues.PerCameraQueues.sink`).
- `reader.CameraReader`: one camera in a thread: decode, sample, stall watchdog, reconnect forever
  (with `mainstream.MainStreamRecorder` for clips of a sub-streamed camera, `failurelog` for quiet retries).
- `files.iter_file_frames`: a file's frames pulled by the caller (replay, benchmarks, accuracy tests).
- `sampling.PtsSampler`: the one frame sampler (by pts), used by the decoder and by each detector's gate.
- `srt`: DJI `.SRT` telemetry, `TelemetryTrack.pose_at(t_s)` (the layouts are parsed in `srt_layouts`).
- `clips`: the per-camera packet ring behind evidence clips (`CameraClipWriter.write_clip`).
- `credentials.mask_url`: what may be shown of a camera URL.

This package imports nothing of ours but `foundation.errors` (and the shared types in `ingest.frame`).
"""
