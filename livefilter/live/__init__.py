"""Devices and threads of the live view: sources.py (camera, file, synthetic), capture.py (the latest-frame capture
worker), sinks.py (virtual camera, file, callback), window.py (the preview window) and pipeline.py (LivePipeline:
the lifecycle and the render loop)."""
