"""The one settings object: environment names, validation, secrets."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Settings


def test_defaults_and_env() -> None:
    s = Settings.from_env(
        {
            "PIPELINE_BOOTSTRAP": "kafka:9093",
            "PIPELINE_ENTITIES": "false",
            "PIPELINE_DEDUP_WINDOW_DAYS": "2.5",
            "PIPELINE_RAW_PARTITIONS": "8",
        }
    )
    assert (s.bootstrap, s.entities, s.dedup_window_days, s.raw_partitions) == ("kafka:9093", False, 2.5, 8)
    assert Settings.from_env({}).raw_topic == "news.raw"


def test_overrides_win_over_env() -> None:
    s = Settings.from_env({"PIPELINE_BOOTSTRAP": "a:1"}, bootstrap="b:2")
    assert s.bootstrap == "b:2"


@pytest.mark.parametrize(
    "env",
    [
        {"PIPELINE_RAW_PARTITIONS": "many"},
        {"PIPELINE_ENTITIES": "maybe"},
        {"PIPELINE_SECURITY_PROTOCOL": "TLS"},
        {"PIPELINE_SECURITY_PROTOCOL": "SASL_SSL"},  # no credentials
        {"PIPELINE_MAX_MESSAGE_BYTES": "10"},
        {"PIPELINE_WORKER_ROLE": "dedup"},
        {"PIPELINE_FETCH_MAX_WAIT_MS": "0"},
        {"PIPELINE_FETCH_MAX_WAIT_MS": "soon"},
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_password_is_never_printed() -> None:
    s = Settings.from_env(
        {
            "PIPELINE_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "PIPELINE_SASL_USERNAME": "u",
            "PIPELINE_SASL_PASSWORD": "hunter2",
        }
    )
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.sasl_password)
    assert s.kafka_client_kwargs()["sasl_plain_password"] == "hunter2"


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.bootstrap = "x"  # type: ignore[misc]


def test_html_fallback_reaches_the_clean_stage() -> None:
    from pipeline.processor import stage_configs

    assert stage_configs(Settings.from_env({})).clean.html_fallback is True
    assert stage_configs(Settings.from_env({"PIPELINE_HTML_FALLBACK": "false"})).clean.html_fallback is False


def test_worker_consumers_take_the_fetch_wait() -> None:
    """Faust fixes its worker consumer's fetch wait at 1,500 ms; the worker installs ours, and
    installing again replaces the value rather than wrapping the wrapper."""
    import asyncio

    import faust

    from pipeline.kafka import install_fetch_max_wait

    async def wait_of_a_new_consumer(app: faust.App) -> int:
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        try:
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()  # never started: only closes its client

    async def main() -> tuple[int, int]:
        app = faust.App("fetch-wait-test", broker="kafka://127.0.0.1:9", store="memory://")
        install_fetch_max_wait(77)
        first = await wait_of_a_new_consumer(app)
        install_fetch_max_wait(Settings().fetch_max_wait_ms)
        return first, await wait_of_a_new_consumer(app)

    assert asyncio.run(main()) == (77, Settings().fetch_max_wait_ms)
    assert Settings().fetch_max_wait_ms < 1500


def test_cpus_parse_and_must_be_available() -> None:
    import os

    assert Settings.from_env({}).cpu_set() is None
    first = min(os.sched_getaffinity(0))
    assert Settings.from_env({"PIPELINE_CPUS": str(first)}).cpu_set() == {first}
    every = sorted(os.sched_getaffinity(0))
    spec = (
        f"{every[0]}-{every[-1]}"
        if every == list(range(every[0], every[-1] + 1))
        else ",".join(map(str, every))
    )
    assert Settings.from_env({"PIPELINE_CPUS": spec}).cpu_set() == set(every)
    for bad in ("x", "1-0", "-1", "0,,1", "0;1"):
        with pytest.raises(ConfigError, match="expected CPU numbers"):
            Settings.from_env({"PIPELINE_CPUS": bad})
    missing = max(every) + 1
    with pytest.raises(ConfigError, match=f"CPU {missing} is not available"):
        Settings.from_env({"PIPELINE_CPUS": str(missing)})


def test_pinning_a_worker_keeps_the_cpus_it_had_for_its_children() -> None:
    import os

    from pipeline.worker import pin_cpus

    before = os.sched_getaffinity(0)
    assert pin_cpus(Settings()) is None and os.sched_getaffinity(0) == before
    first = min(before)
    try:
        assert pin_cpus(Settings(cpus=str(first))) == before
        assert os.sched_getaffinity(0) == {first}
    finally:
        os.sched_setaffinity(0, before)
