"""The captcha's digits read aloud, disguised so that the shipped clips do not find them.

The recorded digits (`captcha_sounds/<language>/<digit>.wav`) are in the repository, so a
script can slide each clip along a recording and read the digits where it matches best
(normalised cross-correlation). Strung together as recorded, they were all found, every
time (`tests/security/test_item06_audio_captcha_resists_correlation.py`). So no clip is
ever emitted as it is stored; on each request, for each digit:

- its speed changes (pitch and tempo together, by resampling): 6 to 11 % faster or
  slower, and wobbling by 2 to 4 % more around that, a few times a second — never more
  than 15 % from the recording, and a template stretched at any one rate drifts off it;
- its phase is scrambled by a chain of random all-pass filters: the same spectrum (what
  the ear hears, give or take a few milliseconds of smearing), another waveform (what a
  correlation compares);
- its loudness varies, and the gap to the next digit too, down to a short overlap.

Under the digits, and between them, runs a babble of fragments of the other clips of the
same voice, reversed or pitched, and a coloured noise: a template matches a fragment
about as well as a digit, and no silence marks where the digits are. The levels keep
every digit at least `MIN_DIGIT_SNR_DB` above everything else during it (checked by
`tests/portal/test_spoken_digits.py`, which also checks that a listener who knows the
voice finds every digit). Generation is pure Python and takes a few tens of milliseconds.
"""

from __future__ import annotations

import array
import functools
import io
import itertools
import math
import operator
import random
import secrets
import string
import sys
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Per-digit clips recorded by captcha_sounds/make_sounds.py: package data, never static
# files (served one by one under their names, they would give the answer away).
SOUNDS_DIR = Path(__file__).resolve().parent / "captcha_sounds"
SPOKEN_LANGUAGES = ("fr", "de", "en")
SAMPLE_RATE = 8000

# Each digit's speed (1 = as recorded): 1 ± SPEED_CHANGE, then ± WOBBLE_DEPTH more,
# WOBBLE_HZ times a second. The sum stays within ±15 %.
SPEED_CHANGE = (0.06, 0.11)
WOBBLE_DEPTH = (0.02, 0.04)
WOBBLE_HZ = (2.0, 4.0)
# Second-order all-pass sections per digit: pole radius and frequency (Hz). The radius
# keeps each section's ringing under ~3 ms, too short to hear as an echo.
ALL_PASS_SECTIONS = 3
ALL_PASS_RADIUS = (0.6, 0.85)
ALL_PASS_HZ = (200.0, 3400.0)
GAIN = (0.75, 1.0)
# Silences in seconds; a negative gap overlaps the next digit with the end of this one,
# by at most MAX_OVERLAP of the shorter of the two.
LEAD_IN_SECONDS = (0.3, 0.6)
GAP_SECONDS = (-0.08, 0.45)
MAX_OVERLAP = 0.2
TAIL_SECONDS = (0.2, 0.4)
# The babble: fragments (FRAGMENT of a clip) of random digits of the same voice, reversed
# or sped up or down, one after another with overlaps, at BABBLE_DB under the voice.
FRAGMENT = (0.4, 0.8)
FRAGMENT_SPEED = (0.75, 1.3)
FRAGMENT_STEP = (0.3, 0.7)  # of the fragment's length: where the next one starts
BABBLE_DB = 15.0
# The coloured noise: white noise through a one-pole low-pass (a hiss with more rumble),
# at NOISE_DB under the voice.
NOISE_POLE = 0.9
NOISE_DB = 20.0
# What the levels above guarantee, each digit against all the rest during it.
MIN_DIGIT_SNR_DB = 10.0
PEAK = 32000  # the loudest sample of a recording, of 32767


@functools.cache
def digit_clips(language: str) -> dict[str, array.array[int]]:
    """The ten recorded digits of `language`, as 16-bit samples."""
    clips = {}
    for digit in string.digits:
        path = SOUNDS_DIR / language / f"{digit}.wav"
        with wave.open(str(path), "rb") as clip:
            if (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) != (
                1,
                2,
                SAMPLE_RATE,
            ):
                raise ImproperlyConfigured(f"{path}: expected {SAMPLE_RATE} Hz mono 16-bit.")
            samples = array.array("h", clip.readframes(clip.getnframes()))
        if sys.byteorder == "big":
            samples.byteswap()  # WAV samples are little-endian
        clips[digit] = samples
    return clips


@dataclass(frozen=True)
class SpokenDigit:
    """One digit as it is mixed into a recording, from sample `start` on."""

    digit: str
    start: int
    samples: list[float]
    mean_speed: float


@dataclass(frozen=True)
class Recording:
    """A captcha read aloud: the digits and the background, before the final scaling."""

    digits: list[SpokenDigit]
    background: list[float]  # babble and noise
    samples: array.array[int]  # the mix, scaled to PEAK

    def wav(self) -> bytes:
        """The recording as a WAV file, 8 kHz mono 16-bit."""
        samples = array.array("h", self.samples)
        if sys.byteorder == "big":
            samples.byteswap()
        output = io.BytesIO()
        with wave.open(output, "wb") as recording:
            recording.setnchannels(1)
            recording.setsampwidth(2)
            recording.setframerate(SAMPLE_RATE)
            recording.writeframes(samples.tobytes())
        return output.getvalue()


def resampled(
    clip: Sequence[float], speed: float, depth: float = 0.0, hz: float = 0.0, phase: float = 0.0
) -> list[float]:
    """`clip` played at `speed` (× (1 + `depth` × a sine of `hz`)), by linear interpolation."""
    step = 2 * math.pi * hz / SAMPLE_RATE
    last = len(clip) - 1
    output = []
    position = 0.0
    index = 0
    while position < last:
        whole = int(position)
        before = clip[whole]
        output.append(before + (position - whole) * (clip[whole + 1] - before))
        position += speed * (1.0 + depth * math.sin(phase + step * index))
        index += 1
    return output


