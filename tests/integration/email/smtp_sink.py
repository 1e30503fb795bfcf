#!/usr/bin/python3
"""A local SMTP relay for the email adapter's tests: aiosmtpd on a free port.

usage: smtp_sink.py DIR [REPLY]

Prints "listening on 127.0.0.1:PORT" (the line DaemonProcess waits for), then writes
each message it receives to DIR/<n>.eml and its envelope to DIR/<n>.rcpt. With REPLY
(e.g. "554 5.7.1 rejected by policy") every message is answered with it instead.
"""
import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, reply):
        self.directory = directory
        self.reply = reply
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".rcpt", "w") as f:
            f.write(envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n")
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 queued as sink-%d" % self.count


def main():
    directory = sys.argv[1]
    reply = sys.argv[2] if len(sys.argv) > 2 else ""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Sink(directory, reply)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, enable_SMTPUTF8=True, decode_data=False), "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % port, flush=True)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


if __name__ == "__main__":
    main()
