"""docker-compose.yml and the Dockerfile against the app's own production check, so they cannot drift.

No Docker engine runs here. Instead: the compose file is validated against the Compose specification's
JSON schema; the environment of the services that run the app is built as Compose builds it (the
Dockerfile's ENV, then the service's ``environment`` with ``${…}`` interpolated, every secret generated
by the one-line command that docs/operations.md documents, run verbatim); and
``python -m backend check-config`` — the settings check the app runs at start, plus building the app —
must accept it, and refuse it when any required setting is taken away.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from backend.cli import COMMANDS
from backend.core.config import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
OPERATIONS = REPO_ROOT / "docs" / "operations.md"
APP_SERVICES = ("migrate", "app")  # the services that run `python -m backend`
# ${VAR:?} settings that are choices, not secrets: the values docs/operations.md shows.
CHOICES = {
    "PUBLIC_BASE_URL": "https://tuoyu.daqing.gov.cn",
    "S3_PUBLIC_ENDPOINT": "https://files.tuoyu.daqing.gov.cn",
    # The SMS gateway: the provider, its API key and the approved sign name and templates (issued by the
    # provider, not generated); production refuses the development sender 'log'.
    "SMS_BACKEND": "tencent",
    "SMS_SECRET_ID": "AKIDexampleexampleexample",
    "SMS_SECRET_KEY": "exampleexampleexampleexample",
    "SMS_SDK_APP_ID": "1400000000",
    "SMS_SIGN_NAME": "大庆托育",
    "SMS_TEMPLATE_SIGN_IN": "100001",
    "SMS_TEMPLATE_URGENT": "100002",
}
# Settings production refuses to start without (each must be passed by the compose file).
REQUIRED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "ID_HASH_KEY",
    "CHILD_DATA_KEYS",
    "VAPID_PRIVATE_KEY",
    "PUBLIC_BASE_URL",
    "SMS_BACKEND",
    "SMS_SECRET_ID",
    "SMS_SECRET_KEY",
    "SMS_SIGN_NAME",
    "SMS_TEMPLATE_SIGN_IN",
    "SMS_TEMPLATE_URGENT",
    "S3_ENDPOINT",
    "S3_SECRET_KEY",
)
_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of ``$$``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}``."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        value = variables.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and unset:
            raise KeyError(f"compose would refuse: {name}: {arg}")
        if op in (":-", "-") and unset:
            return arg
        return value or ""

    return _VARIABLE.sub(replace, value)


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # YAML merge keys (<<: *anchor) resolved as Compose does


def dockerfile_final_stage() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile's last stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    instructions = [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, args in dockerfile_final_stage():
        if name == "ENV":
            for pair in shlex.split(args):
                key, sep, value = pair.partition("=")
                assert sep, f"ENV {args}: use the KEY=value form"
                env[key] = value
    return env


def generated_secrets(tmp_path: Path) -> dict[str, str]:
    """Run the one-line command docs/operations.md gives (verbatim) and read the .env it writes."""
    text = OPERATIONS.read_text()
    match = re.search(r"<!-- secrets-command[^>]*-->\s*```sh\n(.+?)\n```", text, re.DOTALL)
    assert match, "docs/operations.md has lost its secrets command"
    subprocess.run(["bash", "-c", match[1]], cwd=tmp_path, check=True)
    env_file = tmp_path / ".env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    values: dict[str, str] = {}
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value[1:-1] if value[:1] == value[-1:] == "'" else value
    return values


def service_environment(service: str, variables: dict[str, str]) -> dict[str, str]:
    declared = compose()["services"][service].get("environment", {})
    assert isinstance(declared, dict), "write environment: as a mapping"
    return {**dockerfile_env(), **{k: interpolate(str(v), variables) for k, v in declared.items()}}


def check_config(environment: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    """`python -m backend check-config` with exactly the container's environment (plus a PATH)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONWARNINGS": "ignore", **environment}
    return subprocess.Popen(
        [sys.executable, "-m", "backend", "check-config"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_compose_file_follows_the_compose_specification():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_copies_what_exists_and_runs_real_commands():
    stage = dockerfile_final_stage()
    for name, args in stage:
        if name == "COPY" and not args.startswith("--from"):
            *sources, _target = shlex.split(args)
            for source in sources:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert dockerfile_env()["APP_ENV"] == "production"
    (cmd,) = [json.loads(args) for name, args in stage if name == "CMD"]
    commands = re.findall(r"python -m backend ([a-z-]+)", " ".join(cmd))
    commands += [compose()["services"][s]["command"][3] for s in APP_SERVICES]
    assert set(commands) >= {"migrate", "serve"}
    assert set(commands) <= set(COMMANDS), commands


def test_every_required_variable_says_how_to_make_it():
    text = COMPOSE.read_text()
    required = {m["name"]: m["arg"] for m in _VARIABLE.finditer(text) if m["op"] == ":?"}
    assert {"SECRET_KEY", "ID_HASH_KEY", "CHILD_DATA_KEYS", "VAPID_PRIVATE_KEY", "SMS_BACKEND"} <= set(required)
    for name, message in required.items():
        assert message.startswith(f"set {name}") and len(message) > len(f"set {name} to"), (name, message)
        assert name in OPERATIONS.read_text(), f"docs/operations.md does not list {name}"


def test_production_accepts_what_compose_passes_and_refuses_it_without_any_required_setting(tmp_path):
    secrets = generated_secrets(tmp_path)
    variables = {**secrets, **CHOICES}
    text = COMPOSE.read_text()
    missing = sorted(
        {m["name"] for m in _VARIABLE.finditer(text) if m["op"] in (":?", "?")} - set(variables),
        key=str,
    )
    assert not missing, f"no value for {missing}: generate it in docs/operations.md's command or add it to CHOICES"

    for service in APP_SERVICES:
        environment = service_environment(service, variables)
        assert environment["APP_ENV"] == "production"
        for name in REQUIRED:
            assert environment.get(name), f"docker-compose.yml does not pass {name} to {service}"
        accepted = check_config(environment, tmp_path)
        out, err = accepted.communicate(timeout=120)
        assert accepted.returncode == 0, f"{service}: the app would refuse to start:\n{err}"
        assert "APP_ENV=production" in out and "STORAGE_BACKEND=s3" in out

    # Take each required setting away in turn: the same check must refuse, naming it.
    environment = service_environment("app", variables)
    refusals = {name: check_config({k: v for k, v in environment.items() if k != name}, tmp_path) for name in REQUIRED}
    for name, process in refusals.items():
        _, err = process.communicate(timeout=120)
        assert process.returncode == 2, f"production started without {name}"
        assert name in err, err
