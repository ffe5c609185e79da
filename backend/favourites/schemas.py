"""Favourites in the API."""

from __future__ import annotations

import datetime as dt
import uuid

from backend.core.schemas import Output


class FavouriteOut(Output):
    institution_id: uuid.UUID
    name: str
    unit_name_zh: str
    address: str
    added_at: dt.datetime


class FavouriteList(Output):
    items: list[FavouriteOut]  # newest first
