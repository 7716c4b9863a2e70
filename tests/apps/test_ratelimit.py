"""The login rate limit (apps/ratelimit.py): free failures, then a doubling delay, per key."""

from __future__ import annotations

import pytest

from apps.ratelimit import LoginLimiter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("failures", "after", "wait"), [
    (4, 0.0, 0.0),  # under the free count: no delay
    (5, 0.0, 1.0),
    (6, 0.5, 1.5),  # 2 s after the 6th failure, 0.5 s of it gone
    (8, 0.0, 8.0),
    (8, 8.0, 0.0),
    (30, 0.0, 300.0),  # capped
])
def test_delay_after_failures(failures, after, wait):
    clock = Clock()
    limiter = LoginLimiter(free=5, base=1.0, cap=300.0, clock=clock)
    for _ in range(failures):
        limiter.failed("user:a", "client:x")
    clock.now += after
    assert limiter.wait("user:a") == pytest.approx(wait)
    assert limiter.wait("client:x") == pytest.approx(wait)
    assert limiter.wait("user:b", "client:y") == 0.0  # other users, other clients: untouched


def test_a_key_over_the_limit_blocks_whatever_the_other_key():
    limiter = LoginLimiter(free=1, base=10.0, clock=Clock())
    limiter.failed("client:x")
    limiter.failed("client:x")
    assert limiter.wait("user:fresh", "client:x") == 20.0


def test_success_clears_the_user_and_old_failures_are_forgotten():
    clock = Clock()
    limiter = LoginLimiter(free=1, base=1.0, cap=60.0, clock=clock)
    for _ in range(3):
        limiter.failed("user:a", "client:x")
    limiter.succeeded("user:a")
    assert limiter.wait("user:a") == 0.0 and limiter.wait("client:x") == 4.0
    clock.now += 61.0
    limiter.failed("client:y")
    assert limiter.wait("client:x") == 0.0  # forgotten a cap after its last failure
