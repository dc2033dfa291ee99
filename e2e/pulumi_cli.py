"""Run the real Pulumi CLI on a copy of this project: file state backend, passphrase secrets, nothing downloaded.

The toolchain comes from `bash e2e/toolchain.sh pulumi` (see e2e/toolchain/pulumi.sh for the cache layout):

    toolchain = PulumiToolchain.from_cache()
    project = PulumiProject.copy_of(PROJECT_DIR, tmp_path / "project", toolchain, state_dir=tmp_path / "state")
    project.new_stack("dev", config={...}, secrets={"kserve-platform:key": "value"})
    project.run("up", "--yes", stack="dev")

The program runs unchanged: the copy holds `__main__.py`, `components/`, `config/` and `policy/` as committed;
`venv` (Pulumi.yaml's `virtualenv: venv`) links to the toolchain's program virtualenv (requirements.lock) and
`policy/venv` (policy/PulumiPolicy.yaml's) to its policy-pack virtualenv (policy/requirements.lock).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from e2e.toolchain import BUILD_COMMAND, cache_root, tool_dir, versions

PROJECT_DIR = Path(__file__).resolve().parent.parent
# What a copy of the project needs to run the program and the policy pack: nothing else is copied (no stack files,
# no venvs, no rendered output).
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt")
PROGRAM_DIRS = ("components", "config", "policy")
# A fixed passphrase: the test stacks' secrets are test values, and the state file is checked for their plaintext.
TEST_PASSPHRASE = "kserve-platform end-to-end passphrase"


def lock_key(lock: Path) -> str:
    """The part of a virtualenv's cache folder name that its lock file keys (e2e/toolchain/pulumi.sh: sha256, 12)."""
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:12]


@dataclass(frozen=True)
class PulumiToolchain:
    """The CLI, the Python language host, a PULUMI_HOME holding the Kubernetes provider plugin, the program's venv
    and the policy pack's venv."""

    cli: Path
    language_host_dir: Path
    pulumi_home: Path
    venv: Path
    policy_venv: Path
    # Pulumi YAML programs (the kserve-platform package's consumers): the YAML language host, on PATH.
    language_yaml_dir: Path | None = None
    # `pulumi package gen-sdk --language nodejs` only: a code-generation-only Node.js host
    # (e2e/toolchain/modules/pulumi-codegen-nodejs), put on PATH by the test that generates the SDK, never by env().
    codegen_nodejs_dir: Path | None = None

    @classmethod
    def from_cache(cls) -> PulumiToolchain:
        pins = versions()
        cli_version, kubernetes_version = pins["PULUMI_VERSION"], pins["PULUMI_KUBERNETES_VERSION"]
        python = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return cls(
            cli=tool_dir("pulumi", "PULUMI_VERSION") / "bin" / "pulumi",
            language_host_dir=tool_dir("pulumi-language-python", "PULUMI_LANGUAGE_PYTHON_VERSION") / "bin",
            pulumi_home=cache_root() / "pulumi-home" / f"{cli_version}-kubernetes-{kubernetes_version}",
            venv=cache_root()
            / "pulumi-venv"
            / f"{python}-kubernetes-{kubernetes_version}-{lock_key(PROJECT_DIR / 'requirements.lock')}",
            policy_venv=cache_root()
            / "pulumi-policy-venv"
            / f"{python}-{lock_key(PROJECT_DIR / 'policy' / 'requirements.lock')}",
            language_yaml_dir=tool_dir("pulumi-language-yaml", "PULUMI_LANGUAGE_YAML_VERSION") / "bin",
            codegen_nodejs_dir=tool_dir("pulumi-codegen-nodejs", "PULUMI_VERSION") / "bin",
        )

    def missing(self) -> list[str]:
        """The parts not built yet (empty when the toolchain is complete)."""
        needed = {
            "the Pulumi CLI": self.cli,
            "the Python language host": self.language_host_dir / "pulumi-language-python",
            "the language host's exec script": self.language_host_dir / "pulumi-language-python-exec",
            "the Kubernetes provider plugin": self.pulumi_home / ".installed",
            "the program's virtualenv": self.venv / ".installed",
            "the policy pack's virtualenv": self.policy_venv / ".installed",
        }
        return [what for what, path in needed.items() if not path.exists()]

    def not_built_message(self) -> str:
        return f"end-to-end toolchain not built (missing {', '.join(self.missing())}): run `{BUILD_COMMAND}`"


