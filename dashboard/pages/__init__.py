"""The dashboard's pages; each module builds one :class:`dashboard.page.Page` from NGSI-LD reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..directory import Directory
from ..filters import Filters
from ..reader import Reader


@dataclass(frozen=True)
class Ctx:
    """What a page builder needs: where to read, who and where exists, the selection, and now."""

    reader: Reader
    directory: Directory
    filters: Filters
    now: datetime
    zone: ZoneInfo
    council: str = "council"  # CIC_COUNCIL_ID: whose planning areas to read

    @property
    def tz(self) -> str:
        """The zone as headings name it (times in tables are local, without an offset)."""
        return str(self.zone)
