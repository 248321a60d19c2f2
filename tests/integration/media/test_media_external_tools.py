"""The media DSP against tools nobody here wrote: sox, multimon-ng, minimodem, espeak-ng.

Caller ID is proven on the implementation the analog ports use
(``appliance.signalling.analog``: ``callerid_tx`` sends it on FXS ports, the
``FskCallerIdReceiver`` of ``receivers`` hears it on FXO ports).
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.config.sections.media import BUILTIN_TONE_PLANS
from appliance.media.dsp.cpt import CallProgressDetector, CptProfile
from appliance.media.dsp.dtmf import (
    DIGITS,
    DtmfDetector,
    detect_digits,
    digit_frequencies,
    dtmf_generate,
)
from appliance.media.dsp.fsk import BELL202, fsk_discriminate, uart_decode
from appliance.media.engine import MediaEngine
from appliance.media.events import DtmfDigit, MediaEvent
from appliance.media.prompts import PromptError, load_prompt
from appliance.signalling.analog.callerid import CallerId, build_mdmf, build_sdmf, parse_fsk
from appliance.signalling.analog.callerid_tx import fsk_burst
from appliance.signalling.analog.listen import CallerIdBurst
from appliance.signalling.analog.receivers import MODEMS, FskCallerIdReceiver

pytestmark = pytest.mark.integration

CID = CallerId(number="01062345678", name="ZHANG SAN", datetime="11231015")


def heard_callerid(samples: np.ndarray, standard: str) -> CallerId:
    """What an FXO port's receiver makes of ``samples``."""
    heard = FskCallerIdReceiver(MODEMS[standard]).decode(samples)
    assert isinstance(heard, CallerIdBurst), heard
    return parse_fsk(heard.message)


def run(cmd: list[str], stdin: bytes | None = None) -> bytes:
    return subprocess.run(cmd, input=stdin, capture_output=True, check=True, timeout=60).stdout