class PulumiError(AssertionError):
    """A CLI command that failed: the command line, its exit status and everything it printed."""


@dataclass
class PulumiProject:
    """A copy of the project in `workdir` whose stacks live in a local file backend under `state_dir`."""

    workdir: Path
    toolchain: PulumiToolchain
    state_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def copy_of(
        cls, source: Path, workdir: Path, toolchain: PulumiToolchain, state_dir: Path, **extra_env: str
    ) -> PulumiProject:
        workdir.mkdir(parents=True)
        for name in PROGRAM_FILES:
            shutil.copy2(source / name, workdir / name)
        ignore = shutil.ignore_patterns("venv", ".venv", "__pycache__", "*.pyc")
        for name in PROGRAM_DIRS:
            shutil.copytree(source / name, workdir / name, ignore=ignore)
        (workdir / "venv").symlink_to(toolchain.venv, target_is_directory=True)
        (workdir / "policy" / "venv").symlink_to(toolchain.policy_venv, target_is_directory=True)
        state_dir.mkdir(parents=True, exist_ok=True)
        return cls(workdir=workdir, toolchain=toolchain, state_dir=state_dir, extra_env=dict(extra_env))

    @property
    def backend_url(self) -> str:
        return f"file://{self.state_dir}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            # The caller's own Pulumi settings (a cloud login, another PULUMI_HOME) must not leak into a test run.
            if not key.startswith(("PULUMI_", "KUBECONFIG")) and key not in ("VIRTUAL_ENV", "PYTHONPATH")
        }
        env.update(
            {
                "PULUMI_HOME": str(self.toolchain.pulumi_home),
                "PULUMI_BACKEND_URL": self.backend_url,
                "PULUMI_CONFIG_PASSPHRASE": TEST_PASSPHRASE,
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                # A plugin the program asks for that the toolchain lacks is an error, never a download.
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PULUMI_SKIP_CONFIRMATIONS": "true",
                "PULUMI_DEBUG_PROMISE_LEAKS": "false",
                # The language host is found on PATH; the CLI first so its own version answers `pulumi`. The
                # v3.79.0 host does not read the `virtualenv` option the v3.274.1 engine passes (it reads it from
                # its command line), so the program's virtualenv comes first on PATH: its `python3` runs the program.
                "PATH": os.pathsep.join(
                    [
                        str(self.toolchain.cli.parent),
                        str(self.toolchain.language_host_dir),
                        *([str(self.toolchain.language_yaml_dir)] if self.toolchain.language_yaml_dir else []),
                        str(self.toolchain.venv / "bin"),
                        env.get("PATH", ""),
                    ]
                ),
                # No kubeconfig of the machine's: a stack that needs a cluster gets one from the harness.
                "KUBECONFIG": self.extra_env.get("KUBECONFIG", os.devnull),
            }
        )
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, stack: str | None = None, check: bool = True, timeout: float = 900, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.toolchain.cli), *args, "--non-interactive"]
        if stack:
            command += ["--stack", stack]
        result = subprocess.run(
            command,
            check=False,
            cwd=self.workdir,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise PulumiError(
                f"`pulumi {' '.join(args)}`{f' (stack {stack})' if stack else ''} exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
            )
        return result

    def new_stack(self, name: str, config: dict[str, Any], secrets: dict[str, str] | None = None) -> Path:
        """A fresh stack `name` (passphrase secrets provider) holding `config` as plain values and `secrets` set with
        `pulumi config set --secret`. Returns its stack file."""
        self.run("stack", "init", name, "--secrets-provider", "passphrase")
        stack_file = self.workdir / f"Pulumi.{name}.yaml"
        document = yaml.safe_load(stack_file.read_text()) if stack_file.exists() else {}
        document = document or {}
        document["config"] = dict(config)
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        for key, value in (secrets or {}).items():
            # The value on stdin: it never appears on a command line.
            self.run("config", "set", "--secret", key, stack=name, stdin=value)
        return stack_file

    def stack_outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", stack=stack).stdout or "{}")

    def state_files(self) -> list[Path]:
        """Every checkpoint the file backend wrote (current state, backups and history)."""
        return sorted(path for path in self.state_dir.rglob("*") if path.is_file())
