"""`read_report` turns a saved aiscan-report/1 back into the ScanResult it was rendered from."""

from __future__ import annotations

import json

import pytest

from scanner.errors import UsageError
from scanner.formats.json import JsonFormat, read_report, report_document
from scanner.inventory import Component, LicenseText, ScanResult
from tests.conftest import GPL3_OPENING
from tests.formats.test_cyclonedx import llama_chain


def test_round_trip_reproduces_the_report(tmp_path, kb, default_policy):
    from scanner.pipeline.hashes import with_file_hashes
    from scanner.pipeline.scan import run_scan

    result = with_file_hashes(run_scan(llama_chain(tmp_path), default_policy, kb), workers=1)
    assert result.findings and any(f.sha256 for c in result.components for f in c.files)
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(result, kb), encoding="utf-8")
    again = read_report(saved)
    assert report_document(again) == report_document(result)
    assert again.exit_code == result.exit_code


def test_license_texts_survive_the_round_trip(tmp_path, kb):
    own_copy = LicenseText("LICENSE", GPL3_OPENING, ("gpl-3.0",))
    model = Component(
        ref="model:local/m",
        type="model",
        name="m",
        source="modeldir",
        location=str(tmp_path / "m"),
        license_texts=(own_copy,),
    )
    saved = tmp_path / "report.json"
    saved.write_text(JsonFormat().render(ScanResult("0", ("m",), (model,), ()), kb))
    (again,) = read_report(saved).components
    assert again.license_texts == (own_copy,)


@pytest.mark.parametrize(
    "content,message",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"schema": "other"}), "not an aiscan report"),
        (json.dumps({"schema": "aiscan-report/1", "tool": {}}), "malformed aiscan report"),
    ],
)
def test_bad_reports_are_usage_errors(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        read_report(path)
