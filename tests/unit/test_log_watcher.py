"""Subscribers wait on one shared poll of the log head, which stops when nobody waits."""

import asyncio

from taskmarket.graphql.watcher import LogWatcher


class Log:
    def __init__(self):
        self.position = 0
        self.polls = 0

    def event_log_head(self) -> int:
        self.polls += 1
        return self.position


def test_waiters_wake_when_the_head_moves_past_them_and_the_poll_stops_after():
    log = Log()
    watcher = LogWatcher(log, interval=0.01)

    async def story():
        waiters = [asyncio.create_task(watcher.wait_past(0, timeout=5)) for _ in range(20)]
        await asyncio.sleep(0.05)
        assert not any(w.done() for w in waiters)
        log.position = 3
        assert all(await asyncio.gather(*waiters))
        polls = log.polls
        await asyncio.sleep(0.05)
        return polls

    polls_when_woken = asyncio.run(story())
    assert log.polls == polls_when_woken  # nobody waits: no more polling
    assert polls_when_woken < 20  # one poll loop for twenty waiters


def test_a_wait_without_news_times_out():
    log = Log()
    watcher = LogWatcher(log, interval=0.01)
    assert asyncio.run(watcher.wait_past(0, timeout=0.05)) is False
