"""The one definition of a realestate listing code, shared by the importer, `vkit kg validate` and the vertical.

A listing code is what the answers cite. The generator writes ``L12``; real portals number listings
``101087933454`` (链家) or ``BJ0012345``: up to four letters, then digits. Codes sort by their letters,
then by the number, so ``L9`` comes before ``L10``.

>>> [is_listing_code(c) for c in ("L12", "101087933454", "BJ0012345", "L-12", "")]
[True, True, True, False, False]
>>> sorted(["L10", "L9", "101087933454"], key=listing_code_key)
['101087933454', 'L9', 'L10']
"""

from __future__ import annotations

import re

LISTING_CODE = re.compile(r"([A-Za-z]{0,4})(\d{1,20})")
LISTING_CODE_RULE = "up to four letters and then digits (L12, 101087933454)"


def is_listing_code(code: object) -> bool:
    """Whether ``code`` is a listing code (see :data:`LISTING_CODE_RULE`)."""
    return LISTING_CODE.fullmatch(str(code)) is not None


def listing_code_key(code: object) -> tuple[str, int]:
    """(letters, number) of a listing code, for sorting; ValueError for anything else."""
    match = LISTING_CODE.fullmatch(str(code))
    if match is None:
        raise ValueError(f"not a listing code: {code!r} (a listing code is {LISTING_CODE_RULE})")
    return match.group(1), int(match.group(2))
