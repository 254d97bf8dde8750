"""Viewers without a browser: Streamlit websocket clients that ask for what a Live tab asks for and render
nothing. Each opens the page (`rerun_script` with the page's name and query string), then, whenever the
server schedules an auto-rerun of a fragment (the Live panel's run_every), sends that fragment's rerun at
the interval the server asked for, as the browser's frontend does. Used by bench_class.py --viewers-kind ws,
as a process of its own:

    python benchmarks/ws_viewers.py PORT PAGE QUERY N     # prints "ready" once every viewer was answered

The server then does a class's work while the viewers' rendering (done on students' machines in a room)
costs this machine nothing.
"""
from __future__ import annotations

import asyncio
import sys
import threading
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


async def _viewer(port: int, page: str, query: str, stop: asyncio.Event, counts: list, i: int) -> None:
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], origin=f"http://127.0.0.1:{port}",
                                  max_size=None) as ws:
        first = BackMsg()
        first.rerun_script.query_string = query
        first.rerun_script.page_name = page
        await ws.send(first.SerializeToString())
        page_hash, timers = "", {}

        async def rerun_every(fragment: str, interval: float) -> None:
            while not stop.is_set():
                await asyncio.sleep(interval)
                msg = BackMsg()
                msg.rerun_script.query_string = query
                msg.rerun_script.page_name = page
                msg.rerun_script.page_script_hash = page_hash
                msg.rerun_script.fragment_id = fragment
                msg.rerun_script.is_auto_rerun = True
                await ws.send(msg.SerializeToString())
                counts[i] += 1

        while not stop.is_set():
            try:
                data = await asyncio.wait_for(ws.recv(), timeout=1.0)
            except asyncio.TimeoutError:
                continue
            if isinstance(data, str):
                continue
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                page_hash = fwd.new_session.page_script_hash
            elif kind == "auto_rerun":       # a new timer, or one registered again at another interval
                fid, interval = fwd.auto_rerun.fragment_id, fwd.auto_rerun.interval
                if fid in timers and timers[fid][1] != interval:
                    timers.pop(fid)[0].cancel()
                if fid not in timers:
                    timers[fid] = (asyncio.create_task(rerun_every(fid, interval)), interval)
            elif kind == "stop_auto_rerun":
                for t, _ in timers.values():
                    t.cancel()
                timers.clear()
        for t, _ in timers.values():
            t.cancel()


class Viewers:
    """n websocket viewers of one page, in a thread of their own; add() more, stop() all."""

    def __init__(self, port: int, page: str, query: str):
        self.port, self.page, self.query = port, page, query
        self.loop = asyncio.new_event_loop()
        self.stop_event = None
        self.counts: list[int] = []
        self.tasks: list = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._make_event(), self.loop).result()

    async def _make_event(self):
        self.stop_event = asyncio.Event()

    def add(self, n: int) -> None:
        for _ in range(n):
            self.counts.append(0)
            i = len(self.counts) - 1
            self.tasks.append(asyncio.run_coroutine_threadsafe(
                _viewer(self.port, self.page, self.query, self.stop_event, self.counts, i), self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        for t in self.tasks:
            try:
                t.result(timeout=10)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)


def main() -> int:
    port, page, query, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    pool = Viewers(port, page, query)
    pool.add(n)
    deadline = time.time() + 300
    while min(pool.counts) == 0 and time.time() < deadline:
        time.sleep(0.5)
    print("ready" if min(pool.counts) else "not ready", flush=True)
    try:
        while True:                      # until bench_class.py terminates this process
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
