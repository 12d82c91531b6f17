#!/usr/bin/env python3
"""A TLS front for a PostgreSQL server that sends large TLS records, for the client's tests.

PostgreSQL 15 and 16 write at most 8 KiB at a time, so each TLS record they send fits the
room libpq gives every read. PostgreSQL 17 and later send large messages in 16 KiB records,
which can leave the rest of a record decrypted inside OpenSSL where the socket no longer
reports it. This proxy reproduces that on any server: it answers the client's SSLRequest,
terminates TLS with the given certificate, and relays the server's bytes (read from its unix
socket) in writes of up to 256 KiB, which TLS cuts into 16 KiB records.

    tls_record_proxy.py --port P --socket /path/.s.PGSQL.5432 --cert C --key K
"""
import argparse
import asyncio
import signal
import ssl
import struct

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104


async def pump_to_client(reader, writer):
    while True:
        data = await reader.read(262144)
        if not data:
            break
        # Gather what follows within a few milliseconds, so writes (and records) are large.
        while len(data) < 262144:
            try:
                more = await asyncio.wait_for(reader.read(262144 - len(data)), 0.003)
            except asyncio.TimeoutError:
                break
            if not more:
                break
            data += more
        writer.write(data)
        await writer.drain()
    writer.close()


async def pump(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


def serve(arguments):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(arguments.cert, arguments.key)

    async def handle(reader, writer):
        try:
            while True:
                header = await reader.readexactly(8)
                length, code = struct.unpack("!II", header)
                if length == 8 and code == GSS_REQUEST:
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break
            if length != 8 or code != SSL_REQUEST:
                writer.close()
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(context)
            server_reader, server_writer = await asyncio.open_unix_connection(arguments.socket)
            await asyncio.gather(pump(reader, server_writer), pump_to_client(server_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", arguments.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        print("ready", flush=True)
        async with server:
            await stop.wait()

    # A test process's children inherit its blocked signals: unblock the ones that stop the proxy.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    serve(parser.parse_args())
