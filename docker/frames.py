"""What the frame injectors (inject_frames.py, fuzz_frames.py) share."""
import struct


def checksum(data):
    """The Internet checksum (RFC 1071) of the bytes, as stored in a header."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
