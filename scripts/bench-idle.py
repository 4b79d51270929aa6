#!/usr/bin/env python3
"""Holds N logged-in, idle Teltonika connections open against a running server, spread over
several loopback source addresses (one address to one port offers only ~28,000 ephemeral
ports). Usage: bench-idle.py HOST:PORT N FIRST_IMEI SECONDS_TO_HOLD
Prints how many logged in; exits after holding them. Used by scripts/bench-idle.sh."""
import asyncio
import sys


async def one(host, port, imei, src, held, failed, hold, gate):
    try:
        async with gate:  # at most so many logins in flight; held connections do not count
            r, w = await asyncio.open_connection(host, port, local_addr=(src, 0))
            digits = f"{imei:015d}".encode()
            w.write(len(digits).to_bytes(2, "big") + digits)
            await w.drain()
            answer = await asyncio.wait_for(r.readexactly(1), 60)
        if answer != b"\x01":
            failed.append(imei)
            w.close()
            return
        held.append(imei)
        await hold.wait()
        w.close()
    except Exception:
        failed.append(imei)


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    n, first, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    sources = [f"127.0.0.{i}" for i in range(2, 3 + n // 25000)]
    held, failed = [], []
    hold = asyncio.Event()
    gate = asyncio.Semaphore(256)
    tasks = [
        asyncio.ensure_future(
            one(host, int(port), first + i, sources[i % len(sources)], held, failed, hold, gate)
        )
        for i in range(n)
    ]
    last = -1
    while len(held) + len(failed) < n:
        await asyncio.sleep(1)
        if len(held) // 10000 != last:
            last = len(held) // 10000
            print(f"{len(held)} logged in, {len(failed)} failed", flush=True)
    print(f"logged in and idle: {len(held)}; failed: {len(failed)}", flush=True)
    await asyncio.sleep(seconds)
    hold.set()
    await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main())
