"""The captcha's digits read aloud, disguised so that the shipped clips do not find them.

The recorded digits (`captcha_sounds/<language>/<digit>.wav`) are in the repository, so a
script can slide each clip along a recording and read the digits where it matches best
(normalised cross-correlation). Strung together as recorded, they were all found, every
time (`tests/security/test_item06_audio_captcha_resists_correlation.py`). So no clip is
ever emitted as it is stored; on each request, for each digit:

- its speed changes (pitch and tempo together, by resampling): 4 to 8 % faster or
  slower, and wobbling around that by two slow random sines, a few times a second —
  never more than `MAX_SPEED_CHANGE` from the recording, and a template stretched at any
  one rate drifts off it;
- its phase is scrambled (an all-pass filter: a random smooth phase across frequencies,
  applied by FFT): the same spectrum, which is most of what the ear uses, but another
  waveform, which is what a correlation compares; every frequency is delayed by at most
  `MAX_GROUP_DELAY_SECONDS` (6.4 ms), far shorter than an echo;
- its loudness varies, and the gap to the next digit too, down to a short overlap.

Under the digits and between them runs a babble of fragments of the clips of the same
voice, reversed or at another speed, and a coloured noise: templates also find the
fragments, and no silence marks where the digits are. The levels
keep every digit at least `MIN_DIGIT_SNR_DB` above everything else during it, and a
listener who knows the voice still finds every digit (`tests/portal/test_spoken_digits.py`;
docs/security.md, *Audio captcha*, which also says what this does not stop). A recording
takes a few milliseconds (numpy).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import secrets
import string
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
from django.core.exceptions import ImproperlyConfigured

Signal = npt.NDArray[np.float64]

# Per-digit clips recorded by captcha_sounds/make_sounds.py: package data, never static
# files (served one by one under their names, they would give the answer away).
SOUNDS_DIR = Path(__file__).resolve().parent / "captcha_sounds"
SPOKEN_LANGUAGES = ("fr", "de", "en")
SAMPLE_RATE = 8000

# Each digit's speed (1 = as recorded): 1 ± SPEED_CHANGE, times 1 + two sines of depths
# WOBBLE_DEPTHS and frequencies WOBBLE_HZ. In all, within MAX_SPEED_CHANGE.
SPEED_CHANGE = (0.04, 0.08)
WOBBLE_DEPTHS = ((0.03, 0.045), (0.01, 0.02))
WOBBLE_HZ = (2.0, 6.0)
MAX_SPEED_CHANGE = 0.15
# The phase scrambling: a random walk of the phase every PHASE_STEP_HZ (steps of
# PHASE_STEP_RADIANS standard deviation, cut at MAX_PHASE_STEP_RADIANS), linear between.
# A step of φ over PHASE_STEP_HZ delays those frequencies by φ / (2π × PHASE_STEP_HZ).
PHASE_STEP_HZ = 50.0
PHASE_STEP_RADIANS = 2.0
MAX_PHASE_STEP_RADIANS = 2.0
MAX_GROUP_DELAY_SECONDS = MAX_PHASE_STEP_RADIANS / (2 * np.pi * PHASE_STEP_HZ)  # 6.4 ms
# Silence added on both sides of a digit before the (circular) phase scrambling: room for
# its delays, twice the largest.
GROUP_DELAY_MARGIN = int(2 * MAX_GROUP_DELAY_SECONDS * SAMPLE_RATE) + 1  # samples
GAIN = (0.8, 1.0)
# Silences in seconds; a negative gap overlaps the next digit with the end of this one,
# by at most MAX_OVERLAP of the shorter of the two.
LEAD_IN_SECONDS = (0.3, 0.6)
GAP_SECONDS = (-0.08, 0.45)
MAX_OVERLAP = 0.2
OVERLAP_MARGIN_DB = 6.0  # an overlap must leave each digit this much above MIN_DIGIT_SNR_DB
TAIL_SECONDS = (0.2, 0.4)
# The shortest recording: one whose digits came out quick (French, short gaps) has the
# missing time shared among its pauses, so that no challenge is heard rushed.
SHORTEST_SECONDS = 3.2
# The babble: fragments (FRAGMENT of a clip) of random digits of the same voice, reversed
# or at another speed, one after another with overlaps, BABBLE_DB under the voice.
FRAGMENT = (0.4, 0.8)
FRAGMENT_SPEED = (0.75, 1.3)
FRAGMENT_STEP = (0.3, 0.7)  # of the fragment's length: where the next one starts
BABBLE_DB = 15.0
# The coloured noise: white noise through a one-pole low-pass (a hiss with more rumble),
# NOISE_DB under the voice.
NOISE_POLE = 0.9
NOISE_DB = 20.0
# What every digit keeps over all the rest during it (babble, noise, a neighbour's end):
# where the levels above would not, the background dips under the digit.
MIN_DIGIT_SNR_DB = 10.0
FADE_SECONDS = 0.03
PEAK = 32000  # the loudest sample of a recording, of 32767


@functools.cache
def digit_clips(language: str) -> dict[str, Signal]:
    """The ten recorded digits of `language`, as samples (-32768…32767), read-only."""
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
            frames = clip.readframes(clip.getnframes())
        samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
        samples.flags.writeable = False
        clips[digit] = samples
    return clips


@dataclasses.dataclass(frozen=True)
class SpokenDigit:
    """One digit as it is mixed into a recording, from sample `start` on."""

    digit: str
    start: int
    samples: Signal
    speeds: Signal  # the speed at each output sample (1 = as recorded)
    phase: Signal  # the phase added to each frequency of `samples` (rfft bins)

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


@dataclasses.dataclass(frozen=True)
class Recording:
    """A captcha read aloud: its digits and background, and their mix scaled to `PEAK`."""

    digits: list[SpokenDigit]
    background: Signal  # babble and noise, at the digits' scale
    samples: npt.NDArray[np.int16]

    def wav(self) -> bytes:
        """The recording as a WAV file, 8 kHz mono 16-bit."""
        output = io.BytesIO()
        with wave.open(output, "wb") as recording:
            recording.setnchannels(1)
            recording.setsampwidth(2)
            recording.setframerate(SAMPLE_RATE)
            recording.writeframes(self.samples.astype("<i2").tobytes())
        return output.getvalue()


def resampled(clip: Signal, speeds: Signal) -> Signal:
    """`clip` read at `speeds[n]` input samples per output sample n (linear interpolation)."""
    positions = np.concatenate([[0.0], np.cumsum(speeds)])
    positions = positions[positions <= len(clip) - 1]
    samples: Signal = np.interp(positions, np.arange(len(clip)), clip)
    return samples


def speed_curve(length: int, rng: np.random.Generator) -> Signal:
    """A digit's speed at each of `length` output samples: a random shift and two wobbles."""
    times = np.arange(length) / SAMPLE_RATE
    wobble = sum(
        rng.uniform(*depths)
        * np.sin(2 * np.pi * rng.uniform(*WOBBLE_HZ) * times + rng.uniform(0, 2 * np.pi))
        for depths in WOBBLE_DEPTHS
    )
    speeds: Signal = np.clip(
        (1 + rng.choice((-1, 1)) * rng.uniform(*SPEED_CHANGE)) * (1 + wobble),
        1 - MAX_SPEED_CHANGE,
        1 + MAX_SPEED_CHANGE,
    )
    return speeds


