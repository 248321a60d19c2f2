"""The media engine inside appliance-telephonyd, built from ``[media]``, on the daemon's clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from appliance.config import ApplianceConfig
from appliance.media.alarm import LostAudioAlarm
from appliance.media.engine import MediaEngine
from appliance.media.events import MediaEvent
from appliance.media.plan import engine_from_config
from appliance.runtime.service import Component, Service

log = logging.getLogger("appliance.media")

MediaListener = Callable[[MediaEvent], None]
ALARM_CHECK_S = 5.0


class MediaComponent(Component):
    """Owns the one :class:`MediaEngine`; media events go to every registered listener."""

    name = "media"

    def __init__(self) -> None:
        self.engine: MediaEngine | None = None
        self.listeners: list[MediaListener] = []
        self.before_tick: list[Callable[[], None]] = []  # run by the engine before each tick
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.alarm = LostAudioAlarm(0.0)

    async def start(self, service: Service) -> None:
        self.engine = engine_from_config(service.config.media, self._event)
        self.engine.before_tick = self.before_tick
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.engine.run(service.clock, stop=self._stop))
        self.alarm = LostAudioAlarm(service.config.media.lost_audio_alarm)
        self._watch = asyncio.create_task(self._watch_lost_audio(service))

    live_keys = frozenset({"media.lost_audio_alarm"})  # the next check uses the new threshold

    async def reconfigure(self, config: ApplianceConfig) -> None:
        self.alarm.threshold = config.media.lost_audio_alarm / 1000.0

    async def _watch_lost_audio(self, service: Service) -> None:
        """Every ALARM_CHECK_S: raise or clear the lost-audio alarm (appliance/media/alarm.py)."""
        while self.engine is not None:
            stats = self.engine.stats
            lost = stats.missing_frames + stats.slips + stats.output_slips
            change = self.alarm.update(service.clock.monotonic(), lost, stats.channel_ticks)
            if change is not None:
                permille = round(self.alarm.share * 1000, 1)
                if change:
                    log.warning("media alarm: %.1f per thousand frames lost (concealed or "
                                "slipped) over the last minute", permille)
                else:
                    log.info("media alarm cleared (%.1f per thousand frames lost)", permille)
                service.bus.publish("media.alarm", raised=change, lost_permille=permille)
            await service.clock.sleep(ALARM_CHECK_S)

    def _event(self, event: MediaEvent) -> None:
        for listener in list(self.listeners):
            listener(event)

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.engine is not None:
            self.engine.close()

    def healthy(self) -> bool:
        """The tick loop is alive (a dead media loop means no audio on any call)."""
        return self._task is not None and not self._task.done()

    def frame_status(self) -> dict[str, Any]:
        """Where the engine's clock comes from and every frame it lost, repeated or dropped."""
        if self.engine is None:
            return {}
        stats = self.engine.stats
        return {
            "timing_source": stats.timing_source or "system clock",
            "timing_changes": stats.timing_changes,
            "missing_frames": stats.missing_frames,
            "slips": stats.slips,
            "output_slips": stats.output_slips,
            "recording_dropped": stats.recording_dropped,
            "lost_audio_alarm": self.alarm.raised,
            "lost_permille": round(self.alarm.share * 1000, 1),
        }

    def status(self) -> dict[str, Any]:
        if self.engine is None:
            return {"running": False}
        stats = self.engine.stats
        return {
            "running": self.healthy(),
            "channels": len(self.engine.channels),
            "ticks": stats.ticks,
            "late_ticks": stats.late_ticks,
            "stalls": stats.stalls,
            "tick_lateness_ms": stats.lateness_ms(),
            "overruns": stats.overruns,
            **self.frame_status(),
        }
