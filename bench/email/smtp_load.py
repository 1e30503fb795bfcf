#!/usr/bin/python3
"""SMTP load generator for the email adapter (an smtp-source equivalent).

usage: smtp_load.py HOST:PORT [--connections N] [--messages M] [--size BYTES] [--to ADDRESS]

Opens N connections; each sends M messages of about BYTES bytes (MAIL, RCPT and DATA
pipelined, then the body), waiting for every 250 after DATA, which the adapter sends
only once the message is durable. Each message comes from its own sender address, so
every message opens a conversation. Prints messages/s accepted and the reply codes seen.
"""
import argparse
import asyncio
import collections
import time


async def session(host, port, index, messages, body, to, codes):
    reader, writer = await asyncio.open_connection(host, port)

    async def reply():
        lines = []
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("closed")
            lines.append(line)
            if line[3:4] != b"-":
                return lines[0][:3].decode()

    await reply()
    writer.write(b"EHLO load.test\r\n")
    await reply()
    for m in range(messages):
        sender = "load-%d-%d@example.org" % (index, m)
        writer.write(("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, to)).encode())
        for _ in range(3):
            codes[await reply()] += 1
        header = "From: %s\r\nTo: %s\r\nSubject: load %d %d\r\nMessage-ID: <load-%d-%d-%f@example.org>\r\n\r\n" % (
            sender, to, index, m, index, m, time.time())
        writer.write(header.encode() + body + b".\r\n")
        codes[await reply()] += 1
    writer.write(b"QUIT\r\n")
    await reply()
    writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--to", default="help@support.test")
    args = parser.parse_args()
    host, port = args.server.rsplit(":", 1)
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"
    body = line * max(1, args.size // len(line))
    codes = collections.Counter()
    start = time.monotonic()
    await asyncio.gather(*(session(host, int(port), i, args.messages, body, args.to, codes)
                           for i in range(args.connections)))
    elapsed = time.monotonic() - start
    total = args.connections * args.messages
    print("%d messages of %d bytes over %d connections in %.2f s: %.0f messages/s accepted; replies %s" % (
        total, len(body), args.connections, elapsed, total / elapsed, dict(codes)))


if __name__ == "__main__":
    asyncio.run(main())
