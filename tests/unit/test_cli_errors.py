"""``kbs`` refuses bad arguments and a missing AWS set-up in one line, never a traceback."""

from __future__ import annotations

import pytest

from kbs.cli import main


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_serve_refuses_a_port_outside_0_to_65535(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--port", port, "--data-dir", "/nonexistent/kbs"])

    assert refused.value.code == 2
    assert "argument --port:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("unset", "said"),
    [
        (("AWS_DEFAULT_REGION", "AWS_REGION"), "You must specify a region"),
        (("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), "credentials"),
    ],
)
def test_a_stack_command_without_aws_settings_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    unset: tuple[str, ...],
    said: str,
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", *unset):
        monkeypatch.delenv(name, raising=False)

    code = main(["sessions", "list", "--stack", "Kbs"])

    err = capsys.readouterr().err
    assert code == 2
    assert said in err and "AWS_DEFAULT_REGION" in err and "--local" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
