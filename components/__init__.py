"""Custom Rasa (core) components: the NLG that fills clinic facts, the safety gate.

These run inside the Rasa server, so they work even when the action server is down.
"""
