"""A headless baresip (Debian's ``baresip``) as an agent's SIP phone on the rig.

The phone registers its extension with the appliance's Kamailio by digest
(RFC 3261 §22), answers every call at once (``answermode=auto``; or rings until told,
``auto_answer=False``), speaks a sine
tone (the ``ausine`` source) so the far end can tell by frequency who it hears,
and records what it hears into a WAV file per call (the ``sndfile`` filter), which
:meth:`BaresipPhone.heard` measures. ``ctrl_tcp`` takes commands (``hangup``) as
netstring-framed JSON. Nothing here is the appliance's code: it is the far end.
"""

from __future__ import annotations

import json
import socket
import subprocess
import wave
from pathlib import Path

import numpy as np

MODULES = ("g711", "ausine", "aubridge", "sndfile")
APP_MODULES = ("account", "menu", "ctrl_tcp")  # menu: the commands ctrl_tcp runs


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_sip_port() -> int:
    """A port free for baresip's whole listen set: UDP and TCP on the port and SIP/TLS on
    the port + 1 (baresip 1.0 binds all three and exits 98, EADDRINUSE, if one is taken)."""
    for _ in range(50):
        port = free_port()
        try:
            for kind, number in ((socket.SOCK_DGRAM, port), (socket.SOCK_STREAM, port),
                                 (socket.SOCK_STREAM, port + 1)):
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind(("127.0.0.1", number))
        except OSError:
            continue
        return port
    raise RuntimeError("no port with its neighbour free on 127.0.0.1 after 50 tries")


class BaresipPhone:
    """One baresip process registered as ``extension`` at Kamailio on ``edge_port``."""

    def __init__(self, folder: Path, extension: str, password: str, edge_port: int, *,
                 tone_hz: int = 1000, domain: str = "appliance.local",
                 auto_answer: bool = True) -> None:
        self.folder = folder
        self.extension = extension
        self.recordings = folder / "heard"
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        folder.mkdir(parents=True, exist_ok=True)
        self.recordings.mkdir(exist_ok=True)
        modules = "\n".join(f"module {name}.so" for name in MODULES)
        apps = "\n".join(f"module_app {name}.so" for name in APP_MODULES)
        # ausine makes 48 kHz stereo only; baresip resamples it to the call's 8 kHz G.711
        (folder / "config").write_text(f"""poll_method epoll
sip_listen 127.0.0.1:{free_sip_port()}
audio_source ausine,{tone_hz}
ausrc_srate 48000
ausrc_channels 2
audio_player aubridge,nil
audio_alert aubridge,nil
module_path /usr/lib/baresip/modules
{modules}
{apps}
snd_path {self.recordings}
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
""", encoding="utf-8")
        (folder / "accounts").write_text(
            f'<sip:{extension}@{domain}>;auth_pass={password};'
            f'outbound="sip:127.0.0.1:{edge_port}";'
            f'answermode={"auto" if auto_answer else "manual"};regint=300\n',
            encoding="utf-8")
        self.log = folder / "baresip.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def argv(self) -> list[str]:
        """The phone's command line (for a supervisor that starts it itself)."""
        return ["baresip", "-f", str(self.folder)]

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.argv, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def command(self, command: str, params: str = "") -> None:
        """A ``ctrl_tcp`` command (``hangup``, ``dial``...), netstring-framed JSON."""
        body = json.dumps({"command": command, "params": params, "token": "rig"}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5) as conn:
            conn.sendall(str(len(body)).encode() + b":" + body + b",")
            conn.recv(4096)

    def calls_heard(self) -> list[Path]:
        """The WAV files of what the phone heard, one per call, oldest first."""
        return sorted(self.recordings.glob("dump-*-dec.wav"))

    def heard(self, hz: float, seconds: float = 1.0) -> float:
        """The best share of energy within ±20 Hz of ``hz`` over any ``seconds`` of what the
        phone heard on its last call (baresip writes the file out when the call ends)."""
        files = self.calls_heard()
        if not files:
            return 0.0
        with wave.open(str(files[-1])) as recording:
            rate, channels = recording.getframerate(), recording.getnchannels()
            data = recording.readframes(recording.getnframes())
        audio = np.frombuffer(data, np.int16).astype(np.float64)
        audio = audio[: audio.size // channels * channels].reshape(-1, channels).mean(axis=1)
        span = int(seconds * rate)
        if audio.size < span:
            return 0.0
        windows = audio[: audio.size // span * span].reshape(-1, span)
        spectrum = np.abs(np.fft.rfft(windows, axis=1)) ** 2
        freqs = np.fft.rfftfreq(span, 1 / rate)
        shares = spectrum[:, np.abs(freqs - hz) <= 20].sum(axis=1) / \
            np.maximum(spectrum.sum(axis=1), 1e-9)
        return float(shares.max())
