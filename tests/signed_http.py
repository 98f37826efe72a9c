"""AK/SK signing for `requests`: tests that speak raw FRS HTTP to a real server sign as the SDK does."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import requests

from openfrs import signing


class AkSkAuth(requests.auth.AuthBase):
    """Signs the request as it goes out (final path, query and body bytes), as the SDK does."""

    def __init__(self, ak: str, sk: str) -> None:
        self.ak, self.sk = ak, sk

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url)
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        for name in ("Authorization", "X-Auth-Token", "X-Sdk-Date"):  # generated ones, if any
            request.headers.pop(name, None)
        content_type = request.headers.get("Content-Type")
        signed = {"Content-Type": content_type} if content_type else {}
        request.headers.update(signing.sign(request.method, url.netloc, url.path,
                                            parse_qsl(url.query, keep_blank_values=True), signed, body,
                                            self.ak, self.sk))
        return request
