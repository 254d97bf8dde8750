"""`python -m seqgan_core class …`: open the app to the room (serve), show or rotate the teacher's key,
start a new class."""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from .keys import ENV_CLASS, ensure_key, rotate_key
from .room import Room

REPO_ROOT = Path(__file__).resolve().parents[2]


def add_parser(sub) -> None:
    c = sub.add_parser("class", help="a class on this server: serve the app to the room, the teacher key")
    csub = c.add_subparsers(dest="class_cmd", required=True)
    s = csub.add_parser("serve", help="start the app on every network address, with roles (needs the key: "
                                      "made at first start)")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--url", help="the address students type, if not http://<this machine's LAN address>:PORT")
    s.add_argument("--dry-run", action="store_true", help="print what would start, start nothing")
    csub.add_parser("key", help="print the teacher key (made if there is none yet)")
    csub.add_parser("rotate", help="a new teacher key: every link and pass handed out before stops working")
    csub.add_parser("new", help="a new class: a new code, and every student pass handed out before ends")


def lan_address() -> str:
    """This machine's address on its network (the route out; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def cmd_class(args: argparse.Namespace) -> int:
    if args.class_cmd == "key":
        print(ensure_key())
        return 0
    if args.class_cmd == "rotate":
        print(rotate_key())
        return 0
    if args.class_cmd == "new":
        room = Room()
        room.new_class()
        print(f"new class, code {room.code}")
        return 0
    key, room = ensure_key(), Room()
    url = (args.url or f"http://{lan_address()}:{args.port}").rstrip("/")
    print(f"Teacher (keep this private): http://localhost:{args.port}/class?key={key}")
    print(f"Teacher key: {key}   (python -m seqgan_core class rotate makes a new one)")
    print(f"Students join at {url} with code {room.code}, or by this link: {url}/?join={room.code}")
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"), "--server.address", "0.0.0.0",
           "--server.port", str(args.port)]
    env = {**os.environ, ENV_CLASS: "1", "SEQGAN_CLASS_URL": url}
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    sys.stdout.flush()
    os.execvpe(cmd[0], cmd, env)      # the server replaces this process: Ctrl-C stops it as usual
