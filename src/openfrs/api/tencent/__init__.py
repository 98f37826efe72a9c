"""The Tencent Cloud IAI surface (API 2020-03-03): the official SDK unchanged, pointed at OpenFRS.

signature.py (TC3-HMAC-SHA256), auth.py (credentials, project rights, QPS), errors.py
(envelopes, codes), fields.py (request fields), actions.py (the actions), dispatch.py (POST /).
"""
