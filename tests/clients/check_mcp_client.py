#!/usr/bin/env python3
"""The official Python MCP client (PyPI `mcp`, default mode) lists and calls every tool of the
real `mcp-trino` binary over stdio, against an emulated Trino cluster.

The default mode sends `server/discover` first (protocol 2026-07-28) and falls back to the
`initialize` handshake; either way every call must work. Prints PASS/FAIL lines and
`N passed, N failed`.
"""

import argparse
import asyncio
import json
import sys
from urllib.parse import urlparse

from mcp import Client, StdioServerParameters

RESULTS = []


def record(name, ok, detail=""):
    RESULTS.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def text(result, i=0):
    return result.content[i].text if len(result.content) > i else ""


async def run(binary, url, mode):
    u = urlparse(url)
    env = {"TRINO_HOST": u.hostname, "TRINO_PORT": str(u.port), "TRINO_USER": "analyst",
           "TRINO_CATALOG": "tpch", "TRINO_SCHEMA": "tiny", "MCP_TRINO_LOG": "warn"}
    params = StdioServerParameters(command=binary, args=[], env=env)
    async with Client(params, mode=mode, read_timeout_seconds=60) as c:
        tools = await c.list_tools()
        names = [t.name for t in tools.tools]
        expected = ["trino_query", "trino_explain", "trino_list_catalogs", "trino_list_schemas",
                    "trino_list_tables", "trino_describe_table", "trino_list_connections"]
        record(f"[{mode}] tools/list has the seven tools", names == expected, str(names))
        record(f"[{mode}] every tool has an output schema",
               all(t.output_schema is not None for t in tools.tools))
        calls = [
            ("trino_query", {"sql": "SELECT name FROM region ORDER BY regionkey", "format": "csv"},
             lambda r: text(r).startswith("name\nAFRICA\n")),
            ("trino_query", {"sql": "SELECT nationkey, name FROM nation ORDER BY nationkey", "limit": 2},
             lambda r: r.structured_content["rows"] == [{"nationkey": 0, "name": "ALGERIA"},
                                                        {"nationkey": 1, "name": "ARGENTINA"}]
             and r.structured_content["stats"]["truncated"] is True),
            ("trino_explain", {"sql": "SELECT 1", "type": "validate"},
             lambda r: r.structured_content == {"type": "VALIDATE", "plan": "true"}),
            ("trino_list_catalogs", {}, lambda r: "tpch" in r.structured_content["catalogs"]),
            ("trino_list_schemas", {"catalog": "tpch"}, lambda r: "tiny" in r.structured_content["schemas"]),
            ("trino_list_tables", {"catalog": "tpch", "schema": "tiny", "pattern": "n%"},
             lambda r: r.structured_content["tables"] == ["nation"]),
            ("trino_describe_table", {"catalog": "tpch", "schema": "tiny", "table": "nation"},
             lambda r: r.structured_content["column_count"] == 4 and r.structured_content["sample_count"] == 5),
            ("trino_list_connections", {},
             lambda r: r.structured_content["connections"][0]["name"] == "default"),
        ]
        for tool, args, check in calls:
            r = await c.call_tool(tool, args)
            ok = not r.is_error and check(r)
            record(f"[{mode}] {tool} {json.dumps(args)}", ok, "" if ok else text(r)[:300])
        r = await c.call_tool("trino_query", {"sql": "DELETE FROM nation"})
        envelope = r.structured_content or {}
        refused = r.is_error and envelope.get("error", {}).get("code") == "READ_ONLY"
        record(f"[{mode}] a refused write is an isError result with the envelope", refused,
               "" if refused else text(r)[:300])


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--url", required=True)
    a = ap.parse_args()
    for mode in ("auto", "legacy"):
        try:
            await run(a.binary, a.url, mode)
        except Exception as e:  # noqa: BLE001 - a broken session is one failure, reported
            record(f"[{mode}] session", False, f"{type(e).__name__}: {e}")
    failed = sum(1 for _, ok in RESULTS if not ok)
    print(f"\nofficial MCP client vs mcp-trino: {len(RESULTS) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
