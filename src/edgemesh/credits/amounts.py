"""Credit amounts: integer milli-credits and how people read them."""

from __future__ import annotations

MC_PER_CREDIT = 1000


def format_credits(amount_mc: int) -> str:
    """Milli-credits as a human figure, e.g. 1234 -> '1.234'."""
    sign = "-" if amount_mc < 0 else ""
    whole, frac = divmod(abs(amount_mc), MC_PER_CREDIT)
    return f"{sign}{whole}.{frac:03d}"
