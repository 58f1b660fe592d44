"""An account's credentials that cannot be had: the error says why (the STS error's code and
message, or what its reply lacks), never only an exception's class name."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from stackql_tuning.errors import AuthError
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports.aws import AwsTransport

ROLE = "arn:aws:iam::210987654321:role/r"
AUTH = {"aws": {"type": "aws_signing_v4", "keyIDenvvar": "K_ID", "credentialsenvvar": "K_SECRET"}}


class FakeSts:
    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def assume_role(self, **kwargs: Any) -> Any:
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "nope"}}, "AssumeRole"),
            "AccessDenied: nope",
        ),
        ({}, "the STS reply could not be read (KeyError: 'Credentials')"),
        (
            {"Credentials": {"AccessKeyId": "A", "SessionToken": "t"}},
            "the STS reply could not be read (KeyError: 'SecretAccessKey')",
        ),
    ],
)
def test_a_role_that_cannot_be_assumed_says_why(
    monkeypatch: pytest.MonkeyPatch, reply: Any, said: str
) -> None:
    monkeypatch.setenv("K_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("K_SECRET", "example-secret")
    settings = Settings(auth=AUTH, accounts={"210987654321": {"role_arn": ROLE}})
    transport = AwsTransport(settings, default_registry())
    monkeypatch.setattr(transport, "_sdk_client", lambda *a, **k: FakeSts(reply))
    with pytest.raises(AuthError) as info:
        transport._account_session("210987654321", "us-east-1")
    assert str(info.value).startswith(
        f"auth error: cannot get credentials for AwsAccountId 210987654321 (role {ROLE}): {said}"
    )
