"""SigV4 signing against AWS's published test-suite vectors and the S3 documentation example."""

import pytest

from alerts.sigv4 import EMPTY_SHA256, Credentials, authorization, sign_s3_request

SUITE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SUITE_HEADERS = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}


@pytest.mark.parametrize(
    ("name", "method", "path", "query", "signature"),
    [
        ("get-vanilla", "GET", "/", {}, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("post-vanilla", "POST", "/", {}, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        (
            "get-vanilla-query-order-key-case",
            "GET",
            "/",
            {"Param2": "value2", "Param1": "value1"},
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        (
            "get-utf8",
            "GET",
            "/\u1234",
            {},
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        ),
    ],
)
def test_aws_sigv4_test_suite(name, method, path, query, signature) -> None:
    got = authorization(
        SUITE,
        method=method,
        path=path,
        query=query,
        headers=SUITE_HEADERS,
        payload_hash=EMPTY_SHA256,
        amz_date="20150830T123600Z",
        region="us-east-1",
        service="service",
    )
    assert got == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}"
    ), name


def test_s3_get_object_example_from_the_s3_docs() -> None:
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
    }
    got = authorization(
        creds,
        method="GET",
        path="/test.txt",
        query={},
        headers=headers,
        payload_hash=EMPTY_SHA256,
        amz_date="20130524T000000Z",
        region="us-east-1",
    )
    assert got.endswith("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    assert "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date" in got


def test_signed_s3_request_carries_payload_hash_and_token_and_hides_secrets() -> None:
    creds = Credentials("AKID", "SECRET", "TOKEN")
    h = sign_s3_request(
        creds,
        method="PUT",
        host="minio:9000",
        path="/bucket/a.jpg",
        body=b"abc",
        region="us-east-1",
        now_s=1_700_000_000.0,
    )
    assert h["x-amz-content-sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert h["x-amz-date"] == "20231114T221320Z"
    assert h["x-amz-security-token"] == "TOKEN"
    assert "x-amz-security-token" in h["Authorization"]
    assert "SECRET" not in repr(creds) and "SECRET" not in h["Authorization"]
