"""Drives a program in a real pseudo-terminal, as a person at a terminal would: a window of
the given size, keys sent one chunk at a time (each answered before the next), Ctrl-D at the
end. Prints everything the program wrote to the terminal, raw. Used by tests/it/console.rs.

    python3 console_tty.py '{"cmd": [...], "cols": 120, "rows": 40, "env": {...}, "keys": [...]}'
"""
import fcntl
import json
import os
import pty
import re
import select
import struct
import sys
import termios
import time

spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", spec.get("rows", 40), spec["cols"], 0, 0))
    env = dict(os.environ)
    env.update(spec.get("env", {}))
    for name in spec.get("unset", []):
        env.pop(name, None)
    os.execvpe(spec["cmd"][0], spec["cmd"], env)

out = bytearray()


def drain(quiet, limit):
    """Reads until the program has said nothing for `quiet` seconds (or `limit` passed)."""
    start = last = time.time()
    while time.time() - last < quiet and time.time() - start < limit:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)
            last = time.time()


# A prompt starts a line: after a newline (a dumb terminal) or after the line editor's
# carriage return and erase-line (raw mode). A "> " inside an answer is not one.
PROMPT = re.compile(rb"(\n|\r\x1b\[K)> ")


def prompt_after(mark, limit=120):
    """Reads until the console shows its prompt again after byte `mark` (it has answered and
    waits for the next line), however long a loaded machine takes."""
    start = time.time()
    while time.time() - start < limit:
        if PROMPT.search(out, mark):
            return
        drain(0.05, 0.2)


# Keys go only to a console that is ready for them: its first prompt, then after each Enter
# the next one (typed ahead, keys could reach the terminal before it is in raw mode).
prompt_after(0)
drain(0.3, 5)
for key in spec["keys"]:
    mark = len(out)
    os.write(fd, key.encode())
    if "\r" in key:
        prompt_after(mark)
    drain(0.5, 30)
os.write(fd, b"\x04")
drain(1.0, 15)
# Ctrl-D on an empty line ends the console; a program still running after that is stopped
# (the test then sees what it printed, and that it did not end by itself).
deadline = time.time() + 10
while True:
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.time() > deadline:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        out.extend(b"\n[still running: killed]\n")
        break
    time.sleep(0.05)
sys.stdout.buffer.write(bytes(out))