def read_8k(path: Path) -> np.ndarray:
    """Any audio file as 8 kHz mono int16, converted by sox."""
    raw = run(
        ["sox", str(path), "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "-"]
    )
    return np.frombuffer(raw, np.int16)


def write_8k(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.astype(np.int16).tobytes())
    return path


def to_22050_raw(path: Path) -> bytes:
    return run(
        ["sox", str(path), "-t", "raw", "-r", "22050", "-e", "signed", "-b", "16", "-c", "1", "-"]
    )


def test_sox_generated_dtmf_digits_are_detected(tmp_path: Path) -> None:
    parts = []
    for i, digit in enumerate(DIGITS):
        low, high = digit_frequencies(digit)
        part = tmp_path / f"d{i}.wav"
        run(
            [
                "sox",
                "-n",
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                str(part),
                "synth",
                "0.06",
                "sine",
                str(low),
                "sine",
                str(high),
                "gain",
                "-14",
                "channels",
                "1",
                "pad",
                "0.05",
                "0.06",
            ]
        )
        parts.append(str(part))
    joined = tmp_path / "all.wav"
    run(["sox", *parts, str(joined)])
    assert detect_digits(read_8k(joined)) == DIGITS


def test_engine_dtmf_through_the_tick_is_decoded_by_multimon_ng(tmp_path: Path) -> None:
    engine = MediaEngine(4)
    line = engine.register("line", law="alaw")
    # what a channel's player produces is what its far end hears
    engine.play_samples(line, dtmf_generate("0123456789*#ABCD", on_ms=60, off_ms=60, lead_ms=100))
    sent = []
    for _ in range(110):
        engine.tick()
        sent.append(line.read_output())  # A-law octets on the wire
    alaw = tmp_path / "line.al"
    alaw.write_bytes(np.concatenate(sent).tobytes())
    pcm = run(
        [
            "sox",
            "-t",
            "al",
            "-r",
            "8000",
            "-c",
            "1",
            str(alaw),
            "-t",
            "raw",
            "-r",
            "22050",
            "-e",
            "signed",
            "-b",
            "16",
            "-c",
            "1",
            "-",
        ]
    )
    out = run(["multimon-ng", "-t", "raw", "-a", "DTMF", "-q", "-"], stdin=pcm).decode()
    heard = "".join(
        line.split(":")[1].strip() for line in out.splitlines() if line.startswith("DTMF:")
    )
    assert heard == "0123456789*#ABCD"


def test_minimodem_bell202_text_is_decoded_by_the_engine(tmp_path: Path) -> None:
    text = b"CALLER 01062345678 the quick brown fox\n"
    wav = tmp_path / "tx.wav"
    run(["minimodem", "--tx", "1200", "-R", "48000", "-f", str(wav)], stdin=text)
    samples = read_8k(wav)
    chars = uart_decode(fsk_discriminate(samples, BELL202), BELL202)
    assert bytes(c.value for c in chars) == text


@pytest.mark.parametrize("fmt", ["mdmf", "sdmf"])
def test_fxs_bell202_caller_id_is_decoded_by_minimodem(tmp_path: Path, fmt: str) -> None:
    burst = fsk_burst(build_mdmf(CID) if fmt == "mdmf" else build_sdmf(CID), "bell202")
    wav = write_8k(tmp_path / "cid.wav", np.concatenate([np.zeros(800), burst, np.zeros(800)]))
    out = run(["minimodem", "--rx", "callerid", "-q", "-R", "8000", "-f", str(wav)]).decode()
    assert "Phone: 01062345678" in out and "Time:  11/23 10:15" in out
    if fmt == "mdmf":
        assert "Name:  ZHANG SAN" in out


def test_fxs_v23_clip_is_decoded_by_multimon_ng_clipfsk(tmp_path: Path) -> None:
    burst = fsk_burst(build_mdmf(CID), "v23")
    wav = write_8k(tmp_path / "clip.wav", np.concatenate([np.zeros(800), burst, np.zeros(800)]))
    out = run(["multimon-ng", "-t", "raw", "-a", "CLIPFSK", "-q", "-"], stdin=to_22050_raw(wav))
    assert "CLIPFSK: CS DATE=11231015 CID=01062345678 CNT=ZHANG SAN" in out.decode()


def test_caller_id_survives_a_sox_round_trip_through_a_law_and_resampling(tmp_path: Path) -> None:
    wav = write_8k(tmp_path / "cid.wav", fsk_burst(build_mdmf(CID), "v23"))
    coded = tmp_path / "cid-alaw-16k.wav"
    run(["sox", str(wav), "-e", "a-law", "-r", "16000", str(coded)])
    assert heard_callerid(read_8k(coded), "v23") == CID


def test_minimodem_callerid_burst_is_heard_by_the_fxo_receiver(tmp_path: Path) -> None:
    """The other direction: a burst nobody here modulated, Bell 202 framed as GR-30 asks."""
    message = build_mdmf(CID)
    wav = tmp_path / "tx.wav"
    # minimodem sends raw 8N1 characters after a mark lead-in (GR-30 §3.1.2 mark signal)
    run(["minimodem", "--tx", "1200", "-R", "48000", "-f", str(wav)], stdin=message)
    samples = np.concatenate([np.zeros(800, np.int16), read_8k(wav), np.zeros(800, np.int16)])
    assert heard_callerid(samples, "bell202") == CID


def _cpt_events(samples: np.ndarray, profile: CptProfile) -> list[str]:
    detector = CallProgressDetector(1, profile)
    n = len(samples) // 160 * 160
    return [e.tone for f in samples[:n].reshape(-1, 160) for e in detector.process(f[None, :])]


def test_sox_busy_tones_and_fax_tones_are_recognised(tmp_path: Path) -> None:
    busy = tmp_path / "busy.wav"
    # CN busy: 450 Hz 350 ms on / 350 ms off, five cycles, made by sox
    run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(busy),
            "synth",
            "0.35",
            "sine",
            "450",
            "gain",
            "-20",
            "pad",
            "0",
            "0.35",
            "repeat",
            "4",
        ]
    )
    assert _cpt_events(read_8k(busy), CptProfile()) == ["busy"]
    us_reorder = tmp_path / "reorder.wav"
    run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(us_reorder),
            "synth",
            "0.25",
            "sine",
            "480",
            "sine",
            "620",
            "gain",
            "-20",
            "channels",
            "1",
            "pad",
            "0",
            "0.25",
            "repeat",
            "7",
        ]
    )
    us = CptProfile(tone_hz=(480.0, 620.0), busy_ms=(500, 500), reorder_ms=(250, 250))
    assert _cpt_events(read_8k(us_reorder), us) == ["reorder"]
    cng, ced = tmp_path / "cng.wav", tmp_path / "ced.wav"
    run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(cng),
            "synth",
            "0.5",
            "sine",
            "1100",
            "gain",
            "-12",
            "pad",
            "0",
            "3",
        ]
    )
    run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(ced),
            "synth",
            "3",
            "sine",
            "2100",
            "gain",
            "-12",
        ]
    )
    assert _cpt_events(read_8k(cng), CptProfile()) == ["cng"]
    assert _cpt_events(read_8k(ced), CptProfile()) == ["ced"]


