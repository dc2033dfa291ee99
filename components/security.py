"""Secure defaults for every pod the stack's models run in: one home, used by predictors and runtimes.

They meet the Pod Security Standards' `restricted` level (the default for model namespaces in Standard mode):
not root, no privilege escalation, every capability dropped, the container runtime's default seccomp profile.
MLServer's images (and images built with `mlserver build`) run as a non-root user, so they start under it.
"""

from __future__ import annotations

from typing import Any

CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
# Pod level too, so containers KServe injects (storage initializer, agent) inherit non-root and seccomp.
POD_SECURITY_CONTEXT: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def container_security_context() -> dict[str, Any]:
    # A fresh copy per object: manifests are plain data that callers may extend.
    return {
        **CONTAINER_SECURITY_CONTEXT,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context() -> dict[str, Any]:
    return {**POD_SECURITY_CONTEXT, "seccompProfile": {"type": "RuntimeDefault"}}
