#!/usr/bin/env python3
"""A small keep-alive HTTP/1.1 load on the emulator's Bedrock Get, to show
the emulator is not the bottleneck of the benchmark.

    emu_load.py --url http://127.0.0.1:PORT --connections 64 --seconds 5

Each connection sends GetModelInvocationLoggingConfiguration (with a SigV4
header whose credential scope names a region: the emulator reads the
account and region from it and does not check signatures) back to back on
one kept-alive socket. Prints JSON: requests, seconds, requests per second.
Standard library only; one Python process, so on a small machine it measures
a lower bound of the emulator's capacity (the client is usually the limit:
compare with the emulator's own CPU per request, which bench/run reports).
"""

import argparse
import asyncio
import json
import time
from urllib.parse import urlparse

REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1"]


def request(host, region):
    return (
        "GET /logging/modelinvocations HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Authorization: AWS4-HMAC-SHA256 "
        f"Credential=AKIDBENCHLOAD/20260101/{region}/bedrock/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=00\r\n"
        "X-Amz-Date: 20260101T000000Z\r\n"
        "\r\n"
    ).encode()


async def worker(host, port, req, deadline, counts, index):
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.monotonic() < deadline:
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            done += 1
    finally:
        writer.close()
        counts[index] = done


async def main_async(args):
    url = urlparse(args.url)
    counts = [0] * args.connections
    start = time.monotonic()
    deadline = start + args.seconds
    await asyncio.gather(
        *(
            worker(url.hostname, url.port, request(url.netloc, REGIONS[i % len(REGIONS)]),
                   deadline, counts, i)
            for i in range(args.connections)
        )
    )
    elapsed = time.monotonic() - start
    return {"requests": sum(counts), "seconds": elapsed, "rps": sum(counts) / elapsed,
            "connections": args.connections}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
