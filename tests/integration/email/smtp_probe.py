#!/usr/bin/python3
"""Talks SMTP to the adapter the way the tests need, with Python's smtplib or a raw socket.

usage:
  smtp_probe.py raw PORT LINE...         send each line (CRLF added), print each reply
  smtp_probe.py starttls PORT CAFILE FROM TO FILE
                                         STARTTLS (certificate checked against CAFILE),
                                         then send FILE; print the DATA reply
  smtp_probe.py send PORT FROM TO FILE [SIZE]
                                         send FILE with smtplib (SIZE= declared if given)
Replies are printed one per line as "CODE text"; exit 0 unless the connection broke.
"""
import smtplib
import socket
import ssl
import sys


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return "EOF"
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return " | ".join(lines)


def raw(port, lines):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rb")
    print(read_reply(f))
    in_data = False
    for line in lines:
        data = line.encode("utf-8", "surrogateescape").decode("unicode_escape").encode("latin-1")
        s.sendall(data + b"\r\n")
        if in_data and line != ".":
            continue  # message lines get no reply; the final dot does
        reply = read_reply(f)
        in_data = reply.startswith("354")
        print(reply, flush=True)


def send(port, sender, to, path, size=None, starttls_ca=None):
    with open(path, "rb") as f:
        body = f.read()
    client = smtplib.SMTP("127.0.0.1", port, timeout=20)
    client.ehlo("probe.test")
    if starttls_ca:
        context = ssl.create_default_context(cafile=starttls_ca)
        code, text = client.starttls(context=context)
        print("STARTTLS %d %s" % (code, text.decode()))
        client.ehlo("probe.test")
    options = ["SIZE=%s" % size] if size else []
    code, text = client.mail(sender, options)
    print("MAIL %d %s" % (code, text.decode()))
    if code != 250:
        client.quit()
        return
    code, text = client.rcpt(to)
    print("RCPT %d %s" % (code, text.decode()))
    if code != 250:
        client.quit()
        return
    code, text = client.data(body)
    print("DATA %d %s" % (code, text.decode()))
    client.quit()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "raw":
        raw(port, sys.argv[3:])
    elif mode == "starttls":
        send(port, sys.argv[4], sys.argv[5], sys.argv[6], starttls_ca=sys.argv[3])
    elif mode == "send":
        send(port, sys.argv[3], sys.argv[4], sys.argv[5], size=sys.argv[6] if len(sys.argv) > 6 else None)


if __name__ == "__main__":
    main()
