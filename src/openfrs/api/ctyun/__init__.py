"""The CTyun (天翼云) face API surface: detect, age/gender attributes and 1:1 compare, batched.

signature.py (X-CTYUN-DT + HMAC-SHA256), auth.py (credentials, project rights, QPS), errors.py
(envelope, codes 4001-4014 / 5001-5002), images.py (the `data` items -> pictures, per-item
refusals), operations.py (the three operations), scores.py (confidence 0-100), routes.py (paths).
The reference is shared/docs/ctyun.md; docs/api.md, "CTyun face API surface", says what is served.
"""
