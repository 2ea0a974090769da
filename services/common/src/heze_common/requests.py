"""What every service's request bodies share."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Constraint


class Body(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


Mark = Annotated[Decimal, Constraint(ge=0, le=100, decimal_places=1)]
"""A score out of 100 with at most one decimal place."""
