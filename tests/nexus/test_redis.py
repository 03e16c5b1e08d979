"""The Redis the dev stack and the test harness run (nexus/redis.py), from Debian's binary."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from limits.aio.storage import RedisStorage

from nexus.devstack import DevStack
from nexus.redis import LocalRedis, RedisError, find_redis_server, local_port, ping
from nexus.settings import Settings
from tests.support import free_port


async def test_a_local_redis_serves_the_rate_limit_counters_on_loopback_then_stops(
    tmp_path: Path,
) -> None:
    redis = LocalRedis(tmp_path / "redis", free_port())
    redis.start()
    try:
        assert ping(redis.port)
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
        storage = RedisStorage("async+" + redis.url, implementation="redispy")
        assert await storage.incr("k", 60) == 1
        assert await storage.incr("k", 60) == 2
        # Its files stay in its own directory, readable by its owner only.
        assert (tmp_path / "redis").stat().st_mode & 0o777 == 0o700
        assert (tmp_path / "redis" / "redis.pid").exists()
    finally:
        redis.stop()
    assert not ping(redis.port)
    assert not (tmp_path / "redis" / "redis.pid").exists()
    # Nothing was written to disk: counters are worth nothing after a restart.
    assert not list((tmp_path / "redis").glob("*.rdb"))
    assert not list((tmp_path / "redis").glob("appendonly*"))


def test_it_refuses_to_start_twice_or_on_a_taken_port(tmp_path: Path) -> None:
    redis = LocalRedis(tmp_path / "one", free_port())
    redis.start()
    try:
        with pytest.raises(RedisError, match="already running"):
            redis.start()
        # Another server from the same directory (an earlier stack that did not stop).
        with pytest.raises(RedisError, match="already running"):
            LocalRedis(tmp_path / "one", free_port()).start()
        with pytest.raises(RedisError, match="already has a Redis"):
            LocalRedis(tmp_path / "two", redis.port).start()
    finally:
        redis.stop()
    redis.stop()  # stopping twice is harmless
    # Started again from the same directory once stopped.
    redis.start()
    redis.stop()


def test_a_port_held_by_something_else_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        redis = LocalRedis(tmp_path / "redis", taken.getsockname()[1])
        with pytest.raises(RedisError, match=r"exited|did not answer"):
            redis.start(timeout_s=5)
    redis.stop()


def test_a_missing_binary_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(RedisError, match="apt-get install -y redis-server"):
        find_redis_server(tmp_path / "no-redis-server")


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("redis://127.0.0.1:56379/0", 56379),
        ("redis://localhost/0", 6379),
        ("redis://cache.internal:6379/0", None),
        ("rediss://127.0.0.1:6380/0", None),
        ("memory://", None),
    ],
)
def test_the_stack_serves_only_a_plain_loopback_url_itself(url: str, port: int | None) -> None:
    assert local_port(url) == port


def test_the_dev_stack_runs_redis_for_the_rate_limits_and_stops_it(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        stack={"state_dir": tmp_path / "state"},
        rate_limits={"storage_url": f"redis://127.0.0.1:{port}/0"},
    )
    stack = DevStack(settings)
    stack.logs_dir.mkdir(parents=True)
    assert stack._redis_port() == port
    stack._start_redis(port)
    try:
        assert ping(port)
        assert [child.name for child in stack.children] == ["redis"]
    finally:
        stack.stop()
    assert not ping(port)
    # Limits turned off, or counted in a Redis elsewhere: the stack runs none of its own.
    for elsewhere in ({"enabled": False}, {"storage_url": "redis://cache.internal:6379/0"}):
        assert DevStack(Settings(rate_limits=elsewhere))._redis_port() is None
