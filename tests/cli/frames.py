"""Frames and captures for the CLI tests (Ethernet, IPv4/IPv6, UDP). IPv4
goes without a UDP checksum (allowed); IPv6 must have one (RFC 8200: the
fast path drops a zero one)."""
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import packets  # noqa: E402


def frame_v4(payload, src=b"\xc0\x00\x02\x07", dst=b"\xc6\x33\x64\x0a", sport=5062):
    udp = struct.pack("!HHHH", sport, 5060, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst) + udp
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip


def frame_v6(payload, src=bytes.fromhex("20010db8000000000000000000000007"),
             dst=bytes.fromhex("20010db800000000000000000000000a")):
    udp = packets.udp6(src, dst, 5060, 5060, payload)
    ip = struct.pack("!IHBB", 0x60000000, len(udp), 17, 64) + src + dst + udp
    return b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd" + ip


def write_pcap(path, frames):
    packets.write_pcap(path, frames, step_us=1000000)
