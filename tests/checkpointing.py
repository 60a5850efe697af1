"""Checkpointers for tests: the episode graph's serializer, allowed to rebuild the task classes that tests
define (``tests.*``) besides the product's (``tasks.*``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from graphs.state_codec import ALLOWED_PACKAGES, TaskStateSerializer

TEST_PACKAGES = (*ALLOWED_PACKAGES, "tests")


def serde() -> TaskStateSerializer:
    return TaskStateSerializer(TEST_PACKAGES)


def memory_saver() -> InMemorySaver:
    return InMemorySaver(serde=serde())


@asynccontextmanager
async def sqlite_saver(path: str) -> AsyncIterator[AsyncSqliteSaver]:
    async with aiosqlite.connect(path) as conn:
        yield AsyncSqliteSaver(conn, serde=serde())
