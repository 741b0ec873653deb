"""Default ports of the project's servers, as ``make run`` prints them.

scripts/env.sh sets the same defaults for the shell scripts (tests/test_ports.py checks
that the two agree, and that browsers allow every one: Chromium and Firefox refuse
pages on ports such as 5060, the SIP port, with ERR_UNSAFE_PORT).
"""

RASA = 5005
ACTIONS = 5055
WEB_CHAT = 8080
STAFF_INBOX = 8081
