"""SIP behind Kamailio (issue 16): the pjsua2 back-to-back endpoint inside telephonyd.

:mod:`appliance.signalling.sip.endpoint` owns the one pjsua2 ``Endpoint`` on a
dedicated thread; nothing else in the process enters pjlib.
"""
