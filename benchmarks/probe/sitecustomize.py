"""Latency probe for the load benchmark (``bench_load.py --probe``), never for production.

Python imports ``sitecustomize`` at start-up from the first folder on ``PYTHONPATH``
that has one; ``bench_load.py --probe`` puts this folder there for the servers it
starts and sets ``KAT_PROBE_FILE``. Without that variable this module does nothing.

It appends one line per event to ``KAT_PROBE_FILE`` (times from ``time.perf_counter``,
which is the same clock in every process of the machine):

* ``gc <generation> <ms>`` for every garbage collection (a full collection stops the
  event loop, and every patient in flight waits);
* ``sio <t0> <t1> <t2> <t3> <t4>`` for every web-chat message, by wrapping
  python-engineio and Sanic internals: bytes of the message arrive at the websocket (t0),
  Engine.IO has decoded the packet (t1), the channel's handler starts (t2), the first
  reply is handed to Engine.IO (t3) and written to the socket (t4). t1-t0 and t4-t3
  are hops through the event loop's queue, t3-t2 is Rasa's own work (with the action
  server, where the reply needs it).

The wrapped names are python-engineio 4.x / python-socketio 5.x / Sanic 21.12's; after
an upgrade, check them before trusting the figures.
"""

from __future__ import annotations

import os

if os.environ.get("KAT_PROBE_FILE"):  # pragma: no cover - runs inside the servers
    import gc
    import time
    from typing import Any, List, Optional

    _out = open(os.environ["KAT_PROBE_FILE"], "a", buffering=1)  # noqa: SIM115
    _now = time.perf_counter
    _gc_started = [0.0]

    def _gc_callback(phase: str, info: dict) -> None:
        if phase == "start":
            _gc_started[0] = _now()
        else:
            elapsed = 1000 * (_now() - _gc_started[0])
            _out.write(f"gc {info['generation']} {elapsed:.3f}\n")

    gc.callbacks.append(_gc_callback)

    try:
        import engineio.async_drivers.sanic as eio_sanic
        import engineio.async_socket as eio_socket
        import sanic.server.websockets.impl as ws_impl
        import socketio.asyncio_server as sio_server
    except ImportError:
        pass  # not the Rasa server (the action server has no socket.io)
    else:
        _data_received = ws_impl.WebsocketImplProtocol.data_received

        def data_received(self: Any, data: Any) -> Any:
            self._probe_in = _now()
            return _data_received(self, data)

        ws_impl.WebsocketImplProtocol.data_received = data_received

        _ws_call = eio_sanic.WebSocket.__call__

        async def ws_call(self: Any, environ: Any) -> Any:
            socket = self.handler.__self__  # the Engine.IO socket of this websocket
            socket._probe_ws = self
            self._probe_socket = socket
            return await _ws_call(self, environ)

        eio_sanic.WebSocket.__call__ = ws_call

        _ws_send = eio_sanic.WebSocket.send

        async def ws_send(self: Any, message: Any) -> Any:
            socket = getattr(self, "_probe_socket", None)
            times: Optional[List[float]] = getattr(socket, "_probe_times", None)
            if isinstance(message, str) and "bot_uttered" in message and times:
                socket._probe_times = None
                if len(times) == 4:
                    times.append(_now())
                    _out.write("sio " + " ".join(f"{t:.6f}" for t in times) + "\n")
            return await _ws_send(self, message)

        eio_sanic.WebSocket.send = ws_send

        _receive = eio_socket.AsyncSocket.receive

        async def receive(self: Any, pkt: Any) -> Any:
            if isinstance(pkt.data, str) and "user_uttered" in pkt.data:
                ws = getattr(self, "_probe_ws", None)
                arrived = getattr(getattr(ws, "_sock", None), "_probe_in", None)
                if arrived is not None:
                    self._probe_times = [arrived, _now()]
            return await _receive(self, pkt)

        eio_socket.AsyncSocket.receive = receive

        _socket_send = eio_socket.AsyncSocket.send

        async def socket_send(self: Any, pkt: Any) -> Any:
            times = getattr(self, "_probe_times", None)
            if times and len(times) == 3 and "bot_uttered" in str(pkt.data):
                times.append(_now())
            return await _socket_send(self, pkt)

        eio_socket.AsyncSocket.send = socket_send

        _handle = sio_server.AsyncServer._handle_event_internal

        async def handle(
            self: Any, server: Any, sid: Any, eio_sid: Any, *args: Any
        ) -> Any:
            socket = server.eio.sockets.get(eio_sid)
            times = getattr(socket, "_probe_times", None)
            if times and len(times) == 2:
                times.append(_now())
            return await _handle(self, server, sid, eio_sid, *args)

        sio_server.AsyncServer._handle_event_internal = handle