def all_passed(samples: list[float], radius: float, hz: float) -> list[float]:
    """`samples` through a second-order all-pass filter: same spectrum, shifted phases."""
    c = 2 * radius * math.cos(2 * math.pi * hz / SAMPLE_RATE)
    r2 = radius * radius
    x1 = x2 = y1 = y2 = 0.0
    output = []
    for x in samples:
        y = r2 * x - c * x1 + x2 + c * y1 - r2 * y2
        output.append(y)
        x2, x1, y2, y1 = x1, x, y1, y
    return output


def disguised_digit(clip: Sequence[int], chance: random.Random) -> tuple[list[float], float]:
    """One clip at a random speed, wobbling, phase-scrambled, at a random gain."""
    speed = 1.0 + chance.choice((-1, 1)) * chance.uniform(*SPEED_CHANGE)
    samples = resampled(
        clip,
        speed,
        chance.uniform(*WOBBLE_DEPTH),
        chance.uniform(*WOBBLE_HZ),
        chance.uniform(0, 2 * math.pi),
    )
    for _ in range(ALL_PASS_SECTIONS):
        samples = all_passed(
            samples, chance.uniform(*ALL_PASS_RADIUS), chance.uniform(*ALL_PASS_HZ)
        )
    gain = chance.uniform(*GAIN)
    return [sample * gain for sample in samples], speed


def rms(samples: Sequence[float]) -> float:
    return math.sqrt(math.fsum(map(operator.mul, samples, samples)) / max(len(samples), 1))


def scaled_to(samples: list[float], level: float) -> list[float]:
    factor = level / max(rms(samples), 1e-9)
    return [sample * factor for sample in samples]


def babble(clips: dict[str, array.array[int]], length: int, chance: random.Random) -> list[float]:
    """`length` samples of fragments of the clips, reversed or at another speed, overlapping."""
    track = [0.0] * length
    start = -round(chance.uniform(0, 0.2) * SAMPLE_RATE)
    while start < length:
        clip = clips[chance.choice(string.digits)]
        size = round(len(clip) * chance.uniform(*FRAGMENT))
        offset = chance.randrange(len(clip) - size + 1)
        fragment: Sequence[float] = clip[offset : offset + size]
        if chance.random() < 0.5:
            fragment = fragment[::-1]
        else:
            fragment = resampled(fragment, chance.uniform(*FRAGMENT_SPEED))
        gain = chance.uniform(0.5, 1.0)
        first = max(start, 0)
        end = min(start + len(fragment), length)
        if end > first:
            track[first:end] = [
                mixed + gain * sample
                for mixed, sample in zip(
                    track[first:end], fragment[first - start : end - start], strict=True
                )
            ]
        start += max(1, round(len(fragment) * chance.uniform(*FRAGMENT_STEP)))
    return track


def coloured_noise(length: int, chance: random.Random) -> list[float]:
    """`length` samples of white noise through a one-pole low-pass filter, plus some white."""
    white = array.array("b", chance.randbytes(length))
    pole = NOISE_POLE
    low = itertools.accumulate(white, lambda previous, grain: pole * previous + grain)
    return [rumble + 3.0 * grain for rumble, grain in zip(low, white, strict=True)]


def spoken_recording(
    challenge: str, language: str | None, chance: random.Random | None = None
) -> Recording:
    """The digits of `challenge` said in `language`, disguised (see the module's docstring).

    French when the language is not one the portal speaks. `chance` is the source of every
    random choice: the system's, unless a test gives a seeded one.
    """
    chance = chance or secrets.SystemRandom()
    language = (language or "").split("-")[0]
    clips = digit_clips(language if language in SPOKEN_LANGUAGES else SPOKEN_LANGUAGES[0])
    digits: list[SpokenDigit] = []
    start = round(chance.uniform(*LEAD_IN_SECONDS) * SAMPLE_RATE)
    for digit in challenge:
        samples, speed = disguised_digit(clips[digit], chance)
        if digits:
            previous = digits[-1]
            gap = round(chance.uniform(*GAP_SECONDS) * SAMPLE_RATE)
            overlap = round(MAX_OVERLAP * min(len(previous.samples), len(samples)))
            start = previous.start + len(previous.samples) + max(gap, -overlap)
        digits.append(SpokenDigit(digit, start, samples, speed))
        start += len(samples)
    length = start + round(chance.uniform(*TAIL_SECONDS) * SAMPLE_RATE)
    voice_level = rms([sample for spoken in digits for sample in spoken.samples])
    background = [
        chatter + hiss
        for chatter, hiss in zip(
            scaled_to(babble(clips, length, chance), voice_level * 10 ** (-BABBLE_DB / 20)),
            scaled_to(coloured_noise(length, chance), voice_level * 10 ** (-NOISE_DB / 20)),
            strict=True,
        )
    ]
    mix = list(background)
    for spoken in digits:
        end = spoken.start + len(spoken.samples)
        mix[spoken.start : end] = map(operator.add, mix[spoken.start : end], spoken.samples)
    factor = PEAK / max(max(mix), -min(mix), 1.0)
    return Recording(digits, background, array.array("h", [round(s * factor) for s in mix]))


def spoken_challenge(
    challenge: str, language: str | None, chance: random.Random | None = None
) -> bytes:
    """A WAV file (8 kHz mono 16-bit) saying the digits of `challenge` in `language`."""
    return spoken_recording(challenge, language, chance).wav()
