"""Text repair: ftfy for the common damage, plus one documented rule for UTF-8 read as ISO-8859-2 with C1 bytes lost.

That second kind of damage (seen in real scraped news) turns `’` into a lone `â` and `€` into `âŹ`:
each UTF-8 byte was decoded as ISO-8859-2 and the bytes 0x80-0x9F, C1 control codes there, were dropped.
ftfy cannot undo it because bytes are missing. We repair it only in texts that carry its signature,
by re-decoding what survived and guessing the lost punctuation from context.
"""
from __future__ import annotations

import re
import unicodedata

import ftfy

# Signature: an English contraction written with a bare `â` (itâs, doesnât, Nissanâs, youâre),
# or `â` followed by a Latin-2 character that only a lost-byte UTF-8 punctuation sequence produces.
_SIGNATURE = re.compile(r"[A-Za-z]â(?:s|t|ll|re|ve|d|m)\b|â[\u0179\u015a\u02d8\u0164\u0160]")
_MIN_SIGNATURE_HITS = 2

# A surviving UTF-8 lead byte and continuation byte(s), as ISO-8859-2 characters.
_LATIN2_CONT = "".join(bytes([b]).decode("iso-8859-2") for b in range(0xA0, 0xC0))
_LATIN2_LEAD2 = "".join(bytes([b]).decode("iso-8859-2") for b in range(0xC2, 0xE0))
_TWO_BYTE = re.compile(f"[{re.escape(_LATIN2_LEAD2)}][{re.escape(_LATIN2_CONT)}]")
_THREE_BYTE_LOST_MIDDLE = re.compile(f"â([{re.escape(_LATIN2_CONT)}])")
_LONE_A = re.compile("â")


def repair(text: str) -> str:
    """Return `text` with encoding damage repaired; clean text comes back unchanged."""
    # Keep curly quotes and other characters as the author wrote them: we repair, we do not restyle.
    text = ftfy.fix_text(text, uncurl_quotes=False, fix_latin_ligatures=False,
                         fix_character_width=False, normalization="NFC")
    if len(_SIGNATURE.findall(text)) >= _MIN_SIGNATURE_HITS:
        text = _undo_latin2_c1_loss(text)
    return text


def _undo_latin2_c1_loss(text: str) -> str:
    text = _TWO_BYTE.sub(_decode_two_byte, text)
    text = _THREE_BYTE_LOST_MIDDLE.sub(_decode_three_byte, text)
    return _LONE_A.sub(_guess_lost_punctuation, text)


def _decode_two_byte(m: re.Match) -> str:
    try:
        return m.group(0).encode("iso-8859-2").decode("utf-8")
    except UnicodeDecodeError:
        return m.group(0)


def _decode_three_byte(m: re.Match) -> str:
    """E2 <lost 0x80-0x9F> <survivor>: take the first middle byte that yields punctuation or a currency sign."""
    last = m.group(1).encode("iso-8859-2")
    for middle in range(0x80, 0xA0):
        char = (b"\xe2" + bytes([middle]) + last).decode("utf-8", errors="ignore")
        if char and unicodedata.category(char)[0] in "PS":
            return char
    return m.group(0)


def _guess_lost_punctuation(m: re.Match) -> str:
    """A bare `â` lost both trailing bytes: E2 80 xx is ’ ‘ “ ” – — depending on where it stands."""
    text, i = m.string, m.start()
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if before.isalnum() and (after.isalnum() or after in " .,;:!?"):
        return "’"
    if before.isspace() and after.isspace():
        return "–"
    if before.isspace() or before in "([":
        return "“"
    return "”"
