from pathlib import Path

import pytest

MAILS = Path(__file__).parent / "mails"


@pytest.fixture
def mail_bytes():
    def _read(name: str) -> bytes:
        return (MAILS / name).read_bytes()

    return _read
