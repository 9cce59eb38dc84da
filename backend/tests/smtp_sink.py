"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1:<port>, writing each
message it accepts to <dir> as one raw RFC 5322 file (<n>.eml, written to a temporary name
and renamed, so a reader never sees half a message). Recipients whose address starts with
"refused" are refused for good (550), as a mailbox that does not exist.

    python smtp_sink.py <port> <dir>

Prints "READY <port>" once it accepts connections, and stops on SIGTERM/SIGINT or, when
its standard input is a pipe (the test's), when that pipe closes.
"""

import itertools
import os
import signal
import stat
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # A mailbox that does not exist, for the tests of permanent refusals.
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        name = "%d-%06d.eml" % (os.getpid(), n)
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("READY %d" % port, flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
