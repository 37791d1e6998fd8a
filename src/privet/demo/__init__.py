"""The demo SaaS database: a multi-tenant freelancer marketplace with call tracking and chat."""

from privet.demo.generator import DemoInfo, build_demo
from privet.demo.schema import EXPECTED_COLUMNS, demo_metadata

__all__ = ["EXPECTED_COLUMNS", "DemoInfo", "build_demo", "demo_metadata"]
