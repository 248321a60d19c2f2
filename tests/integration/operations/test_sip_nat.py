"""Issue 16.1/16.4: a remote agent's phone behind a NAT, on the running daemons.

The phone (pjsua2 in this test, as a softphone at home would be) registers with a
Contact on its private network (``10.1.2.3``, RFC 1918) that nobody can reach: only
the address its REGISTER came from leads back to it. Kamailio saves that address
(``appliancectl sip registrations`` shows it as ``received``), the ACD's INVITE to
the agent reaches the phone there, the phone's answer (its Contact private again)
is fixed so the ACK and the BYE find it, and the agent talks to the E1 caller.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from acd_traffic import agent, key_into_queue
from operations_rig import Appliance, until

from appliance.config import load_config
from appliance.signalling.sip.endpoint import EndpointSettings, SipEndpoint

pj: Any = __import__("pjsua2")  # a failure, never a skip: `make setup` installs it

pytestmark = pytest.mark.integration

PRIVATE = "10.1.2.3:5060"  # the phone's own idea of its address, behind the NAT
CALLER = "13800138011"


class RemotePhone:
    """A pjsua2 account that registers 2001 with a private Contact and answers calls."""

    def __init__(self, sip: SipEndpoint, edge_port: int, password: str) -> None:
        self.sip = sip
        self.states: list[str] = []
        phone = self

        class Call(pj.Call):  # type: ignore[misc]
            def onCallState(self, prm: Any) -> None:
                phone.states.append(str(self.getInfo().stateText))

        class Account(pj.Account):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.code: int | None = None

            def onRegState(self, prm: Any) -> None:
                self.code = int(prm.code)

            def onIncomingCall(self, prm: Any) -> None:
                call = Call(self, prm.callId)
                sip.owned[("call", prm.callId)] = call
                answer = pj.CallOpParam()
                answer.statusCode = 200
                call.answer(answer)

        def create(ep: Any) -> None:
            config = pj.AccountConfig()
            config.idUri = "sip:2001@appliance.local"
            config.regConfig.registrarUri = f"sip:127.0.0.1:{edge_port}"
            config.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", "2001", 0, password))
            config.sipConfig.contactForced = f"<sip:2001@{PRIVATE}>"
            config.natConfig.contactRewriteUse = 0  # keep claiming the private address
            config.natConfig.viaRewriteUse = 0
            account = Account()
            account.create(config)
            sip.owned["account"] = account

        sip.submit(create).result(5)

    def registered(self) -> bool:
        return self.sip.submit(lambda ep: self.sip.owned["account"].code).result(5) == 200


@pytest.fixture
def remote_phone(appliance: Appliance) -> Iterator[RemotePhone]:
    sip = load_config(str(appliance.config)).sip
    appliance.start_sip_edge()
    endpoint = SipEndpoint(EndpointSettings(port=0))
    endpoint.start()
    try:
        yield RemotePhone(endpoint, sip.listen_port, sip.extensions["2001"].password)
    finally:
        endpoint.stop()


def test_a_remote_agent_behind_a_nat_is_reached_and_talks(
        appliance: Appliance, remote_phone: RemotePhone) -> None:
    box = appliance
    until(remote_phone.registered, what="the phone registered through its NAT")
    (row,) = box.ctl_json("sip", "registrations")["registrations"]
    assert row["contact"] == f"sip:2001@{PRIVATE}"
    assert row["received"].startswith("sip:127.0.0.1:"), row  # where its binding is

    box.ctl("agents", "login", "1003", "sip:2001")
    box.span_up()
    call = box.e1_call(channel=9, calling=CALLER)
    key_into_queue(box, call, CALLER)
    until(lambda: agent(box, "1003")["state"] == "talking", timeout=30,
          what="the remote agent answering the ACD's call")
    time.sleep(1.0)
    box.ctl("calls", "hangup", str(box.live_call(CALLER)["call_id"]))
    until(lambda: "DISCONNECTED" in remote_phone.states, what=f"the BYE reaching the phone ({remote_phone.states})")
    assert "CONFIRMED" in remote_phone.states  # the ACK found it too
