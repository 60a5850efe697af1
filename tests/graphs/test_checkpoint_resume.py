"""Durable runs: an interrupted episode resumed from its checkpoint ends exactly like an uninterrupted one.

Against real checkpointers: a SQLite file (the default) and PostgreSQL (marked ``postgres``).
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from graphs.episode import EpisodeContext, play_episode
from llamac.app.run_folder import RunFolder
from llamac.runtime.memory import InProcessMemory
from tests.checkpointing import serde, sqlite_saver
from tests.graphs.line_walk import LineWalkTask, WalkRightCoordinator

VOLATILE = ("wall_s",)


def _stable(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in VOLATILE}


async def _uninterrupted(tmp_path: Path) -> tuple[dict, list[dict]]:
    folder = RunFolder.create(tmp_path / "clean")
    async with sqlite_saver(str(folder.checkpoints)) as saver:
        ctx = EpisodeContext(task=LineWalkTask(), coordinator=WalkRightCoordinator(), files=folder.episode(0))
        summary = await play_episode(ctx, checkpointer=saver, thread_id="ep0")
    return summary, folder.episode(0).read_steps()


async def _interrupt_and_resume(
    saver_factory, folder: RunFolder, how: str
) -> tuple[dict, list[dict], WalkRightCoordinator, WalkRightCoordinator]:
    thread = f"ep-{uuid.uuid4().hex}"
    if how == "error":
        first = WalkRightCoordinator(fail_at=2)
    else:
        first = WalkRightCoordinator(hang_at=2)
    async with saver_factory() as saver:
        ctx = EpisodeContext(task=LineWalkTask(), coordinator=first, files=folder.episode(0))
        if how == "error":
            with pytest.raises(RuntimeError):
                await play_episode(ctx, checkpointer=saver, thread_id=thread)
        else:  # Ctrl-C: asyncio.run cancels the running episode while the coordinator thinks
            running = asyncio.create_task(play_episode(ctx, checkpointer=saver, thread_id=thread))
            await asyncio.wait_for(first.hanging.wait(), 10)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
    assert [x["t"] for x in folder.episode(0).read_steps()] == [0, 1]
    assert folder.episode(0).read_summary() is None
    # a new process: new task, coordinator and checkpointer objects; nothing but the checkpoint survives
    second = WalkRightCoordinator()
    memory = InProcessMemory("resumed")
    async with saver_factory() as saver:
        ctx = EpisodeContext(task=LineWalkTask(), coordinator=second, files=folder.episode(0), memory=memory)
        summary = await play_episode(ctx, checkpointer=saver, thread_id=thread)
        assert [m.t for m in await memory.all_steps()] == [0, 1, 2, 3]  # refilled from the recorded steps
        # a finished episode is not re-run
        again = await play_episode(ctx, checkpointer=saver, thread_id=thread)
    assert again == summary
    return summary, folder.episode(0).read_steps(), first, second


@pytest.mark.parametrize("how", ["error", "cancel"])
async def test_sqlite_resume_reaches_the_uninterrupted_result(tmp_path, how):
    clean_summary, clean_steps = await _uninterrupted(tmp_path)
    folder = RunFolder.create(tmp_path / "broken")

    def saver_factory() -> AbstractAsyncContextManager:
        return sqlite_saver(str(folder.checkpoints))

    summary, steps, first, second = await _interrupt_and_resume(saver_factory, folder, how)
    assert _stable(summary) == _stable(clean_summary)
    assert steps == clean_steps
    assert first.calls == 3  # steps 0, 1 and the failed step 2
    assert second.calls == 2  # only steps 2 and 3: resumed, not restarted


async def test_resume_drops_a_step_line_written_after_the_last_checkpoint(tmp_path):
    folder = RunFolder.create(tmp_path / "run")
    files = folder.episode(0)
    async with sqlite_saver(str(folder.checkpoints)) as saver:
        ctx = EpisodeContext(task=LineWalkTask(), coordinator=WalkRightCoordinator(fail_at=2), files=files)
        with pytest.raises(RuntimeError):
            await play_episode(ctx, checkpointer=saver, thread_id="ep0")
        # simulate a crash between writing step 2's line and checkpointing it
        files.append_step({"episode": 0, "t": 2, "orphan": True})
        ctx = EpisodeContext(task=LineWalkTask(), coordinator=WalkRightCoordinator(), files=files)
        await play_episode(ctx, checkpointer=saver, thread_id="ep0")
    lines = files.read_steps()
    assert [x["t"] for x in lines] == [0, 1, 2, 3]
    assert not any(x.get("orphan") for x in lines)


@pytest.mark.postgres
async def test_postgres_resume_reaches_the_uninterrupted_result(tmp_path, postgres_url):
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    clean_summary, clean_steps = await _interrupt_free_reference(tmp_path)
    folder = RunFolder.create(tmp_path / "broken")
    async with AsyncPostgresSaver.from_conn_string(postgres_url, serde=serde()) as saver:
        await saver.setup()

    def saver_factory() -> AbstractAsyncContextManager:
        return AsyncPostgresSaver.from_conn_string(postgres_url, serde=serde())

    summary, steps, first, second = await _interrupt_and_resume(saver_factory, folder, "error")
    assert _stable(summary) == _stable(clean_summary)
    assert steps == clean_steps
    assert (first.calls, second.calls) == (3, 2)
    assert not folder.checkpoints.exists()


_interrupt_free_reference = _uninterrupted
