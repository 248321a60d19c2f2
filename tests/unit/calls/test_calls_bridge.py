"""EngineBridge (appliance/calls/telephony.py): legs of any technology joined in the engine."""

from __future__ import annotations

from appliance.calls.channel import Channel
from appliance.calls.telephony import EngineBridge
from appliance.media.engine import ChannelHandle, MediaEngine


class Leg(Channel):
    """A leg whose audio path goes away when it is released, as a cleared B-channel's."""

    def __init__(self, name: str, handle: ChannelHandle) -> None:
        super().__init__(name)
        self.handle: ChannelHandle | None = handle

    @property
    def media(self) -> ChannelHandle | None:
        return self.handle

    def answer(self) -> None: ...
    def play(self, prompt: str, *, loop: bool = False) -> None: ...
    def stop_play(self) -> None: ...

    def _release(self, cause: int) -> None:
        self.handle = None


def test_a_leg_released_under_the_bridge_leaves_the_others_removable() -> None:
    """Seen on make run: a span lost its link with a queue call up; the caller's leg was
    released, then the agent's removal rebuilt the bridge over it and raised MediaError."""
    engine = MediaEngine(8)
    caller, agent, colleague = (Leg(n, engine.register(n)) for n in ("e1a/B3", "fxs1", "fxs2"))
    bridge = EngineBridge(engine, [caller, agent, colleague])
    caller.hangup(38)  # network out of order: its engine channel is gone
    bridge.remove(agent)
    assert engine.connection_of(agent.handle) is None  # type: ignore[arg-type]
    assert bridge.channels == (caller, colleague)
    bridge.destroy()
    assert bridge.channels == ()
