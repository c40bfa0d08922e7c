from tests.requests_app.conftest import (  # noqa: F401  (the catalog fixtures, shared)
    approvers,
    category,
    group_item,
    laptop,
    manager,
    other_requester,
    requester,
    two_stage_item,
    vpn,
)
