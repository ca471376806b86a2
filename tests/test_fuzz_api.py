"""The web APIs fuzzed from their own OpenAPI document (schemathesis): never a 500.

Schemathesis runs as its command line against the app served over real HTTP; it
generates valid and invalid requests for every operation and checks each answer: no
server error, documented status codes and content types, and bodies matching the schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from tests.conftest import serving

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


@pytest.mark.fuzz
def test_no_operation_answers_500_or_off_its_schema(
    settings: Settings, parts, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    unlimited = replace(settings, rate_limit_per_conversation=0, rate_limit_per_address=0)
    with serving(unlimited, parts) as url:
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{url}/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                os.environ.get("FUZZ_EXAMPLES", "60"),
                "--workers",
                "1",
                "--seed",
                "20261125",
                "--suppress-health-check",
                "all",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "generated" in run.stdout
