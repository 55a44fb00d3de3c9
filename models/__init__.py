"""Inference runtime: Ultralytics ONNX detect models, cross-camera dynamic batching, exact post-processing.

Entry points (import the module you need; this package imports nothing eagerly):

- `models.runtime.load_model(ModelConfig) -> YoloModel`; `YoloModel.predict(images) -> list[Detections]`
- `models.batcher.DynamicBatcher(model, BatcherConfig)`: `start()`, `submit(camera_id, image)`, `stop()`
- `models.tiling.predict_tiled(model, image, tile_px, overlap_ratio)` for large drone frames
- `models.export.export_onnx`, `models.inspect.inspect_model`, `models.quantize.quantize_int8` (CLI)
- `models.config`: ModelConfig, BatcherConfig, TilingConfig (the config sections)
"""
