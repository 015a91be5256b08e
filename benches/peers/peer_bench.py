#!/usr/bin/env python3
"""Peer benchmark: our `mcp-trino` against Trino MCP servers published on PyPI.

    peer_bench.py setup [--venvs DIR]
    peer_bench.py run --emulator-url http://127.0.0.1:PORT --ours-bin target/debug/mcp-trino \
                      [--quick] [--out results.json]
    peer_bench.py spec --emulator-url http://127.0.0.1:PORT --ours-bin target/release/mcp-trino \
                       --out-dir DIR

See benches/peers/README.md. `setup` only needs the standard library; `run` needs the official
Python MCP client (`mcp==2.3.0`) and re-executes itself with the client venv made by `setup`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_VENVS = REPO / "target" / "peer-venvs"

# Every version is pinned. `mcp[cli]==1.30.0` is what `mcp[cli]<2` resolves to today; the
# FastMCP-v1 peer needs it because its code imports `mcp.server.fastmcp`, gone in mcp 2.x.
CLIENT_MCP = "mcp==2.3.0"
VENVS = {
    # name: (python, [pip install steps, each a list of requirements])
    "client": ("python3", [[CLIENT_MCP]]),
    "akko-mcp-trino": ("python3.12", [["akko-mcp-trino==0.6.0"]]),
    "mcp-trino-python": ("python3.12", [["mcp-trino-python==0.7.1"], ["mcp[cli]==1.30.0"]]),
    "trino-mcp": ("python3", [["trino-mcp==0.2.7"]]),
}
PEERS = ["akko-mcp-trino", "mcp-trino-python", "trino-mcp"]
STAMP = ".peer-bench-stamp"
PIP_TIMEOUT_S = 900

# Variables never handed to a server we start (httpx inside the peers chokes on some of them),
# nor to anything else: the servers get a small explicit environment (see `base_env`).
DROPPED_ENV = {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "AWS_CA_BUNDLE"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# setup


def python_version_ok(exe: str, want: tuple[int, int] | None) -> str | None:
    """The `X.Y.Z` of a working interpreter, or None (pyenv shims exit 127 for a version not
    selected, so a name on PATH is not enough)."""
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True, text=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    ver = out.stdout.strip()
    if want and tuple(int(x) for x in ver.split(".")[:2]) != want:
        return None
    return ver


def find_python(name: str, override: str | None = None) -> tuple[str, str]:
    """(path, version) of `python3` (any >= 3.10) or `python3.12`; raises with what was tried."""
    tried = []
    if name == "python3":
        cands = [override] if override else []
        base = getattr(sys, "_base_executable", None) if sys.prefix != sys.base_prefix else sys.executable
        cands += [base, shutil.which("python3"), "/usr/bin/python3"]
        want = None
    else:
        cands = [override] if override else []
        cands.append(os.environ.get("PEER_BENCH_PYTHON312"))
        cands.append(shutil.which("python3.12"))
        roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
        for root in filter(None, roots):
            cands += sorted(str(p) for p in Path(root).glob("versions/3.12*/bin/python3.12"))
        cands += ["/usr/local/bin/python3.12", "/usr/bin/python3.12"]
        want = (3, 12)
    for c in cands:
        if not c or c in tried:
            continue
        tried.append(c)
        ver = python_version_ok(c, want)
        if ver and (want or tuple(int(x) for x in ver.split(".")[:2]) >= (3, 10)):
            return c, ver
    raise RuntimeError(f"no working {name} (tried {', '.join(tried) or 'nothing'})")


def setup_venv(name: str, venvs: Path, args) -> tuple[bool, str]:
    py_name, steps = VENVS[name]
    venv = venvs / name
    stamp_want = {"name": name, "steps": steps}
    stamp = venv / STAMP
    if not args.force and stamp.exists():
        try:
            got = json.loads(stamp.read_text())
            if got.get("name") == name and got.get("steps") == steps and (venv / "bin" / "python").exists():
                return True, f"up to date (python {got.get('python')})"
        except (OSError, ValueError):
            pass
    py, ver = find_python(py_name, args.python312 if py_name == "python3.12" else None)
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    logf = venvs / f"{name}.install.log"
    with open(logf, "w") as lf:
        def step(cmd):
            lf.write("$ " + " ".join(cmd) + "\n")
            lf.flush()
            r = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, timeout=PIP_TIMEOUT_S)
            if r.returncode != 0:
                raise RuntimeError(f"`{' '.join(cmd)}` exited {r.returncode}; see {logf}")
        step([py, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        for reqs in steps:
            step(pip + reqs)
        # Record what actually got installed (pip freeze) next to the stamp.
        frz = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "freeze"],
                             capture_output=True, text=True, timeout=120)
        (venv / "peer-bench-freeze.txt").write_text(frz.stdout)
    stamp.write_text(json.dumps({**stamp_want, "python": ver, "installed_at": time.time()}))
    return True, f"installed with python {ver} ({py})"


def cmd_setup(args) -> int:
    venvs = Path(args.venvs).resolve()
    venvs.mkdir(parents=True, exist_ok=True)
    names = args.only or list(VENVS)
    failed = 0
    for name in names:
        if name not in VENVS:
            log(f"unknown venv {name!r}; known: {', '.join(VENVS)}")
            failed += 1
            continue
        t0 = time.monotonic()
        try:
            ok, msg = setup_venv(name, venvs, args)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            ok, msg = False, f"FAILED: {e}"
            (venvs / name / STAMP).unlink(missing_ok=True)
        failed += 0 if ok else 1
        log(f"setup {name:18} {msg} [{time.monotonic() - t0:.1f}s]")
    # Exit 1 without the client venv (`run` cannot work), 2 when only peers failed (`run`
    # reports them as not installed and measures the rest), 0 when everything is in place.
    if "client" in names and not (venvs / "client" / STAMP).exists():
        return 1
    return 2 if failed else 0


# --------------------------------------------------------------------------------------------
# run: what is measured

PAGING_SQL = "SELECT * FROM tpch.tiny.orders LIMIT 10000"  # tpch.tiny.orders has 15,000 rows
PAGING_ROWS = 10_000
SMALL_SQL = "SELECT nationkey, name FROM tpch.tiny.nation"
SMALL_ROWS = 25
LEVELS = (8, 64)
PROFILES = {
    # paging calls per server, seconds of load per (transport, level), seconds per server
    # raw_reps: the same paging call without the client library; ours_modern_stdio: also load
    # our server over stdio in the 2026-07-28 era (no peer is compared with it: akko, the one
    # modern peer, is compared over HTTP), left out of the quick profile to save time.
    "quick": {"paging_reps": 2, "raw_reps": 1, "duration": 3.0, "server_budget": 100.0,
              "run_budget": 225.0, "ours_modern_stdio": False},
    "full": {"paging_reps": 7, "raw_reps": 5, "duration": 12.0, "server_budget": 200.0,
             "run_budget": 570.0, "ours_modern_stdio": True},
}
START_TIMEOUT = 30.0  # an HTTP server must listen within this
READ_TIMEOUT = 60.0  # the MCP client's timeout for any one response
PAGING_CALL_TIMEOUT = 90.0
SMALL_CALL_TIMEOUT = 30.0
SESSIONS_TIMEOUT = 60.0  # all sessions of a level connected and warmed up within this
CONNECT_PARALLELISM = 16  # sessions opened at once while setting a level up
TRINO_USER = "peer-bench"
MODERN = "2026-07-28"


class Failure(Exception):
    """A server or a phase that could not be measured: reported, never fatal for the run."""


def reason(e: BaseException) -> str:
    """One line for a failure, from the first leaf of an exception group."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    if isinstance(e, Failure):
        return str(e)
    text = str(e).strip().replace("\n", " ")
    if not text and isinstance(e, TimeoutError):
        text = "timed out"
    return f"{type(e).__name__}: {text[:240]}" if text else type(e).__name__


