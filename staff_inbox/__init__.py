"""The staff inbox: a small authenticated web page and JSON API on its own port.

Staff see open hand-off tickets (urgent first), read the transcript, claim a ticket,
reply to the patient — the reply reaches the patient on the channel they used, through
Rasa's HTTP API — and resolve it, which hands the conversation back to the assistant.
Never served with the patient endpoints. Run: ``python -m staff_inbox``.
"""
