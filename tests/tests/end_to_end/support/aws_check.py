"""Independent checks for the AWS platform tests, run in a venv with botocore
and the official `anthropic` SDK from PyPI.

`verify`: reads {"access_key", "secret_key", "requests": [...]} on stdin, each
request {method, url, headers, body_b64}, and prints for each the SigV4
signature botocore computes for it (at its own x-amz-date, over the headers it
says it signed) next to the one it carries.

`sdk`: reads {"platform", "base_url", credentials..., "params", "betas",
"stream"} on stdin and sends that request with the SDK's own platform client,
printing the reply's text.
"""

import base64
import json
import re
import sys


def verify(job):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    out = []
    for request in job["requests"]:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        auth = headers["authorization"]
        match = re.match(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
            r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)$",
            auth,
        )
        if not match:
            out.append({"error": f"malformed authorization header {auth!r}"})
            continue
        access_key, _day, region, service, signed, got = match.groups()
        signed = signed.split(";")
        # botocore adds x-amz-date and the token itself when it signs.
        regenerated = {"x-amz-date", "x-amz-security-token", "authorization"}
        kept = {name: headers[name] for name in signed if name not in regenerated}
        body = request["body"].encode("utf-8")
        aws_request = AWSRequest(method=request["method"], url=request["url"], headers=kept, data=body)
        credentials = Credentials(access_key, job["secret_key"], headers.get("x-amz-security-token"))
        signer = SigV4Auth(credentials, service, region)
        # `add_auth` without the clock: the request's own time.
        aws_request.context["timestamp"] = headers["x-amz-date"]
        signer._modify_request_before_signing(aws_request)
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        botocore_signed = signer.signed_headers(signer.headers_to_sign(aws_request)).split(";")
        out.append(
            {
                "expected": expected,
                "got": got,
                "signed_by_botocore": botocore_signed,
                "signed": signed,
                "scope": [region, service],
            }
        )
    print(json.dumps(out))


def sdk(job):
    import anthropic
    from anthropic.lib.bedrock import AnthropicBedrock, AnthropicBedrockMantle

    platform = job["platform"]
    common = {"base_url": job["base_url"], "max_retries": 0}
    creds = {
        "aws_access_key": job.get("access_key"),
        "aws_secret_key": job.get("secret_key"),
        "aws_session_token": job.get("session_token"),
        "aws_region": job["region"],
    }
    if platform == "bedrock":
        client = AnthropicBedrock(**creds, **common)
    elif platform == "mantle":
        client = AnthropicBedrockMantle(**creds, **common)
    elif platform == "aws":
        client = anthropic.AnthropicAWS(workspace_id=job["workspace_id"], **creds, **common)
    else:
        raise SystemExit(f"unknown platform {platform!r}")
    params = dict(job["params"])
    betas = job.get("betas") or []
    create = client.beta.messages.create if betas else client.messages.create
    if betas:
        params["betas"] = betas
    if job.get("stream"):
        text = []
        for event in create(**params, stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text.append(event.delta.text)
        print("".join(text))
    else:
        message = create(**params)
        print("".join(block.text for block in message.content if block.type == "text"))


if __name__ == "__main__":
    job = json.load(sys.stdin)
    {"verify": verify, "sdk": sdk}[sys.argv[1]](job)