def tail(path: Path, n: int = 2, width: int = 200) -> str:
    """The last lines of a server's log, to explain a failure to start."""
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(ln[:width] for ln in lines[-n:])


def base_env() -> dict[str, str]:
    """The environment every server starts with: a few harmless variables, nothing else (no CA
    bundles, no proxies, no credentials of this machine)."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ")
           if k in os.environ}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installed_version(venv: Path, dist: str) -> str | None:
    try:
        for line in (venv / "peer-bench-freeze.txt").read_text().splitlines():
            name, _, ver = line.partition("==")
            if name.strip().lower().replace("_", "-") == dist:
                return ver.strip()
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# run: the servers


class Ctx:
    def __init__(self, args, emu_host: str, emu_port: int, outdir: Path):
        self.args = args
        self.venvs = Path(args.venvs).resolve()
        self.emu_host, self.emu_port = emu_host, emu_port
        self.outdir = outdir
        self.logdir = outdir / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        # Servers run in an empty directory: two peers read a `.env` from their working
        # directory (or above it), and nothing of this repository should reach them that way.
        self.scratch = outdir / "cwd"
        self.scratch.mkdir(exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        self.open_files: list = []

    def logfile(self, name: str):
        f = open(self.logdir / f"{name}.log", "ab")
        self.open_files.append(f)
        return f


class Server:
    key = ""
    label = ""
    dist = ""  # PyPI name, for the version
    venv_name: str | None = None
    # "auto" = what the official client does by default: `server/discover` first, then the
    # `initialize` handshake if the server does not know it. "legacy" = `initialize` only.
    mode = "auto"
    tool = ""
    has_http = True
    notes = ""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.venv = ctx.venvs / self.venv_name if self.venv_name else None

    def available(self) -> str | None:
        """None when the server can be run, else why not."""
        if self.venv is not None and not (self.venv / STAMP).exists():
            return f"not installed (run `peer_bench.py setup`; see {self.ctx.venvs}/{self.venv_name}.install.log)"
        return None

    def version(self) -> str | None:
        return installed_version(self.venv, self.dist) if self.venv else None

    def trino_env(self) -> dict[str, str]:
        c = self.ctx
        return {"TRINO_HOST": c.emu_host, "TRINO_PORT": str(c.emu_port), "TRINO_USER": TRINO_USER,
                "TRINO_CATALOG": "tpch", "TRINO_SCHEMA": "tiny"}

    def stdio(self) -> tuple[str, list[str], dict[str, str]]:
        raise NotImplementedError

    def http(self, port: int, port2: int | None = None) -> tuple[list[str], dict[str, str], str]:
        """argv, environment and MCP URL of the HTTP server on `port` (`port2`: a second port,
        for a peer that needs one)."""
        raise NotImplementedError

    def call_args(self, sql: str, rows: int | None) -> dict:
        """Arguments of the query tool; `rows` None = the tool's default row cap (small calls)."""
        raise NotImplementedError

    @staticmethod
    def text(result) -> str:
        return "".join(getattr(c, "text", "") for c in result.content)

    def parse(self, result) -> tuple[int | None, str | None, dict]:
        """(rows returned, error or None, extra facts such as a truncation flag)."""
        raise NotImplementedError


