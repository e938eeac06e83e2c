"""``DurableContext``: the context of durable tasks (waits that survive restarts).

Every wait is a numbered checkpoint stored in Redis; a waiting task holds no worker slot,
and a replay (after a restart, or on another worker) returns the result of every
checkpoint already passed. How: ``_runtime/waits/durable.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from hatchet_celery._durations import Duration, render, to_seconds
from hatchet_celery.conditions import OrGroup, SleepCondition, UserEventCondition, flatten
from hatchet_celery.context import Context

if TYPE_CHECKING:
    from hatchet_celery.context.runtime_port import DurableSession, EarlierSpawns

T = TypeVar("T")


class SleepResult(BaseModel):
    """What ``aio_sleep_for`` returns: the duration slept."""

    duration: timedelta


class _Now(BaseModel):
    ts: datetime


class DurableContext(Context):
    """Context of a ``durable_task``; its waits are checkpoints replayed after a restart."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wait_index = 0
        self._node = 0
        # executions of this task run's function so far (the first, replays, restores)
        self.invocation_count = 1
        # the runtime's execution of this task run (None under mock_run)
        self._session: DurableSession | None = None
        self._earlier_children: asyncio.Future[EarlierSpawns] | None = None

    @property
    def wait_index(self) -> int:
        return self._wait_index

    def _increment_wait_index(self) -> int:
        index = self._wait_index
        self._wait_index += 1
        return index

    def _next_node(self) -> int:
        self._node += 1
        return self._node

    async def aio_wait_for(
        self,
        signal_key: str,
        *conditions: SleepCondition | UserEventCondition | OrGroup,
        label: str | None = None,
    ) -> dict[str, Any]:
        """Wait until the conditions hold (positional ones ANDed, ``or_`` groups ORed).

        Returns ``{"CREATE": {<readable_data_key>: [data, ...]}}`` with the met conditions:
        an event's payload, or ``{"sleep_duration": ...}`` for a sleep.
        """
        if self._session is None:  # mock_run: no engine, so no durability
            return await _wait_in_place(conditions)
        return await self._session.wait(self, conditions)

    async def aio_sleep_for(self, duration: Duration, label: str | None = None) -> SleepResult:
        """Sleep durably: no slot is held, and a replay does not sleep again."""
        seconds = to_seconds(duration, what="aio_sleep_for duration")
        index = self._increment_wait_index()
        await self.aio_wait_for(
            f"sleep:{render(seconds)}-{index}",
            SleepCondition(timedelta(seconds=seconds)),
            label=label,
        )
        return SleepResult(duration=timedelta(seconds=seconds))

    async def aio_sleep_until(self, wake_at: datetime, label: str | None = None) -> SleepResult:
        """Sleep until ``wake_at`` (measured from the memoized ``aio_now``)."""
        now = await self.aio_now()
        if wake_at.tzinfo is None:
            wake_at = wake_at.replace(tzinfo=UTC)
        return await self.aio_sleep_for(max(wake_at - now, timedelta(0)), label=label)

    async def aio_wait_for_event(
        self,
        key: str,
        expression: str | None = None,
        *,
        payload_validator: type[Any] | None = None,
        scope: str | None = None,
        lookback_window: timedelta | None = None,
        label: str | None = None,
    ) -> Any:
        """Wait for an event on ``key`` (matching ``expression`` and ``scope``); returns its
        payload, validated by ``payload_validator`` when given.

        ``lookback_window`` (which needs ``scope``) also accepts events pushed that long
        before the wait started, so an event that beat the wait is not missed.
        """
        if (lookback_window and not scope) or (scope and not lookback_window):
            raise ValueError("Both `lookback_window` and scope must be provided together")
        index = self._increment_wait_index()
        since = (await self.aio_now()) - lookback_window if lookback_window else None
        result = await self.aio_wait_for(
            f"event:{key}-{index}",
            UserEventCondition(
                event_key=key, expression=expression, scope=scope, consider_events_since=since
            ),
            label=label,
        )
        matches: dict[str, list[Any]] = result.get("CREATE", {})
        payload = next(iter(matches.values()))[0]
        if payload_validator is not None:
            return TypeAdapter(payload_validator).validate_python(payload)
        return payload

    async def _aio_memo(
        self,
        fn: Callable[..., Awaitable[T]],
        result_validator: type[T],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """Run ``fn(*args, **kwargs)`` once per task run and arguments; replays get the
        stored result."""
        adapter: TypeAdapter[T] = TypeAdapter(result_validator)
        session = self._session
        key = memo_key(self.task_run_id, fn, args, kwargs)
        stored = await session.memo_get(self, key) if session is not None else None
        if stored is not None:
            return adapter.validate_json(stored)
        value = await fn(*args, **kwargs)
        text = adapter.dump_json(value).decode()
        if session is not None:
            text = await session.memo_put(self, key, text)  # the first stored wins
        return adapter.validate_json(text)

    @asynccontextmanager
    async def _awaiting_children(self, run_ids: list[str]) -> AsyncIterator[None]:
        """Around the await of child run results: the task is waiting (evictable)."""
        session = self._session
        if session is None:
            yield
            return
        async with session.awaiting(run_ids):
            yield

    async def _reserve_child_indices(self, items: list[tuple[str, str, bool]]) -> list[int]:
        """An execution after the first (a replay, a restore, a retry) gives a spawn the
        index of the earlier child with the same workflow and input, whatever order
        concurrent branches spawn in; a spawn with no such child gets an unused index."""
        session = self._session
        if session is None or (self.invocation_count <= 1 and self.retry_count == 0):
            return await super()._reserve_child_indices(items)
        if self._earlier_children is None:
            self._earlier_children = asyncio.ensure_future(session.earlier_children(self))
        earlier = await asyncio.shield(self._earlier_children)
        indices = [earlier.take(wf, text) if not keyed else None for wf, text, keyed in items]
        out = [i if i is not None else earlier.fresh() for i in indices]
        self._skip_child_indices_below(earlier.next_free)
        return out

    async def _now(self) -> _Now:
        return _Now(ts=datetime.now(UTC))

    async def aio_now(self) -> datetime:
        """The current time, memoized: the same value in every replay of this task run."""
        return (await self._aio_memo(self._now, _Now)).ts


def memo_key(task_run_id: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The memo field of one call: the task run, the function and its arguments."""
    h = hashlib.sha256(task_run_id.encode())
    h.update(getattr(fn, "__qualname__", repr(fn)).encode())
    h.update(json.dumps(args, default=str, sort_keys=True).encode())
    h.update(json.dumps(kwargs, default=str, sort_keys=True).encode())
    return h.hexdigest()


async def _wait_in_place(items: tuple[Any, ...]) -> dict[str, Any]:
    """``mock_run``'s wait: the shortest sleep, slept here; events need a worker."""
    groups = flatten(list(items))
    if not groups:
        raise ValueError("aio_wait_for needs a condition")
    sleeps = [c for group in groups for c in group if isinstance(c, SleepCondition)]
    if not sleeps:
        raise RuntimeError("waiting for events needs a worker (not available in mock_run)")
    first = min(sleeps, key=lambda c: c.seconds)
    await asyncio.sleep(first.seconds)
    return {"CREATE": {first.readable_data_key: [{"sleep_duration": f"{int(first.seconds)}s"}]}}


__all__ = ["DurableContext", "SleepResult"]
