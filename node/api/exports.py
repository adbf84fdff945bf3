"""Placeholder: filled in by the exports work of issue 2."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