def scrambled_phase(size: int, rng: np.random.Generator) -> Signal:
    """A random smooth phase for the `size // 2 + 1` frequencies of an rfft of `size`."""
    knots = int(np.ceil(SAMPLE_RATE / 2 / PHASE_STEP_HZ)) + 1
    steps = np.clip(
        rng.normal(0, PHASE_STEP_RADIANS, knots - 1),
        -MAX_PHASE_STEP_RADIANS,
        MAX_PHASE_STEP_RADIANS,
    )
    walk = np.concatenate([[0.0], np.cumsum(steps)])
    frequencies = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    phase: Signal = np.interp(frequencies, np.arange(knots) * PHASE_STEP_HZ, walk)
    phase[0] = phase[-1] = 0.0  # the constant and the highest frequency stay real
    return phase


def fast_size(length: int) -> int:
    """The smallest power of two from `length` on: a quick FFT size."""
    return 1 << max(length - 1, 0).bit_length()


def all_passed(samples: Signal, phase: Signal) -> Signal:
    """`samples` with `phase` added to each frequency of an rfft of `fast_size(len(samples))`.

    The filter is circular: `samples` needs silence at both ends for the delays.
    """
    size = fast_size(len(samples))
    return np.fft.irfft(np.fft.rfft(samples, size) * np.exp(1j * phase), size)[: len(samples)]


