"""A complete Rasa 3.6 project from nlu_data/, for benchmarking a Rasa server's REST channel.

A Rasa server answers `/webhooks/rest/webhook` only with a full model: NLU plus a domain
and dialogue policies. This writes the smallest honest one: the NLU pipeline of
rasa/config.yml with `policies: [RulePolicy]`, a domain with one response per intent and
one rule per intent mapping it to that response. Nothing here is committed data: it is
generated into a temporary folder at benchmark time, and the trained model is cached in
.rasa-models/ under a hash of the generated files.

Run alone to look at the files: .venv/bin/python benchmarks/rasa_project.py OUT_DIR
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
_ENTITY = re.compile(r"\[[^\]]+\]\((\w+)\)")


def intents_and_entities(nlu_dir: Path) -> tuple[list[str], list[str]]:
    """Every intent and every annotated entity name in the NLU files, sorted."""
    intents: set[str] = set()
    entities: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu", []):
            if "intent" in item:
                intents.add(str(item["intent"]))
                entities.update(_ENTITY.findall(str(item.get("examples", ""))))
    return sorted(intents), sorted(entities)


def domain(intents: list[str], entities: list[str]) -> dict[str, object]:
    """A domain with one text response per intent (the text names the intent)."""
    return {
        "version": "3.1",
        "intents": intents,
        "entities": entities,
        "responses": {f"utter_{name}": [{"text": f"[{name}]"}] for name in intents},
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }


def rules(intents: list[str]) -> dict[str, object]:
    """One rule per intent: answer it with its response, at any point of a conversation."""
    return {
        "version": "3.1",
        "rules": [
            {"rule": name, "steps": [{"intent": name}, {"action": f"utter_{name}"}]}
            for name in intents
        ],
    }


def config(nlu_config: Path) -> dict[str, object]:
    """rasa/config.yml's NLU pipeline with the rule policy."""
    document = yaml.safe_load(nlu_config.read_text(encoding="utf-8"))
    document["policies"] = [{"name": "RulePolicy"}]
    return dict(document)


def write_project(out: Path, nlu_dir: Path = ROOT / "nlu_data") -> str:
    """Write config.yml, domain.yml and data/ into ``out``; return a hash of all of it."""
    intents, entities = intents_and_entities(nlu_dir)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for path in sorted(nlu_dir.glob("*.yml")):
        shutil.copyfile(path, data / f"nlu_{path.name}")
    dump = {"allow_unicode": True, "sort_keys": False}
    (data / "rules.yml").write_text(yaml.safe_dump(rules(intents), **dump), encoding="utf-8")
    (out / "domain.yml").write_text(
        yaml.safe_dump(domain(intents, entities), **dump), encoding="utf-8"
    )
    (out / "config.yml").write_text(
        yaml.safe_dump(config(ROOT / "rasa" / "config.yml"), **dump), encoding="utf-8"
    )
    digest = hashlib.sha256()
    for path in sorted(p for p in out.rglob("*.yml")):
        digest.update(str(path.relative_to(out)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def train(rasa: Path, project: Path, models: Path, name: str) -> Path:
    """Train the full model (``rasa train``) into ``models/name.tar.gz``, unless it is there."""
    models, project = models.resolve(), project.resolve()
    model = models / f"{name}.tar.gz"
    if model.exists():
        return model
    models.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            str(rasa),
            "train",
            "--data",
            str(project / "data"),
            "--domain",
            str(project / "domain.yml"),
            "--config",
            str(project / "config.yml"),
            "--out",
            str(models),
            "--fixed-model-name",
            name,
        ],
        cwd=project,
        env=os.environ | {"RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed ({result.returncode}):\n{result.stdout[-3000:]}")
    return model


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "rasa-project")
    print(f"wrote {target} (inputs hash {write_project(target)})")
