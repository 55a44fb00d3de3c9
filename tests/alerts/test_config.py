"""Config sections: empty is valid, unknown keys and bad combinations are errors, secrets stay hidden."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.config import AlertsConfig, SiteConfig
from alerts.evidence_config import S3StoreConfig
from alerts.kafka_config import KafkaConfig
from alerts.kafka_settings import producer_settings
from detectors.event import EventKind
from foundation.yamlsafe import load_yaml


def test_empty_section_is_valid_with_outbox_as_destination() -> None:
    cfg = AlertsConfig.model_validate({})
    assert cfg.kafka is None
    assert cfg.outbox.max_rows > 0 and 0 < cfg.outbox.high_water_ratio < 1
    assert cfg.evidence.store.type == "local"
    assert cfg.dedup.for_kind(EventKind.CONSTRUCTION).emit_end is False


def test_every_field_has_a_description() -> None:
    missing = []
    for model in [AlertsConfig, SiteConfig, KafkaConfig, S3StoreConfig]:
        stack = [model]
        while stack:
            m = stack.pop()
            for name, f in m.model_fields.items():
                if not f.description:
                    missing.append(f"{m.__name__}.{name}")
                ann = f.annotation
                for sub in getattr(ann, "__args__", (ann,)):
                    if isinstance(sub, type) and hasattr(sub, "model_fields"):
                        stack.append(sub)
    assert not missing, missing


def test_unknown_keys_and_bounds_are_errors() -> None:
    with pytest.raises(ValidationError, match="extra"):
        AlertsConfig.model_validate({"outbox": {"max_row": 10}})
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate({"outbox": {"high_water_ratio": 1.0}})
    with pytest.raises(ValidationError):
        SiteConfig.model_validate({"lat_deg": 91, "lon_deg": 0})


def test_kafka_security_combinations() -> None:
    with pytest.raises(ValidationError, match="needs sasl_mechanism"):
        KafkaConfig.model_validate({"security_protocol": "SASL_SSL"})
    with pytest.raises(ValidationError, match="mutual TLS"):
        KafkaConfig.model_validate({"security_protocol": "SSL", "ssl_certfile": "/c.pem"})
    with pytest.raises(ValidationError, match="topic"):
        KafkaConfig.model_validate({"topic": "bad topic"})
    ok = KafkaConfig.model_validate(
        {
            "bootstrap_servers": "a:9093, b:9093",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "username": "gw",
            "password": "pw",
        }
    )
    assert ok.bootstrap_servers == ["a:9093", "b:9093"]
    settings = producer_settings(ok)
    assert settings["sasl_mechanism"] == "SCRAM-SHA-512" and settings["sasl_plain_password"] == "pw"
    assert settings["acks"] == "all" and settings["enable_idempotence"] is True
    assert settings["max_in_flight_requests_per_connection"] == 1


def test_secrets_come_from_env_and_never_show(tmp_path: Path) -> None:
    doc = load_yaml(
        "kafka:\n  security_protocol: SASL_SSL\n  sasl_mechanism: SCRAM-SHA-256\n  username: gw\n"
        "  password: ${GW_KAFKA_PASSWORD}\n  ssl_cafile: /etc/ca.pem\n"
        "evidence:\n  store:\n    type: s3\n    endpoint_url: http://minio:9000\n    bucket: evidence\n"
        "    access_key_id: ${GW_S3_KEY}\n    secret_access_key: ${GW_S3_SECRET}\n",
        env={"GW_KAFKA_PASSWORD": "kafka-s3cr3t", "GW_S3_KEY": "AKIA-ID", "GW_S3_SECRET": "s3-s3cr3t"},
    )
    cfg = AlertsConfig.model_validate(doc.data)
    assert cfg.kafka is not None and cfg.kafka.password is not None
    assert cfg.kafka.password.get_secret_value() == "kafka-s3cr3t"
    shown = repr(cfg) + str(cfg) + cfg.model_dump_json()
    assert "kafka-s3cr3t" not in shown and "s3-s3cr3t" not in shown and "AKIA-ID" not in shown


def test_site_needs_cell_id_for_a_cell_name() -> None:
    with pytest.raises(ValidationError, match="grid_cell_name needs grid_cell_id"):
        SiteConfig.model_validate({"lat_deg": 30.25, "lon_deg": 120.2, "grid_cell_name": "x"})
