"""docker-compose.yml cannot run here (no Docker engine): check its structure instead."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_compose_file_is_consistent() -> None:
    doc = yaml.safe_load(COMPOSE.read_text("utf-8"))
    services = doc["services"]
    assert set(services) == {"kafka", "topics", "worker"}
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    for name in ("kafka", "worker"):
        assert "healthcheck" in services[name]
    assert services["worker"]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "pipeline" in services["worker"]["build"]["dockerfile_inline"]
    topics_script = services["topics"]["command"][0]
    env = services["worker"]["environment"]
    for topic in ("news.raw", "news.prepared", "news.stories", "news.deadletter"):
        assert topic in topics_script
    assert "news.prepared --partitions 1" in topics_script  # the story stage needs one ordered stream
    assert env["PIPELINE_BOOTSTRAP"] == "kafka:9092"
