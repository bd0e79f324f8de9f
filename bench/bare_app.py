"""The baseline for bench_exchanges: a bare Flask endpoint that parses the same JSON and does
one INSERT + COMMIT on the same database, under the same gunicorn settings."""

import json
import os

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine

from gateway.storage.database import make_engine

metadata = MetaData()
bare = Table("bench_bare", metadata, Column("id", Integer, primary_key=True), Column("body", Text))
engine = make_engine(os.environ["BENCH_BARE_DATABASE_URL"])
metadata.create_all(engine, checkfirst=True)
app = Flask(__name__)


@app.post("/bare")
def insert():
    body = json.loads(request.get_data())
    with engine.begin() as connection:
        connection.execute(bare.insert().values(body=json.dumps(body)))
    return {"status": "accepted"}, 202


__all__ = ["app", "create_engine"]
