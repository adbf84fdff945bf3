"""Placeholder: filled in by the privacy work of issue 2."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
