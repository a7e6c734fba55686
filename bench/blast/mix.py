#!/usr/bin/python3
"""bench/blast/mix.py PCAP: one round of bench/blast's SIP mix as a pcap
(UDP/IPv4, the lab's caller 198.18.1.2:5060 to the VIP 198.18.0.10:5060),
what a carrier's ingress sees from a peer (docs/bench-blast.md):

  4 inbound calls   INVITE with SDP (~900 bytes of SIP), its ACK, its BYE
  3 answers         200 OK with SDP to an INVITE a core node (b1, b2, b3) sent
                    out: top Via the VIP with ;nid=bN, second Via the node
  1 OPTIONS         a keep-alive to a core user (not to the balancer itself)

16 messages, interleaved as on a busy trunk. Every run of 16 "@" is where
bench-blast-send writes the round number in hex, so that each round's
Call-IDs, branches and tags are new. `siphonctl explain --config
/run/siphon-lab/lab.conf --pcap PCAP` shows where each one goes."""
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
import packets  # noqa: E402

MARK = "@" * 16
CALLER, VIP = "198.18.1.2", "198.18.0.10"
MAC_CALLER, MAC_LB = bytes.fromhex("020000180102"), bytes.fromhex("020000180001")
NODES = {"b1": "198.18.2.21", "b2": "198.18.2.22", "b3": "198.18.2.23"}


def sdp(host):
    return ("v=0\r\n"
            f"o=- 3724394400 3724394400 IN IP4 {host}\r\n"
            "s=-\r\n"
            f"c=IN IP4 {host}\r\n"
            "t=0 0\r\n"
            "m=audio 49170 RTP/AVP 0 8 9 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:9 G722/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n")


def sip(head, body=""):
    return (head + f"Content-Length: {len(body)}\r\n\r\n" + body).encode()


def call_headers(call, method, cseq, to_tag=""):
    return (f"Via: SIP/2.0/UDP {CALLER}:5060;rport;branch=z9hG4bK{MARK}{method[0].lower()}{call}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: \"Blast Caller\" <sip:+1312555012{call}@{CALLER};user=phone>;tag={MARK}f{call}\r\n"
            f"To: <sip:+12025550100@{VIP};user=phone>{to_tag}\r\n"
            f"Call-ID: {MARK}-c{call}@{CALLER}\r\n"
            f"CSeq: {cseq} {method}\r\n")


def invite(call):
    return sip(f"INVITE sip:+12025550100@{VIP}:5060;user=phone SIP/2.0\r\n" +
               call_headers(call, "INVITE", 1) +
               f"Contact: <sip:+1312555012{call}@{CALLER}:5060;transport=udp>\r\n"
               "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY\r\n"
               "Supported: 100rel, timer, replaces\r\n"
               "Session-Expires: 1800;refresher=uac\r\n"
               "P-Asserted-Identity: <sip:+13125550123@carrier.example;user=phone>\r\n"
               "User-Agent: siphon-blast/1\r\n"
               "Content-Type: application/sdp\r\n", sdp(CALLER))


def ack(call):
    return sip(f"ACK sip:+12025550100@{VIP}:5060;user=phone SIP/2.0\r\n" +
               call_headers(call, "ACK", 1, ";tag=core-as7f3"))


def bye(call):
    return sip(f"BYE sip:+12025550100@{VIP}:5060;user=phone SIP/2.0\r\n" +
               call_headers(call, "BYE", 2, ";tag=core-as7f3") +
               "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n"
               "User-Agent: siphon-blast/1\r\n")


def answer(node):
    """the peer's 200 OK to an INVITE node sent out through the VIP (DSR)"""
    return sip("SIP/2.0 200 OK\r\n"
               f"Via: SIP/2.0/UDP {VIP}:5060;branch=z9hG4bK{MARK}v{node};nid={node}\r\n"
               f"Via: SIP/2.0/UDP {NODES[node]}:5060;branch=z9hG4bK{MARK}n{node}\r\n"
               f"From: <sip:+12025550100@{VIP};user=phone>;tag={MARK}o{node}\r\n"
               f"To: <sip:+13125550199@{CALLER};user=phone>;tag=peer-{node}\r\n"
               f"Call-ID: {MARK}-o{node}@{NODES[node]}\r\n"
               "CSeq: 1 INVITE\r\n"
               f"Contact: <sip:+13125550199@{CALLER}:5060;transport=udp>\r\n"
               "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n"
               "Supported: timer\r\n"
               "Content-Type: application/sdp\r\n", sdp(CALLER))


def options():
    return sip("OPTIONS sip:keepalive@core.siphon.test SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {CALLER}:5060;rport;branch=z9hG4bK{MARK}k\r\n"
               "Max-Forwards: 70\r\n"
               f"From: <sip:monitor@{CALLER}>;tag={MARK}k\r\n"
               "To: <sip:keepalive@core.siphon.test>\r\n"
               f"Call-ID: {MARK}-k@{CALLER}\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Accept: application/sdp\r\n"
               "User-Agent: siphon-blast/1\r\n")


def round_of_mix():
    return [invite(0), invite(1), ack(0), answer("b1"),
            invite(2), ack(1), bye(0), answer("b2"),
            invite(3), ack(2), bye(1), options(),
            ack(3), bye(2), answer("b3"), bye(3)]


def frame(payload):
    src, dst = socket.inet_aton(CALLER), socket.inet_aton(VIP)
    return packets.eth(MAC_LB, MAC_CALLER,
                       packets.ip4(src, dst, 17, packets.udp4(src, dst, 5060, 5060, payload), flags=0x4000))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--rounds"):
        sys.exit(__doc__.split("\n\n")[0] + "\n" + __doc__.split("\n\n")[-1])
    msgs = round_of_mix()
    if len(sys.argv) == 4:
        filled = [m.replace(MARK.encode(), b"%016x" % r) for r in range(int(sys.argv[3])) for m in msgs]
        packets.write_pcap(Path(sys.argv[1]), [frame(m) for m in filled])
    else:
        packets.write_pcap(Path(sys.argv[1]), [frame(m) for m in msgs])
    sizes = ", ".join(f"{m.split(b' ', 1)[0].decode()} {len(m)}" for m in msgs[:4])
    print(f"{len(msgs)} messages, {sum(map(len, msgs)) // len(msgs)} bytes of SIP on average ({sizes}, ...)",
          file=sys.stderr)
