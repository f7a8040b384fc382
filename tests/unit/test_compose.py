"""docker-compose.yml cannot run here (no Docker engine): check its structure instead."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_compose_file_is_consistent() -> None:
    doc = yaml.safe_load(COMPOSE.read_text("utf-8"))
    services = doc["services"]
    assert set(services) == {"kafka", "topics", "story", "prepare"}
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    for name in ("kafka", "story", "prepare"):
        assert "healthcheck" in services[name]
    for name in ("story", "prepare"):
        assert services[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        dockerfile = services[name]["build"]["dockerfile_inline"]
        assert "pipeline" in dockerfile
        # the image compiles the kernels and refuses to build without them
        assert "gcc" in dockerfile and "native.available()" in dockerfile
        assert services[name]["environment"]["PIPELINE_WORKER_ROLE"] == name  # one story worker
        assert services[name]["environment"]["PIPELINE_BOOTSTRAP"] == "kafka:9092"
        # the health check asks the worker itself (Faust's web port), not just the broker
        assert services[name]["environment"]["PIPELINE_WEB_ENABLED"] == "true"
        assert "localhost:6066" in services[name]["healthcheck"]["test"][1]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    topics_script = services["topics"]["command"][0]
    env = services["story"]["environment"]
    for topic in ("news.raw", "news.prepared", "news.stories", "news.deadletter"):
        assert topic in topics_script
    assert "news.prepared --partitions 1" in topics_script  # the story stage needs one ordered stream
    assert env["PIPELINE_BOOTSTRAP"] == "kafka:9092"
