"""``gateway pseudonymise``: the organisation's own pseudonyms, refused rows with line numbers."""

import csv

from click.testing import CliRunner

from gateway.cli import main
from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain

OIN = "00000001003456789000"


def test_bulk_file(tmp_path, keys_dir, monkeypatch):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    source = tmp_path / "in.csv"
    source.write_text("bsn,name\n111222333,Anna\n111222334,Bram\n123456782,Cem\nabc,Dirk\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, ["pseudonymise", "--domain", OIN, "--in", str(source), "--column", "bsn",
               "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "2 rows pseudonymised, 2 refused" in result.output
    assert "3, 5" in result.output  # physical lines of the refused rows (header is line 1)
    rows = list(csv.DictReader(out.open()))
    pseudonymiser = DomainPseudonymiser(KeyStore(keys_dir, allow_generate=False).keyring)
    assert [r["name"] for r in rows] == ["Anna", "Cem"]
    assert pseudonymiser.reveal(rows[0]["pseudonym"], organisation_domain(OIN)) == Bsn("111222333")
    text = out.read_text() + (tmp_path / "out.rejects.csv").read_text()
    for bsn in ("111222333", "111222334", "123456782"):
        assert bsn not in text


def test_bad_domain_is_refused(tmp_path, keys_dir, monkeypatch):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    source = tmp_path / "in.csv"
    source.write_text("bsn\n111222333\n")
    result = CliRunner().invoke(
        main, ["pseudonymise", "--domain", "42", "--in", str(source), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code != 0 and "20 digits" in result.output
