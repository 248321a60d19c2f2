"""The E1 simulator as a hil process (``python -m hil.sim.e1 --name N --run-dir D``).

Sockets: ``D/N.sock`` (+ ``.dchan``, ``.tdm``) for the appliance's
``sim:D/N.sock`` span address, ``D/N.ctl`` for control, ``D/N.pcap`` for
the D-channel capture. Control methods (JSON lines, docs/control-protocol.md):

- ``status``: D-channel, alarms, counters, loopback, calls;
- ``fault``: ``los``/``ais``/``rai`` (bool), ``slips``, ``crc_errors`` (int),
  ``crc_clear``, ``drop_to_appliance``/``drop_from_appliance``/``corrupt`` (int),
  ``restart`` (a B-channel number or ``"all"``);
- ``call``: ``channel``, ``called``, ``calling``, ``restricted``, ``dtmf`` ->
  ``{"call": id}``; ``hangup``: ``call``, ``cause``; ``dtmf``: ``call``, ``digits``
  (the caller keys digits during the call); ``heard``: ``call``, ``hz``, ``seconds``
  (level and tone share of what the caller heard);
- ``route``: ``number``, ``action`` (answer/alert/clear), ``cause``.

Options: ``switchtype`` (default euroisdn_e1), ``node`` (network), ``pcap``
(true), ``tdm`` (true: clock the TDM stream in real time).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from appliance.runtime.control import ControlError, ControlServer
from appliance.signalling.pri.libpri import SWITCH_TYPES
from drivers.span.base import BCHANNELS
from hil.sim.e1 import E1Simulator, Route, SimCall
from hil.sim.guard import RIG_CONTROL
from hil.sim.process import SimulatedDevice

Handler = Callable[[dict[str, Any]], Any]


def _int(params: dict[str, Any], key: str, low: int, high: int, default: int = 0) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ControlError("bad-params", f"{key!r} must be an integer from {low} to {high}")
    return value


class E1Device(SimulatedDevice):
    device = "e1"

    def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
        super().__init__(name, run_dir, options)
        switchtype = str(options.get("switchtype", "euroisdn_e1"))
        if switchtype not in SWITCH_TYPES:
            raise ValueError(
                f"e1 {name}: unknown switchtype {switchtype!r}; known: "
                f"{', '.join(sorted(SWITCH_TYPES))}"
            )
        self.sim = E1Simulator(
            self.path("sock"),
            switchtype=switchtype,
            node=str(options.get("node", "network")),
            pcap=self.path("pcap") if options.get("pcap", True) else None,
        )
        self.clock_tdm = bool(options.get("tdm", True))
        self._calls: dict[int, SimCall] = {}
        self._ids = itertools.count(1)

    def register(self, control: ControlServer) -> None:
        control.register("fault", self._fault, needs=RIG_CONTROL)
        control.register("call", self._call, needs=RIG_CONTROL)
        control.register("hangup", self._hangup, needs=RIG_CONTROL)
        control.register("dtmf", self._dtmf, needs=RIG_CONTROL)
        control.register("heard", self._heard, needs=RIG_CONTROL)
        control.register("talk", self._talk, needs=RIG_CONTROL)
        control.register("route", self._route, needs=RIG_CONTROL)

    async def start(self) -> None:
        await self.sim.start()
        if self.clock_tdm:
            self.sim.start_tdm()

    async def stop(self) -> None:
        await self.sim.close()

    async def _fault(self, params: dict[str, Any]) -> dict[str, Any]:
        sim = self.sim
        for key, setter in (("los", sim.set_los), ("ais", sim.set_ais), ("rai", sim.set_rai)):
            if key in params:
                setter(bool(params[key]))
        if "slips" in params:
            sim.inject_slips(_int(params, "slips", 1, 1000))
        if "crc_errors" in params:
            sim.inject_crc_errors(_int(params, "crc_errors", 1, 100_000))
        if params.get("crc_clear"):
            sim.clear_crc_burst()
        sim.drop_dframes(
            _int(params, "drop_to_appliance", 0, 1000), _int(params, "drop_from_appliance", 0, 1000)
        )
        if "corrupt" in params:
            sim.corrupt_dframes(_int(params, "corrupt", 1, 1000))
        if "restart" in params:
            restart = params["restart"]
            if restart == "all":
                sim.far_end_restart()
            elif restart in BCHANNELS:
                sim.far_end_restart(int(restart))
            else:
                raise ControlError("bad-params", "'restart' must be a B-channel or 'all'")
        return self.status()

    async def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if channel not in BCHANNELS:
            raise ControlError("bad-params", "'channel' must be a B-channel (1-15, 17-31)")
        if not self.sim.dchannel_up:
            raise ControlError("not-ready", "the appliance's D-channel is not up")
        call = self.sim.place_call(
            int(channel),
            str(params.get("called", "")),
            str(params.get("calling", "")),
            bool(params.get("restricted", False)),
        )
        if params.get("dtmf"):
            self.sim.send_dtmf(int(channel), str(params["dtmf"]))
        call_id = next(self._ids)
        self._calls[call_id] = call
        return {"call": call_id}

    async def _dtmf(self, params: dict[str, Any]) -> dict[str, Any]:
        """The caller on ``call`` keys ``digits`` (Q.23 tones on its B-channel)."""
        call = self._calls.get(params.get("call", -1))
        digits = params.get("digits")
        if call is None:
            raise ControlError("not-found", f"no call {params.get('call')!r}")
        if not isinstance(digits, str) or not digits or set(digits) - set("0123456789*#ABCD"):
            raise ControlError("bad-params", "'digits' must be DTMF digits 0-9 * # A-D")
        if call.channel is None:
            raise ControlError("refused", f"call {params['call']} has no B-channel")
        self.sim.send_dtmf(call.channel, digits)
        return {"call": params["call"], "digits": digits}

    async def _talk(self, params: dict[str, Any]) -> dict[str, Any]:
        """The caller on ``call`` speaks: a tone of ``hz`` for ``seconds`` at -10 dBm0, so
        the far end (an agent's phone) can tell by frequency who it hears."""
        call = self._calls.get(params.get("call", -1))
        if call is None or call.channel is None:
            raise ControlError("not-found", f"no call {params.get('call')!r} with a B-channel")
        hz, seconds = params.get("hz", 700), params.get("seconds", 5.0)
        if not isinstance(hz, int | float) or not 50 <= hz <= 3950:
            raise ControlError("bad-params", "'hz' must be from 50 to 3950")
        if not isinstance(seconds, int | float) or not 0.1 <= seconds <= 600:
            raise ControlError("bad-params", "'seconds' must be from 0.1 to 600")
        self.sim.play_tone(call.channel, (float(hz),), float(seconds))
        return {"call": params["call"], "hz": hz, "seconds": seconds}

    async def _heard(self, params: dict[str, Any]) -> dict[str, Any]:
        """What the caller on ``call`` heard in the last ``seconds``: level, and the share of
        the energy within ±20 Hz of ``hz`` (a tone check a test or technician can use)."""
        call = self._calls.get(params.get("call", -1))
        if call is None or call.channel is None:
            raise ControlError("not-found", f"no call {params.get('call')!r} with a B-channel")
        seconds = params.get("seconds", 1.0)
        hz = params.get("hz", 1000)
        if not isinstance(seconds, int | float) or not 0.1 <= seconds <= 30:
            raise ControlError("bad-params", "'seconds' must be from 0.1 to 30")
        if not isinstance(hz, int | float) or not 50 <= hz <= 3950:
            raise ControlError("bad-params", "'hz' must be from 50 to 3950")
        audio = self.sim.heard(call.channel)[-int(seconds * 8000) :].astype(np.float64)
        if audio.size == 0:
            return {"samples": 0, "level_dbm0": None, "share": 0.0}
        spectrum = np.abs(np.fft.rfft(audio)) ** 2
        freqs = np.fft.rfftfreq(audio.size, 1 / 8000)
        total = float(spectrum.sum()) or 1.0
        share = float(spectrum[np.abs(freqs - hz) <= 20].sum()) / total
        rms = float(np.sqrt(np.mean(audio**2)))
        # G.711 §3: a sine of 3.14 dBm0 peaks at full scale (32768 in 16-bit linear)
        level = 20 * np.log10(max(rms, 1e-9) * np.sqrt(2) / 32768) + 3.14
        return {"samples": int(audio.size), "level_dbm0": round(level, 1), "share": round(share, 3)}

    async def _hangup(self, params: dict[str, Any]) -> dict[str, Any]:
        call = self._calls.get(params.get("call", -1))
        if call is None:
            raise ControlError("not-found", f"no call {params.get('call')!r}")
        self.sim.hangup(call, _int(params, "cause", 1, 127, 16))
        return {"call": params["call"]}

    async def _route(self, params: dict[str, Any]) -> dict[str, Any]:
        action = params.get("action", "answer")
        if action not in ("answer", "alert", "clear"):
            raise ControlError("bad-params", "'action' must be answer, alert or clear")
        self.sim.routes[str(params.get("number", ""))] = Route(
            action=action, cause=_int(params, "cause", 1, 127, 16)
        )
        return {"routes": len(self.sim.routes)}

    def status(self) -> dict[str, Any]:
        sim = self.sim
        return {
            "dchannel": "up" if sim.dchannel_up else "down",
            "alarms": sim.alarms.as_dict(),
            "counters": sim.counters.as_dict(),
            "loopback": sim.loopback,
            "calls": {
                str(cid): {"channel": c.channel, "state": c.state, "cause": c.cause}
                for cid, c in self._calls.items()
            },
            # calls the appliance placed out on this line (forward, transfer, click-to-dial)
            "from_appliance": [
                {"channel": c.channel, "called": c.called, "calling": c.calling,
                 "state": c.state, "cause": c.cause}
                for c in sim.calls.values() if c.direction == "from-appliance"
            ],
            "pcap_frames": sim.pcap.frames if sim.pcap is not None else 0,
        }