def disguised_digit(digit: str, clip: Signal, rng: np.random.Generator) -> SpokenDigit:
    """`clip` at a wobbling speed, phase-scrambled, at a random gain (`start` 0)."""
    speeds = speed_curve(int(len(clip) / (1 - MAX_SPEED_CHANGE)) + 2, rng)
    warped = resampled(clip, speeds)
    padded = np.concatenate([np.zeros(GROUP_DELAY_MARGIN), warped, np.zeros(GROUP_DELAY_MARGIN)])
    phase = scrambled_phase(fast_size(len(padded)), rng)
    samples = all_passed(padded, phase) * rng.uniform(*GAIN)
    return SpokenDigit(digit, 0, samples, speeds[: len(warped)], phase)


def babble(clips: dict[str, Signal], length: int, rng: np.random.Generator) -> Signal:
    """`length` samples of fragments of the clips, reversed or at another speed, overlapping."""
    track = np.zeros(length)
    start = -int(rng.uniform(0, 0.2) * SAMPLE_RATE)
    while start < length:
        clip = clips[string.digits[rng.integers(10)]]
        size = int(len(clip) * rng.uniform(*FRAGMENT))
        offset = int(rng.integers(len(clip) - size + 1))
        fragment = clip[offset : offset + size]
        if rng.random() < 0.5:
            fragment = fragment[::-1]
        else:
            fragment = resampled(fragment, np.full(size * 2, rng.uniform(*FRAGMENT_SPEED)))
        first, end = max(start, 0), min(start + len(fragment), length)
        if end > first:
            track[first:end] += rng.uniform(0.5, 1.0) * fragment[first - start : end - start]
        start += max(1, int(len(fragment) * rng.uniform(*FRAGMENT_STEP)))
    return track


