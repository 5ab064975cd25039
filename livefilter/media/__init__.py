"""Media at rest, with PyAV: what both the live view (recordings) and the batch grading (videos) read and write.

probe.py: one pass over a video's packets (frame count, keyframes, the chunk plan: ``probe`` -> ``VideoInfo``);
codec.py: ``decode`` (RGB frames out) and ``ChunkEncoder`` (H.264 packets out, ``EncodeSettings``; x264 held
below AVX-512 where the CPU has it); yuv.py: the RGB -> I420 pass the encoder uses; mux.py: ``Muxer`` (the graded
video and the source's other streams into one container) and ``StreamCopier`` (those other streams, packet by
packet); stages.py: ``run_stages`` (a chain of threads with bounded queues); memory.py: ``steady_memory`` (glibc's
mmap threshold for long runs of large frames).
"""
