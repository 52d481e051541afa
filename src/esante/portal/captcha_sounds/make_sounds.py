"""Records the spoken digits of the captcha's audio alternative, once; the clips are committed.

One clip per digit and language: `fr/0.wav` … `en/9.wav` next to this script, spoken by
espeak-ng, silences trimmed, resampled to 8 kHz mono 16-bit (telephone quality, a few
kilobytes each) and normalised. `esante.portal.spoken_digits` strings the clips of a
challenge together on every request, each disguised (speed, phase, gain) over a babble
and a noise, so that no clip is ever emitted as it is stored. The clips
are package data, never static files: served one by one under their names, they would
let a bot read the audio challenge from the URLs alone.

The committed clips were made on Debian 12 with espeak-ng 1.51, from the project root::

    apt-get install -y espeak-ng
    .venv/bin/python src/esante/portal/captcha_sounds/make_sounds.py

Run it again after changing a voice, the speed or the format; it overwrites the clips.
"""

from __future__ import annotations

import array
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

SOUNDS_DIR = Path(__file__).resolve().parent
# espeak-ng's voice for each language of the portal.
VOICES = {"fr": "fr", "de": "de", "en": "en-gb"}
WORDS_PER_MINUTE = 140  # a little slower than espeak-ng's 175: digits said one by one
RATE = 8000
PEAK = 0.8 * 32767  # normalised peak, leaving room for the noise mixed in at runtime
SILENCE = 0.02  # of the clip's peak: quieter samples at either end are trimmed
MARGIN_SECONDS = 0.02
FADE_SECONDS = 0.005
SINC_HALF_WIDTH = 32  # taps on each side of the low-pass resampling filter


def speak(espeak: str, voice: str, text: str) -> tuple[array.array[int], int]:
    """espeak-ng's recording of `text`: 16-bit mono samples and their rate."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spoken.wav"
        subprocess.run(  # noqa: S603 (arguments from the tables above, no shell)
            [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(path), text],
            check=True,
        )
        with wave.open(str(path), "rb") as recording:
            if (recording.getnchannels(), recording.getsampwidth()) != (1, 2):
                sys.exit(f"espeak-ng wrote {recording.getparams()}: expected mono 16-bit.")
            samples = array.array("h", recording.readframes(recording.getnframes()))
            return samples, recording.getframerate()


def trimmed(samples: array.array[int], rate: int) -> list[float]:
    threshold = SILENCE * max(abs(sample) for sample in samples)
    loud = [index for index, sample in enumerate(samples) if abs(sample) > threshold]
    margin = int(MARGIN_SECONDS * rate)
    start, end = max(loud[0] - margin, 0), min(loud[-1] + margin + 1, len(samples))
    return [float(sample) for sample in samples[start:end]]


def resampled(samples: list[float], rate: int, new_rate: int) -> list[float]:
    """Windowed-sinc resampling, with the low-pass below the new Nyquist frequency."""
    ratio = new_rate / rate
    cutoff = 0.9 * min(ratio, 1.0)  # in cycles per input sample × 2
    output = []
    for index in range(int(len(samples) * ratio)):
        centre = index / ratio
        first = max(math.floor(centre) - SINC_HALF_WIDTH, 0)
        last = min(math.floor(centre) + SINC_HALF_WIDTH, len(samples) - 1)
        total = 0.0
        for tap in range(first, last + 1):
            offset = centre - tap
            x = math.pi * cutoff * offset
            sinc = 1.0 if x == 0 else math.sin(x) / x
            window = 0.5 + 0.5 * math.cos(math.pi * offset / (SINC_HALF_WIDTH + 1))
            total += samples[tap] * cutoff * sinc * window
        output.append(total)
    return output


def normalised(samples: list[float], rate: int) -> array.array[int]:
    gain = PEAK / max(abs(sample) for sample in samples)
    fade = int(FADE_SECONDS * rate)
    result = array.array("h")
    for index, sample in enumerate(samples):
        ramp = min(1.0, index / fade, (len(samples) - 1 - index) / fade)
        result.append(round(sample * gain * ramp))
    return result


def record_digit(espeak: str, voice: str, digit: str, path: Path) -> None:
    samples, rate = speak(espeak, voice, digit)
    clip = normalised(resampled(trimmed(samples, rate), rate, RATE), RATE)
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(RATE)
        output.writeframes(clip.tobytes())


def main() -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is missing: apt-get install -y espeak-ng")
    for language, voice in VOICES.items():
        (SOUNDS_DIR / language).mkdir(exist_ok=True)
        for digit in "0123456789":
            path = SOUNDS_DIR / language / f"{digit}.wav"
            record_digit(espeak, voice, digit, path)
            print(f"{path.relative_to(SOUNDS_DIR)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
