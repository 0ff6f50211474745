#!/usr/bin/env python3
"""SigV4 vectors made with botocore, AWS's own Python signer (Debian's python3-botocore), for
src/landing/sigv4_botocore_test.cc: a second, independent source besides AWS's published suite
(sigv4_test.cc), covering what S3 landing sends: object keys and query values with special characters,
empty and non-empty payloads, UNSIGNED-PAYLOAD, a session token, region "auto" (Google Cloud Storage).

Each vector gives the request as our signer takes it (method, decoded path, decoded query pairs, headers,
payload hash, region, service, time) and what botocore produced (canonical request, string to sign,
signature, Authorization). Credentials and times are fixed, so the output is the same on every run.

Regenerate (and commit the result):
    python3 tests/sigv4/make_botocore_vectors.py > src/landing/testdata/sigv4_botocore_vectors.json
"""
import datetime
import hashlib
import json
import sys
import types
from unittest import mock
from urllib.parse import quote

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FQoGZXIvYXdzEXAMPLE//////////wEaDEXAMPLE+token/with=special+chars"

CASES = [
    # name, style ("s3" or "generic"), method, host, decoded path, query pairs, extra headers, body, region,
    # service, time, options
    dict(name="s3_get_object", style="s3", method="GET", host="examplebucket.s3.amazonaws.com",
         path="/tracking/dt=2024-05-01/http_0-0.ndjson.zst", query=[], headers={}, body=b"",
         region="us-east-1", service="s3", time="2024-05-01T12:00:00"),
    dict(name="s3_put_object_with_body", style="s3", method="PUT", host="127.0.0.1:9000",
         path="/landing/tracking/dt=2024-05-01/file-a.ndjson-0.manifest.json", query=[],
         headers={"Content-Type": "application/octet-stream", "If-None-Match": "*"},
         body=b'{"batch_id":"file-a.ndjson-0","records":3}\n', region="eu-west-1", service="s3",
         time="2024-05-01T23:59:59"),
    dict(name="s3_key_with_special_characters", style="s3", method="PUT", host="127.0.0.1:4569",
         path="/landing/raw/a b+c=d&e~f%g(h)!*'/\u00fcber-caf\u00e9.json", query=[],
         headers={"Content-Type": "application/json"}, body=b"[]", region="us-east-1", service="s3",
         time="2023-02-28T00:00:01"),
    dict(name="s3_list_objects_v2_with_continuation", style="s3", method="GET", host="127.0.0.1:4569",
         path="/landing",
         query=[("list-type", "2"), ("prefix", "tracking/dt=2024-05-01/"), ("max-keys", "1000"),
                ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="), ("delimiter", "/")],
         headers={}, body=b"", region="us-east-1", service="s3", time="2024-05-02T00:00:00"),
    dict(name="s3_query_with_special_characters_and_empty_value", style="s3", method="GET",
         host="examplebucket.s3.amazonaws.com", path="/",
         query=[("prefix", "a b*c'd(e)!f~g_h.i-j"), ("marker", "\u00e9t\u00e9/2024+01"), ("uploads", ""),
                ("Z", "upper"), ("a", "lower"), ("x", "2"), ("x", "1")],
         headers={}, body=b"", region="us-east-1", service="s3", time="2024-05-01T12:00:00"),
    dict(name="s3_unsigned_payload", style="s3", method="PUT", host="examplebucket.s3.amazonaws.com",
         path="/tracking/dt=2024-05-01/big.ndjson.zst", query=[],
         headers={"Content-Type": "application/octet-stream", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="},
         body=b"x" * 4096, region="us-east-1", service="s3", time="2024-05-01T12:00:00", unsigned=True),
    dict(name="s3_session_token", style="s3", method="HEAD", host="examplebucket.s3.amazonaws.com",
         path="/collect/github/dt=2024-09-02/run_1.json", query=[], headers={}, body=b"",
         region="us-west-2", service="s3", time="2024-09-02T03:00:00", token=True),
    dict(name="s3_header_values_trimmed_and_collapsed", style="s3", method="PUT",
         host="examplebucket.s3.amazonaws.com", path="/k",
         query=[], headers={"X-Amz-Meta-Note": "  two   spaces\tand  a tab  ", "Content-Type": "text/plain"},
         body=b"hello", region="us-east-1", service="s3", time="2024-05-01T12:00:00"),
    dict(name="gcs_interop_region_auto", style="s3", method="GET", host="storage.googleapis.com",
         path="/sluice-landing",
         query=[("list-type", "2"), ("prefix", "landing/tracking/")],
         headers={}, body=b"", region="auto", service="s3", time="2024-05-01T12:00:00"),
    dict(name="generic_service_post_json", style="generic", method="POST", host="example.amazonaws.com",
         path="/", query=[("Action", "ListUsers"), ("Version", "2010-05-08")],
         headers={"Content-Type": "application/x-amz-json-1.0"}, body=b'{"key":"value"}',
         region="eu-central-1", service="service", time="2015-08-30T12:36:00"),
    dict(name="generic_service_get_empty", style="generic", method="GET", host="example.amazonaws.com",
         path="/path/to/resource", query=[], headers={}, body=b"", region="us-east-1",
         service="service", time="2015-08-30T12:36:00"),
]


def make_vector(case):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN if case.get("token") else None)
    auth_class = botocore.auth.S3SigV4Auth if case["style"] == "s3" else botocore.auth.SigV4Auth
    signer = auth_class(creds, case["service"], case["region"])
    # S3 object keys are percent-encoded once in the URL, which S3SigV4Auth signs as it is.
    scheme = "https" if case.get("unsigned") else "http"
    url = scheme + "://" + case["host"] + quote(case["path"], safe="/~")
    headers = {"Host": case["host"]}
    headers.update(case["headers"])
    request = AWSRequest(method=case["method"], url=url, data=case["body"], headers=headers,
                         params=list(case["query"]))
    if case.get("unsigned"):
        request.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})
    now = datetime.datetime.fromisoformat(case["time"])
    # The canonical request and string to sign as add_auth computed them (before it added Authorization).
    seen = {}
    original_string_to_sign = signer.string_to_sign

    def string_to_sign_spy(req, canonical_request):
        seen["canonical_request"] = canonical_request
        seen["string_to_sign"] = original_string_to_sign(req, canonical_request)
        return seen["string_to_sign"]

    signer.string_to_sign = string_to_sign_spy
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        signer.add_auth(request)
    canonical_request, string_to_sign = seen["canonical_request"], seen["string_to_sign"]
    # What our signer is given: every header botocore signed except x-amz-date and x-amz-security-token,
    # which ours adds itself from the time and the credentials.
    signed = []
    for name in request.headers.keys():
        if name.lower() in ("authorization", "x-amz-date", "x-amz-security-token"):
            continue
        signed.append([name, request.headers[name]])
    payload_hash = request.headers.get("X-Amz-Content-SHA256") or signer.payload(request)
    authorization = request.headers["Authorization"]
    return {
        "name": case["name"],
        "method": case["method"],
        "path": case["path"],
        "query": [list(p) for p in case["query"]],
        "headers": signed,
        "payload_hash": payload_hash,
        "region": case["region"],
        "service": case["service"],
        "unix_time": int(now.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "session_token": SESSION_TOKEN if case.get("token") else "",
        "expected": {
            "amz_date": request.headers["X-Amz-Date"],
            "canonical_request": canonical_request,
            "string_to_sign": string_to_sign,
            "signature": authorization.rsplit("Signature=", 1)[1],
            "authorization": authorization,
        },
    }


def main():
    vectors = [make_vector(c) for c in CASES]
    json.dump({"generator": "tests/sigv4/make_botocore_vectors.py",
               "botocore": botocore.__version__,
               "vectors": vectors}, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
