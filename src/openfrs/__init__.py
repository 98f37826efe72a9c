"""OpenFRS: a self-hosted face recognition service speaking the Huawei Cloud FRS v2 API."""

__version__ = "0.1.0"
