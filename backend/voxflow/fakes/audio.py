"""Small, valid audio for the Deepgram fake: silent WAV or MP3 whose length follows the text,
and a duration reader for what the app uploads for transcription."""

from __future__ import annotations

import io
import math
import wave

SPOKEN_CHARACTERS_PER_SECOND = 15.0  # a calm speaking pace, ~150 words a minute
DEFAULT_WAV_SAMPLE_RATE = 24000  # Deepgram's linear16 default
FALLBACK_BYTES_PER_SECOND = 16000  # 128 kbit/s, for formats we don't parse

# One MPEG-1 Layer III frame: 32 kbit/s, 32 kHz, mono, no CRC. An all-zero side info and body
# decodes as silence. 144 * 32000 / 32000 = 144 bytes per frame; 1152 samples = 36 ms.
_MP3_HEADER = bytes([0xFF, 0xFB, 0x18, 0xC4])
_MP3_FRAME = _MP3_HEADER + bytes(144 - len(_MP3_HEADER))
_MP3_FRAME_SECONDS = 1152 / 32000
# Bitrates (kbit/s) by the header's bitrate index, MPEG-1 Layer III.
_MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0)


def speech_seconds(text: str) -> float:
    return max(0.25, len(text) / SPOKEN_CHARACTERS_PER_SECOND)


def silent_mp3(seconds: float) -> bytes:
    return _MP3_FRAME * max(1, math.ceil(seconds / _MP3_FRAME_SECONDS))


def silent_wav(seconds: float, sample_rate: int = DEFAULT_WAV_SAMPLE_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(bytes(2 * round(seconds * sample_rate)))
    return buffer.getvalue()


def duration_seconds(audio: bytes) -> float:
    """Seconds of audio: exact for WAV, from the first frame's bitrate for MPEG-1 Layer III,
    otherwise estimated at 128 kbit/s."""
    if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(audio), "rb") as recording:
                return round(recording.getnframes() / recording.getframerate(), 3)
        except (wave.Error, EOFError, ZeroDivisionError):
            pass
    if len(audio) >= 4 and audio[0] == 0xFF and audio[1] & 0xFE == 0xFA:
        kbps = _MPEG1_L3_KBPS[audio[2] >> 4]
        if kbps:
            return round(len(audio) * 8 / (kbps * 1000), 3)
    return round(len(audio) / FALLBACK_BYTES_PER_SECOND, 3)
