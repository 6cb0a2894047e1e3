"""Playback: the built-in synthesizer, song rendering, WAV export, SoundFont rendering and the player.

Everything here is Qt-free. `render` turns a Song (or one clip) into float32 stereo at 44.1 kHz,
`player` streams that audio to a sound card (or to a silent clock when there is none) from a
buffer that a render thread fills ahead of time. See docs/audio.md.
"""

SAMPLE_RATE = 44100
