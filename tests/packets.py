"""Frames built from scratch for the Python tests (dp, cli, netns): headers
packed field by field and every checksum computed here, independently of
the C code under test. Import with the tests/ directory on sys.path."""
import struct


def csum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp4(src, dst, sport, dport, payload):
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(payload))
    c = csum(pseudo + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), c) + payload


def udp6(src, dst, sport, dport, payload):
    pseudo = src + dst + struct.pack("!IxxxB", 8 + len(payload), 17)
    c = csum(pseudo + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), c) + payload


def ip4(src, dst, proto, body, ident=1, tos=0, flags=0, ihl=5, total=None):
    """IPv4 with a 20-byte header; ihl and total may lie (malformed frames)."""
    total = 20 + len(body) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, total, ident, flags, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + body


def ip6(src, dst, nh, body):
    return struct.pack("!IHBB", 0x60000000, len(body), nh, 64) + src + dst + body


def eth(dst, src, payload, ethertype=0x0800, vlan=None):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", ethertype) + payload


def write_pcap(path, frames, step_us=1000):
    """A pcap file (Ethernet), frames step_us apart from a fixed start."""
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        t = i * step_us
        data += struct.pack("<IIII", 1700000000 + t // 1000000, t % 1000000, len(f), len(f)) + f
    path.write_bytes(data)


def read_pcap(path):
    data, out, off = path.read_bytes(), [], 24
    while off < len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def tcp(src, dst, sport, dport, payload=b"", flags=0x18, seq=1000, ack=1):
    """A TCP segment (no options) with its checksum over either family's
    pseudo header; flags 0x02 is a SYN, 0x18 PSH+ACK."""
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(hdr) + len(payload), 6)
    c = csum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload
