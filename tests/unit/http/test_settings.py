"""Server settings: secrets have no defaults outside dev mode."""

from __future__ import annotations

import pytest

from redactor.errors import ConfigError
from redactor.http.settings import DEV_API_KEY_PEPPER, DEV_IP_HASH_KEY, ServerSettings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DEV_MODE", "API_KEY_PEPPER", "IP_HASH_KEY"):
        monkeypatch.delenv(f"REDACTOR_{name}", raising=False)


def test_given_no_secrets_outside_dev_mode_then_both_are_refused() -> None:
    settings = ServerSettings()
    with pytest.raises(ConfigError, match="REDACTOR_API_KEY_PEPPER"):
        settings.api_key_pepper_bytes()
    with pytest.raises(ConfigError, match="REDACTOR_IP_HASH_KEY"):
        settings.ip_hash_key_bytes()


def test_given_dev_mode_then_public_development_secrets() -> None:
    settings = ServerSettings(dev_mode=True)
    assert settings.api_key_pepper_bytes() == DEV_API_KEY_PEPPER
    assert settings.ip_hash_key_bytes() == DEV_IP_HASH_KEY


def test_given_secrets_in_the_environment_then_they_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDACTOR_API_KEY_PEPPER", "p" * 32)
    monkeypatch.setenv("REDACTOR_IP_HASH_KEY", "i" * 32)
    settings = ServerSettings()
    assert settings.api_key_pepper_bytes() == b"p" * 32
    assert settings.ip_hash_key_bytes() == b"i" * 32
    assert "p" * 32 not in repr(settings)
