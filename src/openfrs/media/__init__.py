"""Request bytes -> validated RGB images: base64, URL fetching (SSRF-guarded) and decoding."""

from openfrs.media._common import read_capped
from openfrs.media.addresses import AllowList, forbidden_reason, parse_host
from openfrs.media.base64img import decode_base64
from openfrs.media.decode import ImageLimits, decode_image
from openfrs.media.fetch import Resolver, fetch_url, system_resolver
from openfrs.media.request_images import (
    Fetcher,
    ImageSource,
    load_image,
    load_source_bytes,
    parse_json_body,
    pick_image_source,
)
from openfrs.media.sniff import read_dimensions, sniff_format

__all__ = [
    "AllowList",
    "Fetcher",
    "ImageLimits",
    "ImageSource",
    "Resolver",
    "decode_base64",
    "decode_image",
    "fetch_url",
    "forbidden_reason",
    "load_image",
    "load_source_bytes",
    "parse_host",
    "parse_json_body",
    "pick_image_source",
    "read_capped",
    "read_dimensions",
    "sniff_format",
    "system_resolver",
]
