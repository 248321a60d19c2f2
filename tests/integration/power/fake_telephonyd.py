"""A stand-in telephonyd for the kill tests: answers health checks on a UNIX socket."""

from __future__ import annotations

import asyncio
import sys


async def serve(path: str) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline():
            writer.write(b'{"ok": true, "healthy": true}\n')
            await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(answer, path)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