class Ours(Server):
    key, label, tool = "ours", "mcp-trino (ours)", "trino_query"
    notes = ("trino_query {sql, limit, format: json}; limit 1..10000 (default 1000); no rate or "
             "concurrency limits unless configured (none are)")

    def __init__(self, ctx: Ctx, legacy: bool = False):
        super().__init__(ctx)
        self.bin = str(Path(ctx.args.ours_bin).resolve())
        if legacy:
            # The same server driven with the `initialize` handshake, to compare it with the
            # peers that only speak the handshake-era protocol.
            self.key, self.label, self.mode = "ours-legacy", "mcp-trino (ours, legacy handshake)", "legacy"

    def available(self):
        return None if os.access(self.bin, os.X_OK) else f"not executable: {self.bin}"

    def version(self):
        try:
            out = subprocess.run([self.bin, "--version"], capture_output=True, text=True, timeout=10)
            return (out.stdout.split() or [None])[-1]  # "mcp-trino 0.1.0" -> "0.1.0"
        except (OSError, subprocess.TimeoutExpired):
            return None

    def env(self):
        # No YAML and no `limits:`: requests per window and concurrent queries are unlimited
        # (the README documents limits only per connection in YAML; there is no environment
        # variable for them). `check_limits` confirms it with `check-config` before the run.
        return {**base_env(), **self.trino_env(), "TRINO_SSL": "false", "MCP_TRINO_LOG": "info"}

    def stdio(self):
        return self.bin, ["serve", "--transport", "stdio"], self.env()

    def http(self, port, port2=None):
        argv = [self.bin, "serve", "--transport", "http", "--bind", f"127.0.0.1:{port}"]
        return argv, self.env(), f"http://127.0.0.1:{port}/mcp"

    def call_args(self, sql, rows):
        args = {"sql": sql, "format": "json"}
        if rows:
            args["limit"] = rows
        return args

    def parse(self, r):
        t = self.text(r)
        if r.is_error:
            return None, t[:160], {}
        obj = json.loads(t)
        extra = {}
        sc = r.structured_content or {}
        if isinstance(sc.get("stats"), dict):
            extra["truncated"] = sc["stats"].get("truncated")
        return len(obj["rows"]), None, extra

    def check_limits(self) -> dict:
        out = subprocess.run([self.bin, "check-config"], env=self.env(), cwd=self.ctx.scratch,
                             capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise Failure(f"check-config exited {out.returncode}: {out.stderr.strip()[:200]}")
        try:
            cfg = json.loads(out.stdout)
        except ValueError:
            return {"check_config": "not JSON"}
        found = {}

        def walk(o, path):
            if isinstance(o, dict):
                for k, v in o.items():
                    if k == "limits":
                        found[path or "root"] = v
                    walk(v, f"{path}.{k}" if path else k)
            elif isinstance(o, list):
                for i, v in enumerate(o):
                    walk(v, f"{path}[{i}]")
        walk(cfg, "")
        return found


class Akko(Server):
    key = label = dist = venv_name = "akko-mcp-trino"
    tool = "execute_query"
    notes = ("execute_query {sql, max_rows}; rows capped by TRINO_MAX_ROWS (default 100, set to "
             "10000 here; max_rows can only lower it); HTTP binds 0.0.0.0 (hard-coded), so "
             "MCP_ALLOWED_HOSTS limits the Host header to 127.0.0.1")

    def env(self, extra):
        return {**base_env(), **self.trino_env(), "MCP_AUTH_ENABLED": "false",
                "MCP_AUTH_REQUIRED": "false", "TRINO_IDENTITY_MODE": "service",
                "TRINO_HTTP_SCHEME": "http", "TRINO_MAX_ROWS": str(PAGING_ROWS), **extra}

    def stdio(self):
        return str(self.venv / "bin" / "akko-mcp-trino"), [], self.env({"MCP_TRANSPORT": "stdio"})

    def http(self, port, port2=None):
        env = self.env({"MCP_TRANSPORT": "streamable-http", "MCP_PORT": str(port),
                        "MCP_HEALTH_PORT": str(port2 or free_port()), "MCP_ALLOWED_HOSTS": "127.0.0.1:*"})
        return [str(self.venv / "bin" / "akko-mcp-trino")], env, f"http://127.0.0.1:{port}/mcp"

    def call_args(self, sql, rows):
        return {"sql": sql, "max_rows": rows} if rows else {"sql": sql}

    def parse(self, r):
        t = self.text(r)
        if r.is_error:
            return None, t[:160], {}
        obj = json.loads(t)
        if "error" in obj:  # errors come back in-band with isError=false
            return None, str(obj["error"])[:160], {}
        return len(obj["rows"]), None, {"truncated": obj.get("truncated")}


class McpTrinoPython(Server):
    key = label = dist = venv_name = "mcp-trino-python"
    # FastMCP v1 (mcp 1.30.0): it does not know `server/discover`, answers the probe with an
    # error after logging a long validation warning, and only then gets `initialize`. Legacy
    # mode goes straight to `initialize`, as a v1 client would.
    mode = "legacy"
    tool = "execute_query"
    notes = ("execute_query {query}; no row cap (fetchall, JSON list of row objects); "
             "HTTP is stateless with JSON responses; needs PYTHONPATH=<site-packages>/src")

    def site(self) -> Path:
        return next((self.venv / "lib").glob("python3.*/site-packages"))

    def env(self):
        return {**base_env(), **self.trino_env(), "TRINO_HTTP_SCHEME": "http",
                "PYTHONPATH": str(self.site() / "src")}

    def stdio(self):
        return str(self.venv / "bin" / "mcp-trino"), [], self.env()

    def http(self, port, port2=None):
        argv = [str(self.venv / "bin" / "python"), str(self.site() / "src" / "server.py"),
                "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port)]
        return argv, self.env(), f"http://127.0.0.1:{port}/mcp"

    def call_args(self, sql, rows):
        return {"query": sql}  # no row argument: the LIMIT is in the SQL

    def parse(self, r):
        t = self.text(r)
        if r.is_error:
            return None, t[:160], {}
        try:
            rows = json.loads(t)
        except ValueError:
            return None, t[:160], {}
        return (len(rows), None, {}) if isinstance(rows, list) else (None, t[:160], {})


class TrinoMcp(Server):
    key = label = dist = venv_name = "trino-mcp"
    mode = "legacy"  # FastMCP v1, as above
    tool = "execute_query_read_only"
    has_http = False  # stdio only (`mcp.run()` with no transport option)
    notes = ("execute_query_read_only {query}; stdio only; no row cap; errors in-band with "
             "isError=false; --max-concurrent-queries defaults to 1 (calls over it are refused "
             "in-band at once), set to 128 here; logs at DEBUG")

    def stdio(self):
        c = self.ctx
        args = ["--trino-host", c.emu_host, "--trino-port", str(c.emu_port),
                "--trino-user", TRINO_USER, "--trino-catalog", "tpch", "--trino-schema", "tiny",
                "--trino-http-scheme", "http", "--auth-method", "NONE",
                "--max-concurrent-queries", "128"]
        return str(self.venv / "bin" / "trino-mcp"), args, base_env()

    def call_args(self, sql, rows):
        return {"query": sql}

    def parse(self, r):
        t = self.text(r)
        if r.is_error or t.startswith("Error"):
            return None, t[:160], {}
        try:
            rows = json.loads(t)
        except ValueError:
            return None, t[:160], {}
        return (len(rows), None, {}) if isinstance(rows, list) else (None, t[:160], {})


PEER_CLASSES = {"akko-mcp-trino": Akko, "mcp-trino-python": McpTrinoPython, "trino-mcp": TrinoMcp}


# --------------------------------------------------------------------------------------------
# run: the emulator, seen directly


def trino_direct(base: str, sql: str, timeout: float = 120.0) -> tuple[int, float]:
    """Run `sql` on the emulator with the plain REST protocol: (rows, seconds). Warms it up
    (its first tpch query is much slower than the next) and gives a floor for the paging call."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    t0 = time.perf_counter()
    req = urllib.request.Request(base.rstrip("/") + "/v1/statement", data=sql.encode(), method="POST",
                                 headers={"X-Trino-User": TRINO_USER, "X-Trino-Catalog": "tpch",
                                          "X-Trino-Schema": "tiny"})
    rows = 0
    while True:
        left = timeout - (time.perf_counter() - t0)
        if left <= 0:
            raise Failure(f"emulator: no answer within {timeout:.0f}s")
        with opener.open(req, timeout=left) as resp:
            page = json.loads(resp.read())
        if page.get("error"):
            raise Failure(f"emulator: {page['error'].get('errorName')}: {page['error'].get('message', '')[:160]}")
        rows += len(page.get("data") or [])
        nxt = page.get("nextUri")
        if not nxt:
            return rows, time.perf_counter() - t0
        req = urllib.request.Request(nxt, headers={"X-Trino-User": TRINO_USER})


def start_emulator(binary: str, ctx_logdir: Path, procs: list) -> str:
    logf = open(ctx_logdir / "trino-emulator.log", "ab")
    p = subprocess.Popen([binary, "--bind", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=logf,
                         stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    procs.append(p)
    import select
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise Failure(f"trino-emulator exited with {p.returncode}")
        ready, _, _ = select.select([p.stdout], [], [], 0.5)
        if ready:
            line = p.stdout.readline()
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                # Keep draining stdout so that the emulator never blocks on a full pipe.
                import threading
                threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
                return m.group(1)
    raise Failure("trino-emulator did not print its address in time")


# --------------------------------------------------------------------------------------------
# run: measuring


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their descendants (threads included)."""
    total, seen = 0.0, set()
    for pid in pids:
        for p in [pid] + descendants(pid):
            if p in seen:
                continue
            seen.add(p)
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            except (OSError, ValueError, IndexError):
                pass
    return total


def own_cpu() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def raw_stdio_paging(server, cwd: Path, errlog, reps: int, timeout: float) -> dict:
    """The paging call again without the MCP client library: JSON-RPC lines written to the
    server's stdin by hand (`initialize` handshake, which every server here accepts), timed
    until the response line has fully arrived. What this leaves out of the client-library
    figure is the client's own work: parsing, pydantic models, output-schema validation."""
    import select
    cmd, args, env = server.stdio()
    p = subprocess.Popen([cmd, *args], env=env, cwd=cwd, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=errlog, start_new_session=True)
    buf = bytearray()

    def send(obj):
        p.stdin.write((json.dumps(obj) + "\n").encode())
        p.stdin.flush()

    def reply(want_id, deadline):
        nonlocal buf
        while True:
            nl = buf.find(b"\n")
            while nl >= 0:
                line, buf = bytes(buf[:nl]), buf[nl + 1:]
                try:
                    msg = json.loads(line)
                except ValueError:
                    msg = None
                if isinstance(msg, dict) and msg.get("id") == want_id:
                    return msg, len(line)
                nl = buf.find(b"\n")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"raw stdio: no answer within {timeout:.0f}s")
            r, _, _ = select.select([p.stdout], [], [], min(left, 1.0))
            if r:
                chunk = os.read(p.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise Failure(f"raw stdio: server exited ({p.poll()})")
                buf += chunk

    try:
        send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "peer-bench-raw", "version": "1"}}})
        msg, _ = reply(0, time.monotonic() + timeout)
        if "error" in msg:
            raise Failure(f"raw stdio: initialize refused: {str(msg['error'])[:160]}")
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        times, size = [], 0
        for i in range(reps + 1):  # the first call warms up and is not counted
            send({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
                  "params": {"name": server.tool, "arguments": server.call_args(PAGING_SQL, PAGING_ROWS)}})
            t0 = time.perf_counter()
            msg, size = reply(i + 1, time.monotonic() + timeout)
            if i:
                times.append(time.perf_counter() - t0)
            if "error" in msg or (msg.get("result") or {}).get("isError"):
                raise Failure(f"raw stdio: call failed: {str(msg.get('error') or msg['result'])[:160]}")
        return {"median_ms": round(statistics.median(times) * 1000, 1), "response_bytes": size}
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
        stop(p, grace=3.0)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    import math
    k = max(0, min(len(values) - 1, math.ceil(q / 100.0 * len(values)) - 1))
    return values[k]


