"""Custom actions, run by the Rasa SDK action server (`rasa run actions`).

One concern per module; the modules import rasa_sdk and the pure helpers in ``kat``,
never Rasa core. Nothing runs at import time beyond class definitions.
"""
