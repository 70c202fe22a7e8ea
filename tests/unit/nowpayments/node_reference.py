"""Node.js as the judge of what NowPayments signs.

``NodeReference`` keeps one ``node js_canonical.js`` process for the session and asks
it about many bodies over a pipe. ``require_node`` skips on a laptop without Node and
fails under ``CI=true``, where Node must be present.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import attrs
import pytest

from tests.services import in_ci

SCRIPT = Path(__file__).with_name("js_canonical.js")


@attrs.frozen
class NodeAnswer:
    ok: bool
    canonical: str | None
    hmac: str | None
    error: str | None


def find_node() -> str | None:
    return shutil.which("node") or ("/usr/bin/node" if Path("/usr/bin/node").exists() else None)


def require_node() -> str:
    node = find_node()
    if node is not None:
        return node
    message = "Node.js is not installed: the JavaScript reference vectors cannot be checked."
    if in_ci():
        pytest.fail(f"{message} (CI=true: node must be present)", pytrace=False)
    pytest.skip(message)


class NodeReference:
    def __init__(self, node: str) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [node, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def ask(self, raw: str, secret: str = "") -> NodeAnswer:
        return self.ask_many([raw], secret)[0]

    def ask_many(self, raws: list[str], secret: str = "") -> list[NodeAnswer]:
        """One round trip for the whole batch. The requests are written from a thread
        while the answers are read, so neither pipe can fill up and deadlock."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        # ensure_ascii keeps lone surrogates (legal in JSON text) transportable.
        requests = b"".join(
            json.dumps({"raw": raw, "secret": secret}).encode("ascii") + b"\n" for raw in raws
        )

        def send() -> None:
            stdin.write(requests)
            stdin.flush()

        writer = threading.Thread(target=send, daemon=True)
        writer.start()
        answers = []
        for _ in raws:
            line = stdout.readline()
            if not line:
                raise RuntimeError("node exited before answering")
            data = json.loads(line.decode("utf-8"))
            answers.append(
                NodeAnswer(
                    ok=data["ok"],
                    canonical=data.get("canonical"),
                    hmac=data.get("hmac"),
                    error=data.get("error"),
                )
            )
        writer.join()
        return answers

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