class Bench:
    def __init__(self, ctx: Ctx, profile: dict):
        import anyio
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client
        self.anyio, self.Client = anyio, Client
        self.StdioServerParameters, self.stdio_client = StdioServerParameters, stdio_client
        self.ctx, self.p = ctx, profile

    def client(self, server: Server, target, read_timeout: float = READ_TIMEOUT):
        """One MCP session: `target` is a URL (Streamable HTTP) or None (spawn over stdio)."""
        if target is None:
            cmd, args, env = server.stdio()
            params = self.StdioServerParameters(command=cmd, args=args, env=env, cwd=str(self.ctx.scratch))
            target = self.stdio_client(params, errlog=self.ctx.logfile(f"{server.key}-stdio"))
        # cache=None: no client-side response cache may answer a call in place of the server.
        return self.Client(target, mode=server.mode, read_timeout_seconds=read_timeout, cache=None)

    async def open_checked(self, stack, server: Server, target, read_timeout: float = READ_TIMEOUT):
        c = await stack.enter_async_context(self.client(server, target, read_timeout))
        tools = await c.list_tools()
        names = [t.name for t in tools.tools]
        if server.tool not in names:
            raise Failure(f"tool {server.tool} not offered (tools: {', '.join(names)[:200]})")
        return c

    async def call(self, c, server: Server, sql: str, rows: int | None, timeout: float):
        """(rows, error, extra, text chars, seconds): the seconds cover the tool call as the
        client library returns it, not our own parsing of the text afterwards."""
        args = server.call_args(sql, rows)
        with self.anyio.fail_after(timeout):
            t0 = time.perf_counter()
            r = await c.call_tool(server.tool, args)
            dt = time.perf_counter() - t0
        n, err, extra = server.parse(r)
        return n, err, extra, sum(len(getattr(x, "text", "")) for x in r.content), dt

    # ---- paging: one call returning 10,000 rows, over stdio for every server

    async def paging(self, server: Server) -> dict:
        from contextlib import AsyncExitStack
        reps = self.p["paging_reps"]
        async with AsyncExitStack() as stack:
            c = await self.open_checked(stack, server, None, PAGING_CALL_TIMEOUT)
            proto = c.protocol_version
            n, err, extra, size, _ = await self.call(c, server, PAGING_SQL, PAGING_ROWS, PAGING_CALL_TIMEOUT)
            if err:
                raise Failure(f"warm-up call failed: {err}")
            times, counts = [], []
            for _ in range(reps):
                n, err, extra, size, dt = await self.call(c, server, PAGING_SQL, PAGING_ROWS, PAGING_CALL_TIMEOUT)
                times.append(dt)
                if err:
                    raise Failure(f"call failed: {err}")
                counts.append(n)
        return {"status": "ok", "transport": "stdio", "protocol": proto, "tool": server.tool,
                "arguments": server.call_args(PAGING_SQL, PAGING_ROWS), "reps": reps,
                "median_ms": round(statistics.median(times) * 1000, 1),
                "min_ms": round(min(times) * 1000, 1), "max_ms": round(max(times) * 1000, 1),
                "rows": counts[-1], "rows_requested": PAGING_ROWS,
                "truncated": extra.get("truncated", counts[-1] < PAGING_ROWS),
                "text_chars": size}

    # ---- throughput: small calls from N concurrent clients for a fixed time

    async def load(self, server: Server, url: str | None, clients: int, pids: list[int] | None = None) -> dict:
        """`url`: one MCP session per client over Streamable HTTP. None: one stdio session with
        `clients` requests in flight at once."""
        from contextlib import AsyncExitStack
        anyio = self.anyio
        duration = self.p["duration"]
        lat: list[float] = []
        errors: dict[str, int] = {}
        state = {"ready": 0, "failed": [], "start": 0.0, "deadline": 0.0, "last": 0.0, "abort": False,
                 "protocol": None, "pids": list(pids or []), "running": clients, "cpu": None}
        all_ready, go = anyio.Event(), anyio.Event()
        limiter = anyio.CapacityLimiter(CONNECT_PARALLELISM)

        async def loop(c):
            try:
                await measured(c)
            finally:
                state["running"] -= 1
                if state["running"] == 0 and state["cpu"] is not None:
                    # The last call is done: CPU used by the server and by this client since `go`.
                    s0, c0 = state["cpu"]
                    state["cpu"] = (cpu_seconds(state["pids"]) - s0, own_cpu() - c0)

        async def measured(c):
            while not state["abort"]:
                t0 = time.perf_counter()
                if t0 >= state["deadline"]:
                    break
                dt = None
                try:
                    n, err, _, _, dt = await self.call(c, server, SMALL_SQL, None, SMALL_CALL_TIMEOUT)
                    if err is None and n != SMALL_ROWS:
                        err = f"{n} rows instead of {SMALL_ROWS}"
                except TimeoutError:
                    err = f"no answer within {SMALL_CALL_TIMEOUT:.0f}s"
                except Exception as e:  # noqa: BLE001 - every failed call is counted, none stops the run
                    err = reason(e)
                t1 = time.perf_counter()
                state["last"] = max(state["last"], t1)
                if err is None:
                    lat.append(dt)
                else:
                    key = re.sub(r"\d+", "N", err)[:120]
                    errors[key] = errors.get(key, 0) + 1

        def arrived(failure: str | None = None):
            if failure:
                state["failed"].append(failure)
            state["ready"] += 1
            if state["ready"] >= (clients if url else 1):
                all_ready.set()

        async def warm(c):
            n, err, _, _, _ = await self.call(c, server, SMALL_SQL, None, SMALL_CALL_TIMEOUT)
            if err:
                raise Failure(f"warm-up call failed: {err}")

        async def session(workers: int, first: bool):
            try:
                async with AsyncExitStack() as stack:
                    before = set(descendants(os.getpid())) if url is None else set()
                    async with limiter:
                        c = await self.open_checked(stack, server, url)
                        if url is None:  # the stdio server we just spawned
                            state["pids"] = sorted(set(descendants(os.getpid())) - before)
                        state["protocol"] = c.protocol_version
                        # Every session is opened, has listed the tools and made one call before
                        # the clock starts: a session's first call costs the client more (it
                        # compiles the tool's output schema, for one), and would weigh heavily
                        # in a short window with 64 sessions.
                        await warm(c)
                    arrived()
                    await go.wait()
                    async with anyio.create_task_group() as tg:
                        for _ in range(workers):
                            tg.start_soon(loop, c)
            except Exception as e:  # noqa: BLE001
                if not go.is_set():
                    arrived(reason(e))
                else:
                    key = "session: " + reason(e)[:100]
                    errors[key] = errors.get(key, 0) + 1

        t_setup = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(clients if url else 1):
                tg.start_soon(session, 1 if url else clients, i == 0)
            with anyio.move_on_after(SESSIONS_TIMEOUT):
                await all_ready.wait()
            setup_s = time.perf_counter() - t_setup
            if state["failed"] or not all_ready.is_set():
                state["abort"] = True
                go.set()
                tg.cancel_scope.cancel()
            else:
                state["cpu"] = (cpu_seconds(state["pids"]), own_cpu())
                state["start"] = time.perf_counter()
                state["deadline"] = state["start"] + duration
                go.set()
        if state["failed"] or not all_ready.is_set():
            n_failed = len(state["failed"]) or "some"
            first = state["failed"][0] if state["failed"] else f"not connected within {SESSIONS_TIMEOUT:.0f}s"
            raise Failure(f"{n_failed} of {clients if url else 1} sessions failed to start: {first}")
        elapsed = max(state["last"], state["deadline"]) - state["start"]
        lat.sort()
        n_err = sum(errors.values())
        return {"status": "ok", "clients": clients,
                "transport": "streamable-http" if url else "stdio",
                "sessions": clients if url else 1, "protocol": state["protocol"],
                "duration_s": round(elapsed, 2), "setup_s": round(setup_s, 2),
                "calls_ok": len(lat), "errors": n_err, "error_kinds": errors,
                "calls_per_s": round(len(lat) / elapsed, 1) if elapsed > 0 else None,
                "p50_ms": round(pct(lat, 50) * 1000, 1) if lat else None,
                "p99_ms": round(pct(lat, 99) * 1000, 1) if lat else None,
                "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
                "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                # CPU per successful call: the server process (with its threads and children) and
                # this client. On a saturated 2-core machine these say more than calls/s alone.
                "server_cpu_ms_per_call": (round(state["cpu"][0] / len(lat) * 1000, 2)
                                           if lat and state["pids"] and state["running"] == 0 else None),
                "client_cpu_ms_per_call": (round(state["cpu"][1] / len(lat) * 1000, 2)
                                           if lat and state["running"] == 0 else None)}

    # ---- one server, every phase, within its budget

    async def start_http(self, server: Server) -> tuple[subprocess.Popen, str]:
        port = free_port()
        argv, env, url = server.http(port)
        logpath = self.ctx.logdir / f"{server.key}-http.log"
        p = subprocess.Popen(argv, env=env, cwd=self.ctx.scratch, stdin=subprocess.DEVNULL,
                             stdout=self.ctx.logfile(f"{server.key}-http"), stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.ctx.procs.append(p)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise Failure(f"HTTP server exited with {p.returncode}: {tail(logpath)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return p, url
            except OSError:
                await self.anyio.sleep(0.1)
        raise Failure(f"HTTP server not listening on port {port} after {START_TIMEOUT:.0f}s: {tail(logpath)}")

    async def server(self, server: Server, budget: float) -> dict:
        res: dict = {"label": server.label, "version": server.version(), "mode": server.mode,
                     "tool": server.tool, "small_call_arguments": server.call_args(SMALL_SQL, None),
                     "notes": server.notes, "status": "ok"}
        why = server.available()
        if why:
            res["status"] = f"failed: {why}"
            return res
        if isinstance(server, Ours):
            try:
                res["limits"] = server.check_limits()
            except (Failure, OSError, subprocess.TimeoutExpired) as e:
                res["limits"] = f"unknown: {reason(e)}"
        res["throughput"] = {}
        log_stdio = self.ctx.logdir / f"{server.key}-stdio.log"
        t0 = time.monotonic()
        with self.anyio.move_on_after(budget) as scope:
            log(f"[{server.key}] paging: {self.p['paging_reps']} x {PAGING_SQL!r} over stdio")
            try:
                res["paging"] = await self.paging(server)
                res["protocol"] = res["paging"]["protocol"]
                try:
                    raw = await self.anyio.to_thread.run_sync(
                        raw_stdio_paging, server, self.ctx.scratch, self.ctx.logfile(f"{server.key}-stdio"),
                        self.p["raw_reps"], PAGING_CALL_TIMEOUT, abandon_on_cancel=True)
                    res["paging"]["raw_stdio_median_ms"] = raw["median_ms"]
                    res["paging"]["response_bytes"] = raw["response_bytes"]
                except Exception as e:  # noqa: BLE001
                    res["paging"]["raw_stdio"] = f"failed: {reason(e)}"
            except Exception as e:  # noqa: BLE001
                last = tail(log_stdio, 1)
                res["paging"] = {"status": f"failed: {reason(e)}" + (f" [log: {last}]" if last else "")}
            transports = (["streamable-http"] if server.has_http else []) + ["stdio"]
            if server.has_http and not isinstance(server, Ours):
                transports = ["streamable-http"]  # peers: HTTP where they have it, stdio otherwise
            if server.key == "ours" and not self.p["ours_modern_stdio"]:
                transports = ["streamable-http"]
            for transport in transports:
                res["throughput"][transport] = {}
                proc = url = None
                try:
                    if transport == "streamable-http":
                        proc, url = await self.start_http(server)
                    for n in LEVELS:
                        log(f"[{server.key}] throughput: {n} clients over {transport}, {self.p['duration']:.0f}s")
                        try:
                            r = await self.load(server, url, n, [proc.pid] if proc else None)
                            res.setdefault("protocol", r["protocol"])
                        except Exception as e:  # noqa: BLE001
                            logpath = log_stdio if proc is None else self.ctx.logdir / f"{server.key}-http.log"
                            last = tail(logpath, 1)
                            r = {"status": f"failed: {reason(e)}" + (f" [log: {last}]" if last else "")}
                        res["throughput"][transport][str(n)] = r
                        log(f"[{server.key}]   -> " + (f"{r['calls_per_s']} calls/s, p50 {r['p50_ms']} ms, "
                                                      f"p99 {r['p99_ms']} ms, {r['errors']} errors"
                                                      if r.get("status") == "ok" else r["status"]))
                except Exception as e:  # noqa: BLE001
                    res["throughput"][transport] = {"status": f"failed: {reason(e)}"}
                finally:
                    if proc is not None:
                        stop(proc)
        if scope.cancelled_caught:
            res["status"] = f"failed: over its {budget:.0f}s budget; the phases not shown did not finish"
        elif not any_ok(res):
            res["status"] = "failed: no phase produced figures (see the phases' reasons and the logs)"
        res["elapsed_s"] = round(time.monotonic() - t0, 1)
        return res


def any_ok(res: dict) -> bool:
    if (res.get("paging") or {}).get("status") == "ok":
        return True
    return any(isinstance(r, dict) and r.get("status") == "ok"
               for levels in (res.get("throughput") or {}).values() for r in levels.values())


def stop(p: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the process group we created for this child, then SIGKILL."""
    if p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                return
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def descendants(root: int) -> list[int]:
    """PIDs of every live descendant of `root`, from /proc."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def cleanup(procs: list) -> None:
    """Stop the servers (and emulator) we started, then any descendant of this process that is
    still alive (a stdio server whose session did not close), each by its PID."""
    for p in procs:
        stop(p, grace=3.0)
    left = descendants(os.getpid())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if sig == signal.SIGTERM and left:
            time.sleep(1.0)
            left = descendants(os.getpid())


# --------------------------------------------------------------------------------------------
# run: report


def ratios(servers: dict) -> dict:
    """Each peer against our server driven the same way: the same protocol era (our legacy
    run for the handshake-only peers), the same transport, the same number of clients.
    throughput: ours/peer calls per second (>1: ours serves more); latency and paging time:
    peer/ours (>1: the peer is slower)."""
    out = {}
    for key, peer in servers.items():
        if key.startswith("ours"):
            continue
        modern = peer.get("protocol") == MODERN
        base_key = "ours" if modern or "ours-legacy" not in servers else "ours-legacy"
        ours = servers.get(base_key)
        if not ours:
            continue
        r: dict = {"compared_with": base_key}
        pp, op = peer.get("paging", {}), ours.get("paging", {})
        if pp.get("status") == "ok" and op.get("status") == "ok":
            r["paging_time_peer_over_ours"] = round(pp["median_ms"] / op["median_ms"], 2)
            r["paging_rows_peer_vs_ours"] = [pp["rows"], op["rows"]]
            if pp.get("raw_stdio_median_ms") and op.get("raw_stdio_median_ms"):
                r["paging_raw_peer_over_ours"] = round(pp["raw_stdio_median_ms"] / op["raw_stdio_median_ms"], 2)
        for transport, levels in (peer.get("throughput") or {}).items():
            for n, pr in levels.items() if isinstance(levels, dict) else []:
                orr = ((ours.get("throughput") or {}).get(transport) or {}).get(n)
                if not (isinstance(pr, dict) and pr.get("status") == "ok" and orr and orr.get("status") == "ok"):
                    continue
                if not pr["calls_per_s"] or not orr["calls_per_s"]:
                    continue
                r.setdefault("throughput", {}).setdefault(transport, {})[n] = {
                    "calls_per_s_ours_over_peer": round(orr["calls_per_s"] / pr["calls_per_s"], 2),
                    "p50_peer_over_ours": round(pr["p50_ms"] / orr["p50_ms"], 2),
                    "p99_peer_over_ours": round(pr["p99_ms"] / orr["p99_ms"], 2),
                }
                if pr.get("server_cpu_ms_per_call") and orr.get("server_cpu_ms_per_call"):
                    r["throughput"][transport][n]["server_cpu_peer_over_ours"] = round(
                        pr["server_cpu_ms_per_call"] / orr["server_cpu_ms_per_call"], 2)
        if len(r) > 1:
            out[key] = r
    return out


def table(results: dict) -> str:
    def f(v, w, d=1):
        return f"{v:>{w}.{d}f}" if isinstance(v, (int, float)) else f"{'-' if v is None else v:>{w}}"

    L = []
    emu = results["emulator"]
    L.append(f"emulator {emu['url']}: the 10k-row query directly over REST: {emu['direct_rest_paging_median_ms']} ms")
    L.append("")
    L.append("paging: one call returning up to 10,000 rows, over stdio (median of the timed calls)")
    hdr = f"{'server':28} {'version':10} {'protocol':10} {'client ms':>10} {'raw ms':>8} {'rows':>6} {'bytes':>9}  status"
    L += [hdr, "-" * len(hdr)]
    for key, s in results["servers"].items():
        pg = s.get("paging") or {}
        ok = pg.get("status") == "ok"
        status = s.get("status", "ok") if s.get("status", "ok") != "ok" or not pg else pg.get("status")
        if ok and pg.get("raw_stdio"):
            status = "raw " + pg["raw_stdio"]
        L.append(f"{key:28} {str(s.get('version') or '-')[:10]:10} {str(s.get('protocol') or '-'):10} "
                 f"{f(pg.get('median_ms'), 10)} {f(pg.get('raw_stdio_median_ms'), 8)} {f(pg.get('rows'), 6, 0)} "
                 f"{f(pg.get('response_bytes'), 9, 0)}  {status}")
    L.append("  client ms: official MCP client, call_tool until it returns; raw ms: same call, JSON-RPC by "
             "hand, until the response line is in")
    L.append("")
    L.append("throughput: small calls (25 rows) from N concurrent clients")
    hdr = (f"{'server':28} {'transport':15} {'N':>3} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ok':>6} "
           f"{'err':>5} {'srv cpu':>8} {'cli cpu':>8}  status")
    L += [hdr, "-" * len(hdr)]
    for key, s in results["servers"].items():
        tps = s.get("throughput") or {}
        if not tps:
            L.append(f"{key:28} {'-':15} {'':>3} {'':>8} {'':>8} {'':>8} {'':>6} {'':>5} {'':>8} {'':>8}  {s.get('status')}")
        for transport, levels in tps.items():
            if "status" in levels:
                L.append(f"{key:28} {transport:15} {'':>3} {'':>8} {'':>8} {'':>8} {'':>6} {'':>5} {'':>8} {'':>8}  {levels['status']}")
                continue
            for n in LEVELS:
                r = levels.get(str(n)) or {"status": "not run"}
                label = transport
                if r.get("status") == "ok":
                    L.append(f"{key:28} {label:15} {n:>3} {f(r['calls_per_s'], 8)} {f(r['p50_ms'], 8)} "
                             f"{f(r['p99_ms'], 8)} {r['calls_ok']:>6} {r['errors']:>5} "
                             f"{f(r.get('server_cpu_ms_per_call'), 8, 2)} {f(r.get('client_cpu_ms_per_call'), 8, 2)}  ok")
                else:
                    L.append(f"{key:28} {label:15} {n:>3} {'':>8} {'':>8} {'':>8} {'':>6} {'':>5} {'':>8} {'':>8}  {r['status']}")
        if s.get("status", "ok") != "ok" and tps:
            L.append(f"{'':28} {s['status']}")
    L.append("  over stdio, N is the number of requests in flight on one session; srv/cli cpu: "
             "CPU ms per successful call of the server process and of this client")
    L.append("")
    L.append("ratios against our server driven the same way (>1 favours ours): calls/s ours/peer; "
             "p50, p99, paging time and server CPU per call peer/ours")
    for key, r in results["ratios"].items():
        bits = [f"vs {r['compared_with']}"]
        if "paging_time_peer_over_ours" in r:
            bits.append(f"paging x{r['paging_time_peer_over_ours']}"
                        + (f" (raw x{r['paging_raw_peer_over_ours']})" if "paging_raw_peer_over_ours" in r else "")
                        + f", rows {r['paging_rows_peer_vs_ours'][0]} vs {r['paging_rows_peer_vs_ours'][1]}")
        L.append(f"  {key:18} " + "; ".join(bits))
        for transport, levels in (r.get("throughput") or {}).items():
            for n, v in levels.items():
                L.append(f"  {'':18} {transport} N={n}: calls/s x{v['calls_per_s_ours_over_peer']}, "
                         f"p50 x{v['p50_peer_over_ours']}, p99 x{v['p99_peer_over_ours']}"
                         + (f", server cpu/call x{v['server_cpu_peer_over_ours']}" if "server_cpu_peer_over_ours" in v else ""))
    return "\n".join(L)


# --------------------------------------------------------------------------------------------
# run: driver


def capture_client_logs(path: Path):
    """Warnings of the MCP client library (and of anything else in this process) go to a file
    and are counted, instead of flooding the terminal; the counts land in the results."""
    import logging

    class Counter(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.counts: dict[str, int] = {}

        def emit(self, record):
            msg = record.getMessage().splitlines()[0][:160] if record.getMessage() else record.name
            if msg in self.counts or len(self.counts) < 50:
                self.counts[msg] = self.counts.get(msg, 0) + 1

    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    fh = logging.FileHandler(path)
    fh.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    counter = Counter()
    root.addHandler(fh)
    root.addHandler(counter)
    return counter


def client_python(venvs: Path) -> Path:
    return venvs / "client" / "bin" / "python"


def ensure_client(args) -> None:
    """Re-execute under the client venv unless this interpreter already has mcp 2.3.0."""
    venvs = Path(args.venvs).resolve()
    py = client_python(venvs)
    if Path(sys.prefix).resolve() == (venvs / "client").resolve():
        return
    if not (venvs / "client" / STAMP).exists() or not py.exists():
        raise SystemExit(f"the client venv is missing: run `{sys.argv[0]} setup --venvs {venvs}` first")
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    os.execve(str(py), [str(py), str(Path(__file__).resolve())] + sys.argv[1:], env)


def cmd_run(args) -> int:
    ensure_client(args)
    for k in DROPPED_ENV:
        os.environ.pop(k, None)
    import anyio

    profile = dict(PROFILES["quick" if args.quick else "full"])
    if args.duration:
        profile["duration"] = args.duration
    if args.paging_reps:
        profile["paging_reps"] = args.paging_reps
        profile["raw_reps"] = min(profile["raw_reps"], args.paging_reps)
    out = Path(args.out).resolve()
    outdir = Path(args.out_dir).resolve() if args.out_dir else out.parent / (out.stem + "-logs")
    outdir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []

    # Ctrl-C stops the run cleanly even where SIGINT came in ignored (a shell's `cmd &`): the
    # event loop then cancels every task, sessions close, and `cleanup` kills what is left.
    # SIGTERM and SIGHUP are turned into the same SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_term(signum, frame):
        os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    t_run = time.monotonic()
    try:
        (outdir / "logs").mkdir(exist_ok=True)
        if args.emulator_url:
            emu = args.emulator_url.rstrip("/")
        elif args.emulator_bin:
            emu = start_emulator(args.emulator_bin, outdir / "logs", procs)
            log(f"started trino-emulator at {emu}")
        else:
            raise SystemExit("give --emulator-url (a running emulator) or --emulator-bin")
        m = re.fullmatch(r"http://([^/:]+):(\d+)", emu)
        if not m:
            raise SystemExit("--emulator-url must look like http://127.0.0.1:PORT (plain HTTP, no path)")
        ctx = Ctx(args, m.group(1), int(m.group(2)), outdir)
        ctx.procs = procs

        # The emulator: reachable, warm (its first tpch query is slow), and a floor for paging.
        log(f"emulator {emu}: warming up")
        cold_rows, cold_s = trino_direct(emu, PAGING_SQL)
        trino_direct(emu, SMALL_SQL)
        direct = [trino_direct(emu, PAGING_SQL)[1] for _ in range(3)]
        emulator = {"url": emu, "first_paging_query_s": round(cold_s, 3), "paging_rows": cold_rows,
                    "direct_rest_paging_median_ms": round(statistics.median(direct) * 1000, 1),
                    "note": "direct = the same 10k-row query over the REST protocol with urllib, no MCP"}

        keys = ["ours"] + (["ours-legacy"] if not args.no_ours_legacy else []) + PEERS
        if args.servers:
            want = [s.strip() for s in args.servers.split(",") if s.strip()]
            keys = [k for k in keys if k in want]
        servers = {}
        for k in keys:
            if k == "ours":
                servers[k] = Ours(ctx)
            elif k == "ours-legacy":
                servers[k] = Ours(ctx, legacy=True)
            else:
                servers[k] = PEER_CLASSES[k](ctx)

        results = {
            "meta": {
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "profile": "quick" if args.quick else "full", "settings": profile,
                "paging_sql": PAGING_SQL, "small_sql": SMALL_SQL, "levels": list(LEVELS),
                "client": f"official Python MCP client {CLIENT_MCP}, one process, one event loop",
                "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
                "python": sys.version.split()[0],
                "how": ("paging: one session over stdio per server, one warm-up call, then the timed "
                        "calls one after another. throughput: over Streamable HTTP one MCP session per "
                        "client, all opened and warmed up before the clock starts; over stdio one "
                        "session with that many requests in flight. Calls that start before the end "
                        "of the window are waited for; calls/s = successful calls / elapsed."),
            },
            "emulator": emulator,
            "servers": {},
        }
        bench = Bench(ctx, profile)
        warnings = capture_client_logs(outdir / "logs" / "client.log")

        async def all_servers():
            for k, srv in servers.items():
                left = profile["run_budget"] - (time.monotonic() - t_run)
                if left < 10:
                    results["servers"][k] = {"label": srv.label, "status": "failed: skipped, the run's time budget is spent"}
                    continue
                log(f"== {k}")
                # At most 1.5 times a fair share of what is left, so that a slow machine trims
                # every server a little rather than starving the last one.
                servers_left = len(servers) - list(servers).index(k)
                budget = min(profile["server_budget"], left, 1.5 * left / servers_left)
                results["servers"][k] = await bench.server(srv, budget)

        anyio.run(all_servers)
        results["meta"]["loadavg_end"] = os.getloadavg()
        results["meta"]["elapsed_s"] = round(time.monotonic() - t_run, 1)
        results["ratios"] = ratios(results["servers"])
        results["meta"]["client_warnings"] = warnings.counts
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(table(results))
        for msg, n in warnings.counts.items():
            print(f"client warning x{n}: {msg}")
        print(f"\nresults: {out}\nserver logs: {outdir / 'logs'}\nelapsed: {results['meta']['elapsed_s']}s")
        # Peers that fail are reported, not fatal; our own server failing is.
        ours = results["servers"].get("ours") or results["servers"].get("ours-legacy")
        return 1 if ours is not None and not any_ok(ours) else 0
    except KeyboardInterrupt:
        log("interrupted: stopping every process this run started")
        return 130
    finally:
        for f in getattr(locals().get("ctx"), "open_files", []):
            try:
                f.close()
            except OSError:
                pass
        cleanup(procs)


def cmd_spec(args) -> int:
    """How to start and call every server, as JSON on stdout, for a driver written in another
    language (`cargo xtask bench` drives them all with rmcp's client). In `http.argv`,
    `http.env` and `http.url`, `{port}` and `{port2}` stand for free ports the driver picks.
    Only the standard library is needed."""
    m = re.fullmatch(r"http://([^/:]+):(\d+)", (args.emulator_url or "").rstrip("/"))
    if not m:
        raise SystemExit("--emulator-url must look like http://127.0.0.1:PORT (plain HTTP, no path)")
    ctx = Ctx(args, m.group(1), int(m.group(2)), Path(args.out_dir).resolve())
    servers = [Ours(ctx)] + [PEER_CLASSES[k](ctx) for k in PEERS]
    out = []
    for srv in servers:
        why = srv.available()
        entry = {"key": srv.key, "label": srv.label, "available": why, "tool": srv.tool,
                 "mode": srv.mode, "has_http": srv.has_http, "notes": srv.notes,
                 "cwd": str(ctx.scratch), "paging_sql": PAGING_SQL, "paging_rows": PAGING_ROWS,
                 "small_sql": SMALL_SQL, "small_rows": SMALL_ROWS,
                 "paging_arguments": srv.call_args(PAGING_SQL, PAGING_ROWS),
                 "small_arguments": srv.call_args(SMALL_SQL, None)}
        if why is None:
            entry["version"] = srv.version()
            cmd, argv, env = srv.stdio()
            entry["stdio"] = {"command": cmd, "args": argv, "env": env}
            if srv.has_http:
                argv, env, url = srv.http("{port}", "{port2}")
                entry["http"] = {"argv": argv, "env": env, "url": url}
        out.append(entry)
    print(json.dumps({"emulator": args.emulator_url, "client_mode_note": (
        "rmcp's client always uses the initialize handshake"), "servers": out}, indent=2))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="create the venvs and install the pinned peers (idempotent)")
    s.add_argument("--venvs", default=str(DEFAULT_VENVS), help="where the venvs go (default: %(default)s)")
    s.add_argument("--only", nargs="*", help="only these venvs: client, " + ", ".join(PEERS))
    s.add_argument("--force", action="store_true", help="reinstall even when the stamp is current")
    s.add_argument("--python312", help="a Python 3.12 interpreter (default: searched, pyenv included)")
    r = sub.add_parser("run", help="benchmark our server and every installed peer")
    r.add_argument("--emulator-url", help="a running trino-emulator, http://127.0.0.1:PORT")
    r.add_argument("--emulator-bin", help="start this trino-emulator instead (on a free port)")
    r.add_argument("--ours-bin", default=str(REPO / "target" / "debug" / "mcp-trino"),
                   help="our mcp-trino binary (default: %(default)s)")
    r.add_argument("--quick", action="store_true", help="fewer calls, shorter windows (< ~4 min)")
    r.add_argument("--out", default="peer-results.json", help="JSON results (default: %(default)s)")
    r.add_argument("--out-dir", help="server logs and scratch dir (default: <out>-logs next to --out)")
    r.add_argument("--venvs", default=str(DEFAULT_VENVS), help="venvs made by setup (default: %(default)s)")
    r.add_argument("--servers", help="comma list among ours, ours-legacy, " + ", ".join(PEERS))
    r.add_argument("--no-ours-legacy", action="store_true",
                   help="do not also drive our server with the legacy handshake")
    r.add_argument("--duration", type=float, help="seconds per throughput window (overrides the profile)")
    r.add_argument("--paging-reps", type=int, help="timed paging calls per server (overrides the profile)")
    sp = sub.add_parser("spec", help="print how to start and call every server (JSON), for other drivers")
    sp.add_argument("--emulator-url", required=True, help="the trino-emulator the servers use")
    sp.add_argument("--ours-bin", default=str(REPO / "target" / "release" / "mcp-trino"),
                    help="our mcp-trino binary (default: %(default)s)")
    sp.add_argument("--out-dir", required=True, help="the servers' scratch working directory goes here")
    sp.add_argument("--venvs", default=str(DEFAULT_VENVS), help="venvs made by setup (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.cmd == "spec":
        return cmd_spec(args)
    if args.cmd == "setup":
        return cmd_setup(args)
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
