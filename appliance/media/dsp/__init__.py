"""Telephony DSP over numpy int16 arrays at 8 kHz (the media engine's toolbox).

Pure functions and streaming detectors; every detector takes frames of shape
``(channels, 160)`` (one 20 ms tick for N channels) so it runs vectorised
across all channels. See docs/media.md for the API.
"""

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160
