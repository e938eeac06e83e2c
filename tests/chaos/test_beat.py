"""Case 4: two ``celery beat`` processes fire one per-second cron while, again and again,
one of them is SIGKILLed and restarted. Every tick while a beat was up fired exactly once:
no tick twice (two beats, a restart re-reading its schedule), none skipped."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hatchet_celery._keys import Keys
from tests.chaos.conftest import long_case, scale, timeout
from tests.chaos.load import record_figures

ROOT = Path(__file__).resolve().parents[2]
KEYS = Keys("hc", "chaos_beat_")

pytestmark = [long_case, timeout(120, 300)]


class Beat:
    def __init__(self, folder: Path, name: str, url: str) -> None:
        self.folder, self.name, self.url = folder, name, url
        self.log = folder / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        args = [sys.executable, "-m", "celery", "-A", "tests.chaos.apps.beat_app", "beat"]
        args += ["-l", "INFO", "-S", "hatchet_celery.beat:Scheduler"]
        args += ["-s", str(self.folder / f"{self.name}-schedule")]
        env = {**os.environ, "HATCHET_CELERY_REDIS_URL": self.url}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.starts += 1
        deadline = time.time() + 30
        while self.log.read_text(errors="replace").count("cron(s) loaded") < self.starts:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.time() < deadline, "beat never loaded its crons"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def _ticks(redis: Any) -> Counter[int]:
    ids = redis.zrange(KEYS.runs, 0, -1)
    pipe = redis.pipeline(transaction=False)
    for run_id in ids:
        pipe.hget(KEYS.run(run_id), "md")
    counts: Counter[int] = Counter()
    for md in pipe.execute():
        at = json.loads(md or "{}").get("hatchet__cron_scheduled_at")
        if at:
            t = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            counts[int(t.timestamp())] += 1
    return counts


def test_two_beats_killed_and_restarted_fire_each_tick_once(chaos_redis, tmp_path) -> None:
    redis = chaos_redis.client(decode_responses=True)
    beats = [Beat(tmp_path, f"beat{i}", chaos_redis.url) for i in range(2)]
    rng = random.Random(4)
    kills = 0
    try:
        for beat in beats:
            beat.start()
        first = int(time.time()) + 1
        until = time.time() + scale(12.0, 60.0)
        while time.time() < until:
            time.sleep(rng.uniform(0.5, 2.0))
            victim = rng.choice(beats)
            victim.kill()  # the other one keeps firing meanwhile
            kills += 1
            victim.start()
        last = int(time.time()) - 1
    finally:
        for beat in beats:
            beat.kill()
    counts = _ticks(redis)
    missing = [t for t in range(first, last + 1) if counts[t] == 0]
    doubled = {t: n for t, n in counts.items() if n > 1}
    record_figures(
        "beat",
        ticks=last - first + 1,
        beat_kills=kills,
        missing=len(missing),
        doubled=len(doubled),
    )
    assert not doubled, f"ticks fired more than once: {doubled}"
    assert not missing, f"ticks never fired: {missing}"
