"""The service: tenants, API keys, the request workflow with verification, approval and deadlines."""

from privet.service.runner import InlineRunner, InProcessRunner, Runner
from privet.service.tenants import Principal, add_tenant, authenticate, create_key
from privet.service.workflow import TYPES, RequestService

__all__ = [
    "TYPES",
    "InProcessRunner",
    "InlineRunner",
    "Principal",
    "RequestService",
    "Runner",
    "add_tenant",
    "authenticate",
    "create_key",
]
