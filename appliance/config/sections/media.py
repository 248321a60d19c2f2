"""``[media]``: the media engine, tone plans, DTMF reception and recording queue.

Tone plans are written as in Asterisk's indications (``F1[+F2][/MS],...``, see
:mod:`appliance.media.dsp.tones`). Three plans are built in: ``cn`` (the
default; China, YDN 065 / GB 3380 style, 450 Hz), ``itu`` (ITU-T E.180
recommended values, 425 Hz) and ``us`` (ATIS/Telcordia LSSGR precise tones).
``[media.tone_plans.NAME]`` adds a plan or replaces a built-in one.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config.validate import setting


def _tone_check(value: object) -> str | None:
    from appliance.media.dsp.tones import ToneSpecError, parse_tone

    if not isinstance(value, str):
        return "expected a tone description like '450/350,0/350'"
    try:
        parse_tone(value)
    except ToneSpecError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class TonePlan:
    dial: str = setting(doc="Dial tone", check=_tone_check)
    ringback: str = setting(doc="Ringback (ringing) tone", check=_tone_check)
    busy: str = setting(doc="Busy tone", check=_tone_check)
    congestion: str = setting(doc="Congestion (reorder) tone", check=_tone_check)
    call_waiting: str = setting(doc="Call waiting tone", check=_tone_check)
    special_information: str = setting(doc="Special information tone (SIT)", check=_tone_check)
    level_dbm0: float = setting(
        -10.0, doc="Sending level of each frequency, dBm0", ge=-40.0, le=0.0
    )

    def tones(self) -> dict[str, str]:
        return {
            "dial": self.dial,
            "ringback": self.ringback,
            "busy": self.busy,
            "congestion": self.congestion,
            "call_waiting": self.call_waiting,
            "special_information": self.special_information,
        }


BUILTIN_TONE_PLANS: dict[str, TonePlan] = {
    # China (YDN 065-1997 / GB 3380 practice): 450 Hz, SIT per E.180 §7.
    "cn": TonePlan(
        dial="450",
        ringback="450/1000,0/4000",
        busy="450/350,0/350",
        congestion="450/700,0/700",
        call_waiting="450/400,0/4000",
        special_information="950/330,1400/330,1800/330,0/1000",
        level_dbm0=-10.0,
    ),
    # ITU-T E.180 (03/1998) §2 recommended values, 425 Hz.
    "itu": TonePlan(
        dial="425",
        ringback="425/1000,0/4000",
        busy="425/500,0/500",
        congestion="425/250,0/250",
        call_waiting="425/150,0/150,425/150,0/8000",
        special_information="950/330,1400/330,1800/330,0/1000",
        level_dbm0=-10.0,
    ),
    # North America (LSSGR / ATIS-0300001 precise tone plan).
    "us": TonePlan(
        dial="350+440",
        ringback="440+480/2000,0/4000",
        busy="480+620/500,0/500",
        congestion="480+620/250,0/250",
        call_waiting="440/300,0/9700",
        special_information="914/274,1371/274,1777/380,0/1000",
        level_dbm0=-13.0,
    ),
}


@dataclass(frozen=True)
class DtmfSettings:
    min_level_dbm0: float = setting(
        -32.0, doc="Weakest tone accepted, per frequency (dBm0)", ge=-45.0, le=-10.0
    )
    max_normal_twist_db: float = setting(
        4.0, doc="High group stronger than low group by at most (dB)", ge=0.0, le=12.0
    )
    max_reverse_twist_db: float = setting(
        8.0, doc="Low group stronger than high group by at most (dB)", ge=0.0, le=12.0
    )
    max_deviation: float = setting(
        0.025,
        doc="Frequency deviation accepted (fraction; Q.24: accept 1.5 %, reject 3.5 %)",
        ge=0.015,
        le=0.035,
    )


@dataclass(frozen=True)
class MediaSection:
    tone_plan: str = setting(
        "cn", doc="Tone plan used for tones sent and busy detection", pattern=r"[a-z0-9_]{1,16}"
    )
    tone_plans: dict[str, TonePlan] = setting(
        doc="Additional or replacement tone plans by name", default_factory=dict
    )
    capacity: int = setting(512, doc="Channels the engine preallocates", ge=1, le=4096)
    late_tolerance_ms: float = setting(
        10.0, doc="A tick starting later than this counts as late (ms)", gt=0.0, le=20.0
    )
    recording_queue: int = setting(
        250, doc="Recording writer queue, in ticks (20 ms each)", ge=10, le=10000
    )
    prompts_dir: str = setting("/usr/share/appliance/prompts", doc="Folder of prompt WAV files")
    lost_audio_alarm: float = setting(
        5.0, doc="Raise the media.alarm when frames concealed or slipped exceed this many per "
        "thousand channel-frames over a minute (0: never)", ge=0.0, le=1000.0
    )
    dtmf: DtmfSettings = setting(doc="DTMF reception (Q.24)", default_factory=DtmfSettings)

    def plan(self) -> TonePlan:
        """The selected tone plan (configured plans override built-ins)."""
        plans = {**BUILTIN_TONE_PLANS, **self.tone_plans}
        try:
            return plans[self.tone_plan]
        except KeyError:
            raise ValueError(
                f"media.tone_plan = {self.tone_plan!r} is not a known plan "
                f"({', '.join(sorted(plans))})"
            ) from None
