"""scripts/pip-audit-mirror: which answer pip-audit gets when a release page is missing.

PyPI cannot be reached from the tests, so a stand-in session answers with PyPI's JSON
shapes; the script's decision is what is tested: a project page stands in for a release
page only when the project's latest release is that release.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pip-audit-mirror"


def load_script() -> Any:
    loader = importlib.machinery.SourceFileLoader("pip_audit_mirror", str(SCRIPT))
    spec = importlib.util.spec_from_loader("pip_audit_mirror", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


mirror = load_script()


@dataclass
class Response:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return self.body


VULNERABLE_LATEST = {
    "info": {"version": "0.19.2"},
    "vulnerabilities": [{"id": "GHSA-wj6h-64fc-37mp", "aliases": [], "fixed_in": []}],
}


class Mirror:
    """Serves project pages only, as the development machine's mirror does."""

    def __init__(self, projects: dict[str, dict[str, Any]], releases: dict[str, Any]) -> None:
        self.projects = projects
        self.releases = releases
        self.asked: list[str] = []
        self.timeout: float | None = None

    def get(self, url: str, timeout: float | None = None) -> Response:
        self.asked.append(url)
        self.timeout = timeout
        path = url.removeprefix("https://pypi.org/pypi/").removesuffix("/json")
        if path in self.releases:
            return Response(200, self.releases[path])
        if path in self.projects:
            return Response(200, self.projects[path])
        return Response(404)


def test_the_latest_release_is_answered_with_its_project_page() -> None:
    session = mirror.ProjectPageFallback(Mirror({"ecdsa": VULNERABLE_LATEST}, {}))
    response = session.get("https://pypi.org/pypi/ecdsa/0.19.2/json", timeout=15)
    assert response.status_code == 200
    assert response.json()["vulnerabilities"][0]["id"] == "GHSA-wj6h-64fc-37mp"
    assert session.from_project_page == ["ecdsa 0.19.2"]
    assert session.not_latest == []
    assert session._session.timeout == 15


def test_an_older_release_stays_not_found_so_pip_audit_reports_it_unaudited() -> None:
    session = mirror.ProjectPageFallback(Mirror({"ecdsa": VULNERABLE_LATEST}, {}))
    response = session.get("https://pypi.org/pypi/ecdsa/0.18.0/json")
    assert response.status_code == 404
    assert session.from_project_page == []
    assert session.not_latest == ["ecdsa 0.18.0 (latest 0.19.2)"]


@pytest.mark.parametrize(("installed", "latest"), [("2.0", "2.0.0"), ("1.0.post0", "1.0.post0")])
def test_versions_are_compared_as_versions(installed: str, latest: str) -> None:
    project = {"info": {"version": latest}, "vulnerabilities": []}
    session = mirror.ProjectPageFallback(Mirror({"tool": project}, {}))
    assert session.get(f"https://pypi.org/pypi/tool/{installed}/json").status_code == 200


def test_a_release_page_that_exists_is_used_as_it_is() -> None:
    release = {"info": {"version": "1.0"}, "vulnerabilities": []}
    source = Mirror({"tool": {"info": {"version": "2.0"}}}, {"tool/1.0": release})
    session = mirror.ProjectPageFallback(source)
    assert session.get("https://pypi.org/pypi/tool/1.0/json").json() is release
    assert source.asked == ["https://pypi.org/pypi/tool/1.0/json"]


def test_an_unknown_project_stays_not_found() -> None:
    session = mirror.ProjectPageFallback(Mirror({}, {}))
    assert session.get("https://pypi.org/pypi/nothing/1.0/json").status_code == 404
    assert session.from_project_page == session.not_latest == []


def test_other_urls_pass_through_untouched() -> None:
    source = Mirror({}, {})
    session = mirror.ProjectPageFallback(source)
    assert session.get("https://api.osv.dev/v1/query").status_code == 404
    assert source.asked == ["https://api.osv.dev/v1/query"]
