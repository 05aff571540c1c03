"""A TLS front for a plaintext server, so the remote tests can reach a real
Triton over https and grpcs with a certificate of their own making.

    python3 tls_proxy.py CERT KEY LISTEN_PORT:TARGET_PORT...

Prints "ready" once listening; stops when killed.
"""

import asyncio
import ssl
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer, target):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))


async def main():
    cert, key, *pairs = sys.argv[1:]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2", "http/1.1"])
    servers = []
    for pair in pairs:
        listen, target = (int(p) for p in pair.split(":"))
        servers.append(
            await asyncio.start_server(
                lambda r, w, t=target: handle(r, w, t), "127.0.0.1", listen, ssl=context
            )
        )
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
