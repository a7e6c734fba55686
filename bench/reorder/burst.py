#!/usr/bin/python3
"""bench/reorder/burst.py PCAP: one round of bench/reorder's bursts as a pcap
(the lab's caller 198.18.1.2:5060 to the VIP): 16 calls, each one's
INVITE (CSeq 1), ACK (CSeq 1, To tag) and BYE (CSeq 2, To tag) back to
back, in that order; the messages of bench/blast/mix.py, so that
bench-blast-send gives every round new Call-IDs. A node that receives a
call's messages in another order got them reordered by the balancer."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "blast"))
import mix  # noqa: E402

CALLS_PER_ROUND = 16
ORDER = ("INVITE", "ACK", "BYE")


def round_of_bursts():
    return [m for c in range(CALLS_PER_ROUND) for m in (mix.invite(c), mix.ack(c), mix.bye(c))]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[0])
    mix.packets.write_pcap(Path(sys.argv[1]), [mix.frame(m) for m in round_of_bursts()])
