"""Phone numbers are personal data: every report shows them masked, the same way everywhere."""
from __future__ import annotations

import re

NOT_DIGIT = re.compile(r"\D")


def mask_phone(phone: str | None) -> str | None:
    """Mask a phone number, keeping country, area code and last four digits: '+55 11 9****-1234'."""
    if phone is None:
        return None
    digits = NOT_DIGIT.sub("", phone)
    if len(digits) < 8:
        return "****"
    if digits.startswith("55") and len(digits) in (12, 13):
        area, number = digits[2:4], digits[4:]
        head = number[0] if len(number) == 9 else ""
        return f"+55 {area} {head}****-{number[-4:]}"
    return f"+{digits[:2]} ****-{digits[-4:]}"
