"""The log filter that keeps credential headers out of botocore's and urllib3's DEBUG logs."""

from __future__ import annotations

import logging

import pytest

from stackql_tuning.transports.aws import _HEADER_LOGGERS, redact_sdk_logs


@pytest.mark.parametrize(
    ("fmt", "args", "secret"),
    [
        (
            "Sending http request: %s",
            ("<AWSPreparedRequest headers={'Authorization': b'AWS4-HMAC-SHA256 "
             "Credential=AKIAXXXXLOGTEST00001/2026/us-east-1/sagemaker/aws4_request'}>",),
            "AKIAXXXXLOGTEST00001",
        ),
        (
            "CanonicalRequest:\n%s",
            ("POST\n/\n\nhost:api.sagemaker\nx-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n",),
            "FQoGZXIvYXdzEXAMPLETOKEN",
        ),
        ("headers: %r", ({"X-Amz-Security-Token": "IQoJb3JpZ2luEXAMPLE"},), "IQoJb3JpZ2luEXAMPLE"),
        # botocore.parsers logs reply bodies: STS's AssumeRole holds the role's credentials
        (
            "Response body:\n%r",
            (b"<AssumeRoleResponse><Credentials><AccessKeyId>ASIAX</AccessKeyId>"
             b"<SecretAccessKey>oxOFsecretBODY/1+2</SecretAccessKey>"
             b"<SessionToken>FQoGbodyTOKEN==</SessionToken></Credentials>",),
            "oxOFsecretBODY",
        ),
        (
            "Response body:\n%s",
            ('{"roleCredentials":{"accessKeyId":"ASIAX","secretAccessKey":"ssoSECRETbody",'
             '"sessionToken":"ssoTOKENbody"}}',),
            "ssoSECRETbody",
        ),
    ],
)  # fmt: skip
def test_credential_headers_are_redacted(
    caplog: pytest.LogCaptureFixture, fmt: str, args: tuple[object, ...], secret: str
) -> None:
    redact_sdk_logs()
    redact_sdk_logs()  # idempotent: one filter per logger
    caplog.set_level(logging.DEBUG)
    for name in _HEADER_LOGGERS:
        assert len(logging.getLogger(name).filters) >= 1
        logging.getLogger(name).debug(fmt, *args)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == len(_HEADER_LOGGERS)
    assert all(secret not in m and "<redacted>" in m for m in messages)


def test_other_records_are_untouched(caplog: pytest.LogCaptureFixture) -> None:
    redact_sdk_logs()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botocore.endpoint").debug("Response body: %s", "{'Name': 'job-1'}")
    assert caplog.records[-1].getMessage() == "Response body: {'Name': 'job-1'}"
