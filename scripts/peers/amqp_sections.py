"""Byte-level helpers for AMQP 1.0 message payloads (the bytes of a transfer), used by proton-broker.py.

The broker forwards messages exactly as received; it only touches the bytes to
- bump the header's delivery-count when a message is redelivered (released / modified / link lost),
- merge the message-annotations of a `modified` outcome,
- read properties.to for the anonymous relay (a sender link with a null target).
Every other byte (and every other section) is kept as it came. Standard library only.
"""

HEADER = 0x70
DELIVERY_ANNOTATIONS = 0x71
MESSAGE_ANNOTATIONS = 0x72
PROPERTIES = 0x73

_SECTION_NAMES = {
    b"amqp:header:list": 0x70,
    b"amqp:delivery-annotations:map": 0x71,
    b"amqp:message-annotations:map": 0x72,
    b"amqp:properties:list": 0x73,
    b"amqp:application-properties:map": 0x74,
    b"amqp:data:binary": 0x75,
    b"amqp:amqp-sequence:list": 0x76,
    b"amqp:amqp-value:*": 0x77,
    b"amqp:footer:map": 0x78,
}

_FIXED_WIDTH = {0x40: 0, 0x50: 1, 0x60: 2, 0x70: 4, 0x80: 8, 0x90: 16}
NULL = b"\x40"


class FormatError(ValueError):
    pass


def value_end(buf, pos):
    """Returns the offset just past the encoded AMQP value starting at pos."""
    if pos >= len(buf):
        raise FormatError("truncated value at %d" % pos)
    code = buf[pos]
    pos += 1
    if code == 0x00:
        return value_end(buf, value_end(buf, pos))
    family = code & 0xF0
    if family in _FIXED_WIDTH:
        end = pos + _FIXED_WIDTH[family]
    elif family in (0xA0, 0xC0, 0xE0):
        if pos >= len(buf):
            raise FormatError("truncated size at %d" % pos)
        end = pos + 1 + buf[pos]
    elif family in (0xB0, 0xD0, 0xF0):
        if pos + 4 > len(buf):
            raise FormatError("truncated size at %d" % pos)
        end = pos + 4 + int.from_bytes(buf[pos : pos + 4], "big")
    else:
        raise FormatError("bad constructor 0x%02x at %d" % (code, pos - 1))
    if end > len(buf):
        raise FormatError("value at %d overruns the payload" % (pos - 1))
    return end


def _descriptor_code(buf, pos):
    code = buf[pos]
    if code == 0x53:
        return buf[pos + 1]
    if code == 0x80:
        return int.from_bytes(buf[pos + 1 : pos + 9], "big")
    if code == 0x44:
        return 0
    if code in (0xA3, 0xB3):
        start = value_end(buf, pos)
        width = 1 if code == 0xA3 else 4
        return _SECTION_NAMES.get(bytes(buf[pos + 1 + width : start]), -1)
    return -1


def split_sections(buf):
    """Splits a payload into sections: a list of (code, start, value_start, end).

    code is the section's numeric descriptor (0x70..0x78, -1 if unknown); value_start is where the
    described value starts. Raises FormatError when the payload is not a sequence of described values.
    """
    sections = []
    pos = 0
    while pos < len(buf):
        if buf[pos] != 0x00:
            raise FormatError("section at %d is not a described value" % pos)
        code = _descriptor_code(buf, pos + 1)
        value_start = value_end(buf, pos + 1)
        end = value_end(buf, value_start)
        sections.append((code, pos, value_start, end))
        pos = end
    return sections


def compound_items(buf, pos):
    """The encoded items of the list or map at pos, as a list of bytes (a map yields keys and values)."""
    code = buf[pos]
    if code == 0x45:
        return []
    if code in (0xC0, 0xC1):
        count, first = buf[pos + 2], pos + 3
    elif code in (0xD0, 0xD1):
        count, first = int.from_bytes(buf[pos + 5 : pos + 9], "big"), pos + 9
    else:
        raise FormatError("expected a list or map at %d, got 0x%02x" % (pos, code))
    items = []
    item = first
    for _ in range(count):
        end = value_end(buf, item)
        items.append(bytes(buf[item:end]))
        item = end
    return items


def encode_compound(items, is_map=False):
    body = b"".join(items)
    if len(body) + 1 <= 0xFF and len(items) <= 0xFF:
        return bytes([0xC1 if is_map else 0xC0, len(body) + 1, len(items)]) + body
    return (
        bytes([0xD1 if is_map else 0xD0])
        + (len(body) + 4).to_bytes(4, "big")
        + len(items).to_bytes(4, "big")
        + body
    )


def encode_uint(n):
    if n == 0:
        return b"\x43"
    if n < 256:
        return bytes([0x52, n])
    return b"\x70" + (n & 0xFFFFFFFF).to_bytes(4, "big")


def decode_uint(item):
    code = item[0]
    if code == 0x52:
        return item[1]
    if code == 0x70:
        return int.from_bytes(item[1:5], "big")
    return 0  # null (0x40), uint0 (0x43), or a type we do not expect: count from zero


def _section(descriptor_code, value):
    return bytes([0x00, 0x53, descriptor_code]) + value


def increment_delivery_count(buf):
    """Returns the payload with header.delivery-count incremented (a header is added when absent)."""
    try:
        sections = split_sections(buf)
    except FormatError:
        sections = None
    if sections and sections[0][0] == HEADER:
        _, start, value_start, end = sections[0]
        fields = compound_items(buf, value_start)
        while len(fields) < 5:
            fields.append(NULL)
        fields[4] = encode_uint(decode_uint(fields[4]) + 1)
        header = bytes(buf[start:value_start]) + encode_compound(fields)
        return header + bytes(buf[end:])
    # No header (or an opaque payload): prepend one with delivery-count 1.
    return _section(HEADER, encode_compound([NULL, NULL, NULL, NULL, encode_uint(1)])) + bytes(buf)


def merge_message_annotations(buf, encoded_pairs):
    """Adds (or replaces, by encoded key) message annotations; encoded_pairs: list of (key, value) bytes."""
    if not encoded_pairs:
        return buf
    try:
        sections = split_sections(buf)
    except FormatError:
        return buf
    for code, start, value_start, end in sections:
        if code == MESSAGE_ANNOTATIONS:
            items = compound_items(buf, value_start)
            pairs = [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
            new_keys = {k for k, _ in encoded_pairs}
            pairs = [p for p in pairs if p[0] not in new_keys] + list(encoded_pairs)
            value = encode_compound([x for p in pairs for x in p], is_map=True)
            return bytes(buf[:start]) + bytes(buf[start:value_start]) + value + bytes(buf[end:])
    # Insert a message-annotations section after header / delivery-annotations.
    at = 0
    for code, _, _, end in sections:
        if code in (HEADER, DELIVERY_ANNOTATIONS):
            at = end
    value = encode_compound([x for p in encoded_pairs for x in p], is_map=True)
    return bytes(buf[:at]) + _section(MESSAGE_ANNOTATIONS, value) + bytes(buf[at:])


def properties_to(buf):
    """properties.to as a str, or None."""
    try:
        sections = split_sections(buf)
    except FormatError:
        return None
    for code, _, value_start, _ in sections:
        if code == PROPERTIES:
            fields = compound_items(buf, value_start)
            if len(fields) < 3:
                return None
            to = fields[2]
            if to[0] in (0xA1, 0xA3):
                return to[2:].decode("utf-8", "replace")
            if to[0] in (0xB1, 0xB3):
                return to[5:].decode("utf-8", "replace")
            return None
    return None
