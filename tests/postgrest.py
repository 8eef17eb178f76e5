"""A local stand-in for a Supabase project's REST API (PostgREST), over a real PostgreSQL.

``GET /rest/v1/<table>?select=*&limit=0`` with an ``apikey`` header answers as PostgREST does:
200 when the table exists in the public schema, 404 ``PGRST205`` when it does not, 401 ``42501``
for a table whose grants the key's role lacks (tables named in ``no_grant``), and 401
``PGRST301`` for a key it does not know. ``select=<columns>`` answers 400 ``42703`` for a column
the table lacks; ``<column>=in.(...)`` returns the rows whose column holds one of the values.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql

ANON = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.dGVzdC1zaWduYXR1cmUtb2YtdGhlLWtleQ"


class PostgrestStandIn:
    def __init__(self, database_url: str, *keys: str):
        self.database_url = database_url
        self.keys = set(keys)
        self.no_grant: set[str] = set()
        self.asked: list[str] = []  # the tables asked about, in order
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                table = self.path.split("/rest/v1/", 1)[1].split("?", 1)[0]
                stand_in.asked.append(table)
                if self.headers.get("apikey") not in stand_in.keys:
                    return self.answer(401, {"code": "PGRST301", "message": "Invalid API key"})
                if table in stand_in.no_grant:
                    return self.answer(401, {"code": "42501", "message": f"permission denied for table {table}"})
                with psycopg.connect(stand_in.database_url) as conn:
                    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone()[0]
                if not exists:
                    return self.answer(404, {"code": "PGRST205", "message": f"Could not find the table 'public.{table}'"})
                query = parse_qs(urlsplit(self.path).query)
                columns = [c for c in query.get("select", ["*"])[0].split(",") if c != "*"]
                with psycopg.connect(stand_in.database_url) as conn:
                    for column in columns:
                        known = conn.execute(
                            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                            "AND attnum > 0 AND NOT attisdropped", (f"public.{table}", column)).fetchone()
                        if not known:
                            return self.answer(400, {"code": "42703", "message": f"column {table}.{column} does not exist"})
                    filters = {k: v[0] for k, v in query.items() if k not in ("select", "limit")}
                    if not filters:
                        return self.answer(200, [])
                    (column, condition), = filters.items()
                    values = [v.strip('"') for v in condition.removeprefix("in.(").removesuffix(")").split(",")]
                    rows = conn.execute(
                        sql.SQL("SELECT {c}::text FROM public.{t} WHERE {c}::text = ANY(%s)").format(
                            c=sql.Identifier(column), t=sql.Identifier(table)), (values,)).fetchall()
                self.answer(200, [{column: r[0]} for r in rows])

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def close(self):
        self.http.shutdown()
        self.http.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
