from datetime import UTC, datetime, timedelta

import pytest

from itxm.devices import services
from itxm.devices.models import Device


@pytest.fixture(autouse=True)
def telemetry_dir(tmp_path, monkeypatch):
    """Every test writes its Parquet files in its own folder."""
    folder = tmp_path / "telemetry"
    monkeypatch.setenv("ITXM_TELEMETRY_DIR", str(folder))
    return folder


@pytest.fixture
def now():
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def laptop(db):
    return Device.objects.create(hostname="PC042", serial="SN-042")


@pytest.fixture
def enrolled(db):
    """A device enrolled through a one-time code, with its token."""
    from itxm.org.scopes import EVERYTHING

    _, code = services.create_enrolment_code(EVERYTHING, None)
    device, token = services.enrol(code, {"hostname": "PC007", "serial": "SN-007"})
    return device, token


def at(base: datetime, minutes: int) -> str:
    return (base + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
