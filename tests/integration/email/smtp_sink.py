#!/usr/bin/python3
"""A local SMTP relay for the email adapter's tests: aiosmtpd on a free port.

usage: smtp_sink.py DIR [--reply TEXT] [--tls CERT KEY] [--auth USER:PASSWORD]

Prints "listening on 127.0.0.1:PORT" (the line DaemonProcess waits for), then writes
each message it receives to DIR/<n>.eml and its envelope to DIR/<n>.rcpt. With
--reply (e.g. "554 5.7.1 rejected by policy") every message is answered with it
instead. With --tls, STARTTLS is required before MAIL; with --auth, so is AUTH with
that login.
"""
import argparse
import asyncio
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--reply", default="")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", default="")
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Sink(args.directory, args.reply)
    options = {"enable_SMTPUTF8": True, "decode_data": False}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and \
                auth_data.password.decode() == password
            return AuthResult(success=ok)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls))
    server = loop.run_until_complete(loop.create_server(lambda: SMTP(handler, **options), "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % port, flush=True)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


if __name__ == "__main__":
    main()