def test_engine_tone_plan_busy_is_recognised_by_our_detector_and_sox_measures_it(
    tmp_path: Path,
) -> None:
    engine = MediaEngine(2, tones=BUILTIN_TONE_PLANS["cn"].tones())
    line = engine.register("line")
    engine.play_tone(line, "busy")
    out = []
    for _ in range(150):
        engine.tick()
        out.append(line.read_output())
    samples = np.concatenate(out)
    assert _cpt_events(samples, CptProfile()) == ["busy"]
    wav = write_8k(tmp_path / "busy.wav", samples[:2800])  # the first 350 ms burst
    stats = subprocess.run(
        ["sox", str(wav), "-n", "stat", "-freq"], capture_output=True, check=True, text=True
    ).stderr
    rough = [line for line in stats.splitlines() if line.startswith("Rough   frequency")]
    assert rough and abs(int(rough[0].split()[-1]) - 450) < 15


def test_talk_off_on_espeak_ng_speech(tmp_path: Path) -> None:
    text = (
        "Thank you for calling customer service. Your account number is one two three four "
        "five six seven eight nine zero. Press one for sales, two for support, or hold. "
        "你好，欢迎致电客户服务中心，请按一号键。 Whistling, singing and laughing loudly."
    )
    clips = []
    for voice in ("en", "en-us", "cmn", "de"):
        for pitch in ("20", "80"):
            wav = tmp_path / f"{voice}-{pitch}.wav"
            run(["espeak-ng", "-v", voice, "-p", pitch, "-s", "150", "-w", str(wav), text])
            clips.append(read_8k(wav))
    length = max(len(c) for c in clips) // 160 * 160 + 160
    speech = np.zeros((len(clips), length), np.int16)
    for i, clip in enumerate(clips):
        speech[i, : len(clip)] = clip
    detector = DtmfDetector(len(clips))
    false_digits = []
    for t in range(length // 160):
        false_digits.extend(detector.process(speech[:, t * 160 : (t + 1) * 160]))
    assert false_digits == []
    # and digits mixed into the same speech (at -6 dB of talk) are still found
    digits = dtmf_generate("159#", on_ms=80, off_ms=200, lead_ms=500)
    talk = speech[0, : len(digits)].astype(np.int32) // 2
    assert detect_digits(np.clip(talk + digits, -32768, 32767).astype(np.int16)) == "159#"


def test_sox_dtmf_into_a_live_engine_channel_becomes_events(tmp_path: Path) -> None:
    wav = tmp_path / "seven.wav"
    low, high = digit_frequencies("7")
    run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(wav),
            "synth",
            "0.08",
            "sine",
            str(low),
            "sine",
            str(high),
            "gain",
            "-20",
            "channels",
            "1",
            "pad",
            "0.1",
            "0.1",
        ]
    )
    events: list[MediaEvent] = []
    engine = MediaEngine(2, on_event=events.append)
    caller = engine.register("caller", law="ulaw")
    engine.enable_dtmf(caller)
    coded = run(["sox", str(wav), "-t", "ul", "-"])
    frames = np.frombuffer(coded, np.uint8)
    for t in range(len(frames) // 160):
        caller.write_input(frames[t * 160 : (t + 1) * 160])
        engine.tick()
    assert [(e.digit) for e in events if isinstance(e, DtmfDigit)] == ["7"]


@pytest.mark.parametrize(
    ("options", "converted"),
    [
        (["-r", "8000", "-c", "1", "-e", "a-law"], False),
        (["-r", "8000", "-c", "1", "-e", "u-law"], False),
        (["-r", "8000", "-c", "1", "-b", "16"], False),
        (["-r", "16000", "-c", "2", "-b", "24"], True),
        (["-r", "44100", "-c", "1", "-e", "floating-point", "-b", "32"], True),
        (["-r", "11025", "-c", "1", "-b", "8", "-e", "unsigned"], True),
    ],
)
def test_sox_made_prompts_load_as_8k_mono(
    tmp_path: Path, options: list[str], converted: bool
) -> None:
    wav = tmp_path / "prompt.wav"
    run(["sox", "-n", *options, str(wav), "synth", "1", "sine", "1000", "gain", "-6"])
    prompt = load_prompt(wav)
    assert prompt.converted is converted
    assert abs(len(prompt.samples) - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(prompt.samples[800:7200].astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / 6400 - 1000) <= 2
    assert np.abs(prompt.samples[800:7200]).max() == pytest.approx(16384, rel=0.05)


def test_sox_adpcm_prompt_is_refused_with_the_fix(tmp_path: Path) -> None:
    wav = tmp_path / "adpcm.wav"
    run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "ima-adpcm",
            str(wav),
            "synth",
            "1",
            "sine",
            "440",
        ]
    )
    with pytest.raises(PromptError, match="IMA ADPCM cannot be converted; convert it with: sox"):
        load_prompt(wav)