def coloured_noise(length: int, rng: np.random.Generator) -> Signal:
    """`length` samples of white noise through a one-pole low-pass filter, plus some white.

    Made in the frequency domain: random spectrum × the filter's response, one FFT.
    """
    size = fast_size(length)
    spectrum = rng.normal(0, 1, size // 2 + 1) + 1j * rng.normal(0, 1, size // 2 + 1)
    frequencies = np.fft.rfftfreq(size)  # cycles per sample
    response = 1 / (1 - NOISE_POLE * np.exp(-2j * np.pi * frequencies)) + 3.0
    return np.fft.irfft(spectrum * response, size)[:length]


def rms(samples: Signal) -> float:
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def at_level(samples: Signal, level: float) -> Signal:
    return samples * (level / max(rms(samples), 1e-9))


def energy(samples: Signal) -> float:
    return float(np.dot(samples, samples))


def next_start(previous: SpokenDigit, spoken: SpokenDigit, rng: np.random.Generator) -> int:
    """Where `spoken` starts after `previous`: a random gap, or a short overlap.

    An overlap is kept only where each digit is far louder than the part of the other it
    meets (their quiet ends): otherwise the digits simply follow each other.
    """
    gap = int(rng.uniform(*GAP_SECONDS) * SAMPLE_RATE)
    overlap = min(-gap, int(MAX_OVERLAP * min(len(previous.samples), len(spoken.samples))))
    if overlap <= 0:
        return previous.end + gap
    clear = 10 ** ((MIN_DIGIT_SNR_DB + OVERLAP_MARGIN_DB) / 10)
    tail, head = previous.samples[-overlap:], spoken.samples[:overlap]
    if energy(previous.samples) >= clear * energy(head) and energy(
        spoken.samples
    ) >= clear * energy(tail):
        return previous.end - overlap
    return previous.end


def others_during(spoken: SpokenDigit, digits: list[SpokenDigit]) -> Signal:
    """The other digits' samples while `spoken` plays (their overlaps), else zeros."""
    others = np.zeros(len(spoken.samples))
    for other in digits:
        first, last = max(other.start, spoken.start), min(other.end, spoken.end)
        if other is not spoken and first < last:
            others[first - spoken.start : last - spoken.start] += other.samples[
                first - other.start : last - other.start
            ]
    return others


def clearing(background: Signal, digits: list[SpokenDigit]) -> Signal:
    """`background`, lowered under any digit that it covers by less than MIN_DIGIT_SNR_DB.

    Where babble fragments pile up under a quiet digit; the dip fades in and out over
    FADE_SECONDS, and is deep enough with OVERLAP_MARGIN_DB to spare.
    """
    target = 10 ** ((MIN_DIGIT_SNR_DB + OVERLAP_MARGIN_DB / 2) / 10)
    fade = int(FADE_SECONDS * SAMPLE_RATE)
    gains = np.ones(len(background))
    for spoken in digits:
        window = background[spoken.start : spoken.end]
        noise = energy(window + others_during(spoken, digits))
        if energy(spoken.samples) >= target * noise:
            continue
        room = energy(spoken.samples) / target - energy(others_during(spoken, digits))
        gain = float(np.sqrt(max(room, 0.0) / max(energy(window), 1e-9)))
        dip = np.ones(len(background))
        dip[spoken.start : spoken.end] = gain
        ramp = np.linspace(1.0, gain, fade, endpoint=False)
        first = max(spoken.start - fade, 0)
        dip[first : spoken.start] = ramp[fade - (spoken.start - first) :]
        last = min(spoken.end + fade, len(background))
        dip[spoken.end : last] = ramp[::-1][: last - spoken.end]
        gains = np.minimum(gains, dip)
    return background * gains


def spread_out(digits: list[SpokenDigit], tail: int) -> list[SpokenDigit]:
    """`digits`, their pauses lengthened alike so that with `tail` the recording lasts
    SHORTEST_SECONDS at least (a later start only widens a gap: every digit stays as clear).
    A single digit is left as it is (its tail is the caller's)."""
    missing = int(SHORTEST_SECONDS * SAMPLE_RATE) - (digits[-1].end + tail) if digits else 0
    if missing <= 0 or len(digits) < 2:
        return digits
    pauses = len(digits) - 1
    return [
        dataclasses.replace(spoken, start=spoken.start + missing * index // pauses)
        for index, spoken in enumerate(digits)
    ]


def spoken_recording(
    challenge: str, language: str | None, rng: np.random.Generator | None = None
) -> Recording:
    """The digits of `challenge` said in `language`, disguised (see the module's docstring).

    French when the language is not one the portal speaks. `rng` makes every random
    choice: seeded from the system's randomness, unless a test gives a seeded one.
    """
    rng = rng or np.random.default_rng(secrets.randbits(128))
    language = (language or "").split("-")[0]
    clips = digit_clips(language if language in SPOKEN_LANGUAGES else SPOKEN_LANGUAGES[0])
    digits: list[SpokenDigit] = []
    start = int(rng.uniform(*LEAD_IN_SECONDS) * SAMPLE_RATE)
    for digit in challenge:
        spoken = disguised_digit(digit, clips[digit], rng)
        if digits:
            start = next_start(digits[-1], spoken, rng)
        digits.append(dataclasses.replace(spoken, start=start))
    tail = int(rng.uniform(*TAIL_SECONDS) * SAMPLE_RATE)
    digits = spread_out(digits, tail)
    length = digits[-1].end + tail if digits else start
    voice_level = rms(np.concatenate([spoken.samples for spoken in digits] or [np.zeros(0)]))
    background = at_level(babble(clips, length, rng), voice_level * 10 ** (-BABBLE_DB / 20))
    background += at_level(coloured_noise(length, rng), voice_level * 10 ** (-NOISE_DB / 20))
    background = clearing(background, digits)
    mix = background.copy()
    for spoken in digits:
        mix[spoken.start : spoken.end] += spoken.samples
    factor = PEAK / max(float(np.abs(mix).max(initial=0.0)), 1.0)
    return Recording(digits, background, np.round(mix * factor).astype(np.int16))


def spoken_challenge(
    challenge: str, language: str | None, rng: np.random.Generator | None = None
) -> bytes:
    """A WAV file (8 kHz mono 16-bit) saying the digits of `challenge` in `language`."""
    return spoken_recording(challenge, language, rng).wav()
