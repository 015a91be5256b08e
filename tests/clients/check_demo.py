#!/usr/bin/env python3
"""The official Python MCP client (PyPI `mcp`) queries the demo stack across its three clusters
over HTTP: prod through /mcp, staging through /staging/mcp (user_ro), dev through /dev/mcp
(admin_rw, bearer token). Prints PASS/FAIL lines and `N passed, N failed`."""

import argparse
import asyncio
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

RESULTS = []


def record(name, ok, detail=""):
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)


async def session(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=60)
    return Client(streamable_http_client(url, http_client=http), read_timeout_seconds=60)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    a = ap.parse_args()
    base = a.url.rstrip("/")
    users = {}
    async with await session(f"{base}/mcp") as c:
        r = await c.call_tool("trino_list_connections", {})
        names = [x["name"] for x in (r.structured_content or {}).get("connections", [])]
        record("/mcp lists the composed connection", names == ["prod"], str(names))
        r = await c.call_tool("trino_query", {"sql": "SELECT name FROM memory.sales.users ORDER BY id"})
        users["prod"] = [row["name"] for row in (r.structured_content or {}).get("rows", [])]
        record("/mcp queries prod", not r.is_error and len(users["prod"]) > 0, str(r.content)[:200])
    async with await session(f"{base}/staging/mcp") as c:
        tools = [t.name for t in (await c.list_tools()).tools]
        record("/staging/mcp offers the user_ro tools", tools == [
            "staging_trino_query", "staging_trino_explain", "staging_trino_list_tables",
            "staging_trino_describe_table"], str(tools))
        r = await c.call_tool("staging_trino_query", {"sql": "SELECT name FROM users ORDER BY id"})
        users["staging"] = [row["name"] for row in (r.structured_content or {}).get("rows", [])]
        record("/staging/mcp queries staging", not r.is_error and len(users["staging"]) > 0, str(r.content)[:200])
        r = await c.call_tool("staging_trino_query", {"sql": "DELETE FROM users"})
        record("/staging/mcp refuses writes", r.is_error and "READ_ONLY" in r.content[0].text)
    async with await session(f"{base}/dev/mcp", a.token) as c:
        r = await c.call_tool("dev_trino_query", {"sql": "SELECT count(*) AS n FROM memory.sales.users"})
        record("/dev/mcp answers with its token", not r.is_error, str(r.content)[:200])
    record("prod and staging hold different users", users.get("prod") != users.get("staging"),
           f"{users.get('prod')} vs {users.get('staging')}")
    try:
        async with await session(f"{base}/dev/mcp") as c:
            await c.list_tools()
        record("/dev/mcp refuses a client without its token", False)
    except Exception:  # noqa: BLE001 - any refusal is the expected outcome
        record("/dev/mcp refuses a client without its token", True)
    failed = RESULTS.count(False)
    print(f"\nofficial MCP client vs demo stack: {len(RESULTS) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
