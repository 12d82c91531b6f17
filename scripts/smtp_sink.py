"""An SMTP sink for the tests (aiosmtpd on 127.0.0.1).

Every accepted message is written to the spool folder as one JSON file
({"mailFrom", "rcptTos", "data"}), renamed into place so a reader never sees
half a file. Recipients whose local part starts with "refuse" get a permanent
550, with "busy" a transient 451. With --tls the sink makes a self-signed
certificate for localhost and 127.0.0.1 (cert.pem in the spool folder),
requires STARTTLS and accepts AUTH PLAIN or LOGIN as jiebang / sink-password
only over TLS. It prints "ready" once it listens and runs until it gets
SIGTERM or its parent exits. With --hold FILE, a message is spooled and then
its answer waits while FILE exists (the sink prints "holding"), as when a
server has a message but its answer is lost.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import subprocess
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Spool:
    def __init__(self, folder, hold):
        self.folder = folder
        self.hold = hold

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("busy"):
            return "451 4.2.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = uuid.uuid4().hex
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        temporary = os.path.join(self.folder, name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False)
        os.rename(temporary, os.path.join(self.folder, name + ".json"))
        if self.hold and os.path.exists(self.hold):
            # The message is spooled; its answer waits while the hold file exists (a test kills the client
            # meanwhile, as when a server's answer is lost).
            print("holding", flush=True)
            while os.path.exists(self.hold):
                await asyncio.sleep(0.05)
        return "250 2.0.0 queued as " + name


def authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login == b"jiebang" and auth_data.password == b"sink-password":
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


def self_signed(folder):
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--hold", help="while this file exists, a received message is not answered")
    arguments = parser.parse_args()
    os.makedirs(arguments.spool, exist_ok=True)
    options = {}
    if arguments.tls:
        options = dict(tls_context=self_signed(arguments.spool), require_starttls=True,
                       authenticator=authenticate, auth_required=True, auth_require_tls=True)
    controller = Controller(Spool(arguments.spool, arguments.hold), hostname="127.0.0.1", port=arguments.port, **options)
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    # A test process starts the sink from a thread that blocks most signals, and children inherit the mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    parent = os.getppid()
    # A test that dies without stopping its sink leaves no server behind: the sink follows its parent.
    while not done.wait(0.5):
        if os.getppid() != parent:
            break
    controller.stop()


if __name__ == "__main__":
    main()
