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


# link types (pcap-linktype(7)) as written in a pcap file header
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

# the MACs common/link_frame.c synthesises for records without them
SYNTH_DST = bytes.fromhex("020000000000")
SYNTH_SRC = bytes.fromhex("020000000001")


def sll(ip_packet, ethertype=0x0800, addr=bytes.fromhex("525400123456"), pkttype=0):
    """A Linux cooked v1 record (tcpdump -i any, libpcap < 1.10): packet type,
    ARPHRD_ETHER, address length, address padded to 8, protocol."""
    return (struct.pack("!HHH", pkttype, 1, len(addr)) + addr.ljust(8, b"\0")[:8] +
            struct.pack("!H", ethertype) + ip_packet)


def sll2(ip_packet, ethertype=0x0800, addr=bytes.fromhex("525400123456"), pkttype=0, ifindex=3):
    """A Linux cooked v2 record (tcpdump -i any, libpcap >= 1.10): protocol,
    reserved, interface index, ARPHRD_ETHER, packet type, address length,
    address padded to 8."""
    return (struct.pack("!HHIHBB", ethertype, 0, ifindex, 1, pkttype, len(addr)) +
            addr.ljust(8, b"\0")[:8] + ip_packet)


def write_pcap(path, frames, step_us=1000, linktype=LINKTYPE_ETHERNET, snaplen=65535):
    """A pcap file, frames step_us apart from a fixed start. A frame is bytes
    (caplen = len = its length) or a tuple (bytes, wire length) for records
    whose caplen and len differ."""
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    for i, f in enumerate(frames):
        f, wire = f if isinstance(f, tuple) else (f, len(f))
        t = i * step_us
        data += struct.pack("<IIII", 1700000000 + t // 1000000, t % 1000000, len(f), wire) + f
    path.write_bytes(data)


def read_pcap_records(path):
    """(linktype, [(caplen, len, bytes), ...]) of a pcap file."""
    data, out, off = path.read_bytes(), [], 24
    linktype = struct.unpack("<I", data[20:24])[0]
    while off < len(data):
        _, _, caplen, wire = struct.unpack("<IIII", data[off:off + 16])
        out.append((caplen, wire, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return linktype, out


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
