"""The one settings object. Only :meth:`Settings.from_env` reads the environment.

Every field has an environment variable named ``PIPELINE_<FIELD>`` (upper case), listed in the
README. The object is frozen and passed down; stages receive the small config dataclasses
derived from it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pipeline.errors import ConfigError

WORKER_ROLES = ("all", "prepare", "story")


class Secret(str):
    """A string whose repr and str do not reveal it (passwords, keys)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')"

    def reveal(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return "**********"


@dataclass(frozen=True)
class Settings:
    """Runtime settings of the broker connection, topics, worker and stages."""

    # Kafka connection
    bootstrap: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True
    sasl_mechanism: str = "PLAIN"  # PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
    sasl_username: str | None = None
    sasl_password: Secret | None = None
    # Topics
    raw_topic: str = "news.raw"
    prepared_topic: str = "news.prepared"
    stories_topic: str = "news.stories"
    dead_letter_topic: str = "news.deadletter"
    raw_partitions: int = 4
    # Worker
    app_id: str = "news-pipeline"
    data_dir: str = "/tmp/news-pipeline"
    web_port: int = 6066
    web_enabled: bool = False
    session_timeout_s: float = 10.0
    prepare_processes: int = 0  # 0: prepare in the worker process; N: in N child processes
    worker_role: str = "all"  # all | prepare (raw -> prepared) | story (prepared -> stories)
    # CPUs the worker process runs on ("0", "0,2", "1-3"); unset: wherever the OS puts it. Pinned,
    # its stages keep their caches (measured one worker, 3,000 articles: prepare 637 against 711
    # us CPU per article unpinned); prepare child processes still run on every CPU it was allowed.
    cpus: str | None = None
    # story stage's CPU per article over the prepare stage's: with several "all" workers, the one
    # that runs the story stage keeps fewer raw partitions (pipeline/assignor.py); 0: even split
    story_weight: float = 0.25
    # a worker running both stages (preparing in its own process) hands what it prepares straight
    # to its story stage while it holds the prepared partition (off: always through the topic)
    direct_story: bool = True
    wait_for_broker_s: float = 60.0  # worker/publisher: how long to retry an unreachable broker
    # longest a consumer's fetch waits for new data (Faust's worker consumer: 1,500 ms, fixed).
    # Kafka answers a fetch as soon as data arrives; the embedded Tansu holds it to the end (a
    # message sent 300 ms into a 1,500 ms fetch arrived 450 ms later, with 100 ms in 2-6 ms)
    fetch_max_wait_ms: int = 100
    log_level: str = "INFO"
    # confirm each end offset the broker reports with a fetch (the embedded Tansu reports a
    # partition's end short by its last batch; Faust rebuilds tables up to that offset)
    check_end_offsets: bool = True
    # Stages
    max_message_bytes: int = 2_000_000  # raw messages larger than this are dead-lettered (oversize)
    entities: bool = True
    html_fallback: bool = True  # trafilatura's readability/jusText cross-check (off: HTML ~1.5x faster)
    ner: str = "fast"  # fast (rules + gazetteers, ~1 ms) | spacy (en_core_web_sm, ~100 ms) | off
    dedup_window_days: float = 7.0
    # recent distinct (title, text, language) whose fingerprint and enrichment a copy reuses (0: off)
    prepare_memo: int = 4096
    # Embedded broker
    broker_host: str = "127.0.0.1"
    broker_port: int = 9092
    broker_cert: str | None = None
    broker_key: str | None = None

    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``PIPELINE_*`` variables; ``overrides`` (e.g. from CLI flags) win over them."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            name = f"PIPELINE_{f.name.upper()}"
            if name in env:
                values[f.name] = _parse(f.name, str(f.type), env[name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "sasl_password" in values and values["sasl_password"] is not None:
            values["sasl_password"] = Secret(values["sasl_password"])
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def namespaced(self, prefix: str, **changes: Any) -> Settings:
        """The same settings with every topic and the app id under ``prefix`` (tests, benchmarks)."""
        return self.replace(
            raw_topic=f"{prefix}.raw",
            prepared_topic=f"{prefix}.prepared",
            stories_topic=f"{prefix}.stories",
            dead_letter_topic=f"{prefix}.deadletter",
            app_id=f"app-{prefix}",
            **changes,
        )

    def to_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) plus a ``PIPELINE_*`` variable for every
        set field, so a child process (a worker) reads back exactly these settings."""
        env = dict(os.environ if base is None else base)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            if isinstance(value, Secret):
                value = value.reveal()
            elif isinstance(value, bool):
                value = "1" if value else "0"
            env[f"PIPELINE_{f.name.upper()}"] = str(value)
        return env

    def validate(self) -> None:
        protocols = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}
        if self.security_protocol not in protocols:
            raise ConfigError(
                f"PIPELINE_SECURITY_PROTOCOL={self.security_protocol!r}: expected one of {sorted(protocols)}"
            )
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ConfigError("SASL needs PIPELINE_SASL_USERNAME and PIPELINE_SASL_PASSWORD")
        if self.max_message_bytes < 1024:
            raise ConfigError("PIPELINE_MAX_MESSAGE_BYTES must be at least 1024")
        if self.ner not in ("fast", "spacy", "off"):
            raise ConfigError(f"PIPELINE_NER={self.ner!r}: expected fast, spacy or off")
        if self.prepare_memo < 0:
            raise ConfigError("PIPELINE_PREPARE_MEMO must be 0 (off) or a positive number of articles")
        if self.prepare_processes < 0:
            raise ConfigError("PIPELINE_PREPARE_PROCESSES must be 0 (in the worker) or a process count")
        if not 1 <= self.fetch_max_wait_ms <= 60_000:
            raise ConfigError("PIPELINE_FETCH_MAX_WAIT_MS must be between 1 and 60000 (milliseconds)")
        if self.worker_role not in WORKER_ROLES:
            roles = ", ".join(WORKER_ROLES)
            raise ConfigError(f"PIPELINE_WORKER_ROLE={self.worker_role!r}: expected one of {roles}")
        if not 0 <= self.story_weight < 1:
            raise ConfigError(
                f"PIPELINE_STORY_WEIGHT={self.story_weight!r}: expected at least 0 (0: raw partitions "
                "split evenly) and below 1 (the story stage's CPU per article over the prepare stage's)"
            )
        if self.raw_partitions < 1:
            raise ConfigError("PIPELINE_RAW_PARTITIONS must be at least 1")
        self.cpu_set()

    def cpu_set(self) -> frozenset[int] | None:
        """The CPUs of ``cpus`` (None when unset); :class:`ConfigError` when it does not parse or
        names a CPU this process may not run on."""
        if self.cpus is None or not self.cpus.strip():
            return None
        wanted: set[int] = set()
        try:
            for part in self.cpus.split(","):
                lo, sep, hi = part.strip().partition("-")
                first, last = int(lo), int(hi) if sep else int(lo)
                if first < 0 or last < first:
                    raise ValueError(part)
                wanted.update(range(first, last + 1))
        except ValueError:
            raise ConfigError(
                f"PIPELINE_CPUS={self.cpus!r}: expected CPU numbers and ranges, e.g. 0 or 0,2 or 1-3"
            ) from None
        if not hasattr(os, "sched_getaffinity"):
            raise ConfigError("PIPELINE_CPUS: this platform cannot pin a process to CPUs (Linux can)")
        allowed = os.sched_getaffinity(0)
        if not wanted <= allowed:
            missing = ",".join(map(str, sorted(wanted - allowed)))
            raise ConfigError(
                f"PIPELINE_CPUS={self.cpus!r}: CPU {missing} is not available to this process "
                f"(available: {','.join(map(str, sorted(allowed)))})"
            )
        return frozenset(wanted)

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def kafka_client_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for aiokafka clients (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_ssl:
            import ssl

            ctx = ssl.create_default_context(cafile=self.ssl_cafile)
            ctx.check_hostname = self.ssl_check_hostname
            if self.ssl_certfile:
                ctx.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
            kwargs["ssl_context"] = ctx
        if self.security_protocol.startswith("SASL"):
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password.reveal() if self.sasl_password else None
        return kwargs


def _parse(name: str, type_name: str, raw: str) -> Any:
    try:
        if "bool" in type_name:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"PIPELINE_{name.upper()}={raw!r} is not a valid {type_name}") from exc
    return raw if raw != "" or "None" not in type_name else None
