"""SIPp (Debian's ``sip-tester``) as a carrier's SIP trunk on the rig (issue 16).

The carrier is an IP peer of the appliance: it sends from, and listens on, the
address and port of ``[sip.trunks.NAME]``. :meth:`SippCarrier.call` places a
customer's call to a DID: an INVITE offering G.711 A-law and RFC 4733
telephone-events, the customer's keys as RFC 4733 events (SIPp's
``dtmf_2833_N.pcap``), then 7 s of recorded A-law speech (SIPp's ``g711a.pcap``)
while the call is queued and answered; it then waits for the appliance's BYE, or
hangs up itself after ``hold`` seconds. :meth:`SippCarrier.answer` takes one
outside call from the appliance and checks what a carrier checks: the called
number, and the caller's number in From. Each run is one SIPp process with a
scenario rendered here; its exit status says whether the call went as the
scenario expects (0) or not. Nothing here is the appliance's code: it is the far end.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

PCAPS = Path("/usr/share/sip-tester")
DIGIT_FILES = {**{d: f"dtmf_2833_{d}.pcap" for d in "0123456789"},
               "*": "dtmf_2833_star.pcap", "#": "dtmf_2833_pound.pcap"}

_SDP = """v=0
o=carrier 1 1 IN IP4 [media_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20"""


#: Wait up to a minute for the far end's BYE and answer it.
_BYE_ANSWERED = """  <recv request="BYE" timeout="60000"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>"""


def _invite_response(status: str, sdp: str = "") -> str:
    """A response to the INVITE received, in its dialog (our tag, its Record-Route)."""
    body = f"Content-Type: application/sdp\nContent-Length: [len]\n\n{sdp}" if sdp else \
        "Content-Length: 0\n"
    retrans = ' retrans="500"' if status.startswith("2") else ""
    return f"""  <send{retrans}><![CDATA[
SIP/2.0 {status}
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:carrier@[local_ip]:[local_port]>
{body}
]]></send>"""


def _pause(seconds: float) -> str:
    return f'  <pause milliseconds="{int(seconds * 1000)}"/>'


def _play(pcap: str) -> str:
    path = quoteattr(str(PCAPS / pcap))
    return f'  <nop><action><exec play_pcap_audio={path}/></action></nop>'


def call_scenario(caller: str, *, speech: bool, digits: str, hold: float | None,
                  headers: dict[str, str] | None = None) -> str:
    """A carrier's inbound call: INVITE (with any extra ``headers``), ACK, RFC 4733 keys,
    speech; then the appliance's BYE (``hold`` None) or the carrier's own after ``hold`` s."""
    extra = "".join(f"{name}: {value}\n" for name, value in (headers or {}).items())
    steps = [_pause(1.0)] if digits else []  # the menu's prompt begins before the keys
    for digit in digits:
        steps += [_play(DIGIT_FILES[digit]), _pause(0.5)]
    if speech:
        steps.append(_play("g711a.pcap"))  # played on while the next steps run
    if hold is None:
        ending = _BYE_ANSWERED
    else:
        ending = f"""{_pause(hold)}
  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:{caller}@[local_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>"""
    body = "\n".join(steps)
    return f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<scenario name="carrier call">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: "Customer" <sip:{caller}@[local_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
{extra}Content-Type: application/sdp
Content-Length: [len]

{_SDP}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true" timeout="{30_000}"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
[routes]
From: "Customer" <sip:{caller}@[local_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
{body}
{ending}
</scenario>
"""


def answer_scenario(called: str, caller: str) -> str:
    """A carrier taking one outside call: the INVITE must be for ``called`` from
    ``caller`` (From's user, RFC 3325's asserted identity as the carrier bills it);
    ringing, answer, then the appliance's BYE."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<scenario name="carrier answers">
  <recv request="INVITE" rrs="true" timeout="{60_000}">
    <action>
      <ereg regexp="^INVITE sip:{re.escape(called)}@" search_in="msg" check_it="true"
            assign_to="ruri"/>
      <ereg regexp="sip:{re.escape(caller)}@" search_in="hdr" header="From:"
            check_it="true" assign_to="from"/>
    </action>
  </recv>
{_invite_response("180 Ringing")}
{_pause(0.5)}
{_invite_response("200 OK", _SDP)}
  <recv request="ACK" timeout="{10_000}"/>
{_play("g711a.pcap")}
{_BYE_ANSWERED}
  <Reference variables="ruri,from"/>
</scenario>
"""


@dataclass
class SippRun:
    """One SIPp process playing one scenario."""

    process: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float = 90.0) -> int:
        """SIPp's exit status once it ends: 0 when every call went as scripted."""
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def messages(self) -> str:
        """What SIPp sent and received, for an assertion's message."""
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


class SippCarrier:
    """A carrier at ``host:port`` (its trunk's address) towards the edge at ``edge``."""

    def __init__(self, folder: Path, host: str, port: int, edge: str, media_port: int) -> None:
        self.folder = folder
        self.host, self.port, self.edge = host, port, edge
        self.media_port = media_port
        self._runs = 0
        folder.mkdir(parents=True, exist_ok=True)

    def _start(self, scenario: str, *extra: str) -> SippRun:
        self._runs += 1
        xml = self.folder / f"scenario-{self._runs}.xml"
        xml.write_text(scenario, encoding="ascii")
        log = self.folder / f"messages-{self._runs}.log"
        process = subprocess.Popen(
            ["sipp", "-sf", str(xml), "-i", self.host, "-p", str(self.port),
             "-mi", self.host, "-mp", str(self.media_port), "-m", "1", "-nostdin",
             "-trace_msg", "-message_file", str(log), "-timeout", "120s", "-timeout_error",
             *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(self.folder / f"sipp-{self._runs}.err").open("wb"))
        time.sleep(0.2)  # bound before the appliance may send to it
        return SippRun(process, log)

    def call(self, did: str, caller: str, *, digits: str = "", speech: bool = True,
             hold: float | None = None, headers: dict[str, str] | None = None) -> SippRun:
        """A customer calling ``did`` from ``caller`` on this trunk."""
        return self._start(call_scenario(caller, speech=speech, digits=digits, hold=hold,
                                         headers=headers), "-s", did, self.edge)

    def answer(self, called: str, caller: str) -> SippRun:
        """Take the appliance's next outside call, which must be to ``called`` from
        ``caller``."""
        return self._start(answer_scenario(called, caller))
