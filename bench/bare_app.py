"""The baseline for bench_exchanges: a bare Flask endpoint that parses the same JSON and does
one INSERT + COMMIT on the same database, under the same gunicorn settings."""

import json
import os

from flask import Flask, request

from bench.bare_table import bare
from gateway.storage.database import make_engine

engine = make_engine(os.environ["BENCH_BARE_DATABASE_URL"])
app = Flask(__name__)


@app.post("/bare")
def insert():
    body = json.loads(request.get_data())
    with engine.begin() as connection:
        connection.execute(bare.insert().values(body=json.dumps(body)))
    return {"status": "accepted"}, 202
