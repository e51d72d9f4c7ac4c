#!/usr/bin/env python3
"""An impaired Ethernet wire between two interfaces, for kernels without the netem qdisc.

Every frame that arrives on one interface is sent out of the other. Frames going from --a to
--b are delayed by --delay-ms and a --loss fraction of them is dropped, as `tc qdisc ... netem
delay D loss L` on --a's far side would do; frames going the other way pass untouched. The
interfaces' peers must hand it whole frames: no larger than the MTU and with checksums filled
in (turn tx checksumming, TSO, GSO and GRO off on them with ethtool), since a packet socket
copies frames as they are. Exits when an interface goes away or after --max-seconds.
"""
import argparse
import collections
import random
import select
import socket
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--a', required=True)
    ap.add_argument('--b', required=True)
    ap.add_argument('--delay-ms', type=float, default=0.0)
    ap.add_argument('--loss', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--max-seconds', type=float, default=3600.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    delay = args.delay_ms / 1000.0
    socks = {}
    for name in (args.a, args.b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.bind((name, 0))
        s.setblocking(False)
        socks[name] = s
    sa, sb = socks[args.a], socks[args.b]
    # Frames waiting to leave, oldest first: (when, frame). The delay is fixed, so FIFO is in time order.
    to_b = collections.deque()
    to_a = collections.deque()
    stats = {'forwarded': 0, 'dropped': 0}
    end = time.monotonic() + args.max_seconds
    print(f'wire {args.a} -> {args.b}: delay {args.delay_ms} ms, loss {args.loss}', flush=True)
    while time.monotonic() < end:
        now = time.monotonic()
        due = [q[0][0] for q in (to_b, to_a) if q]
        timeout = max(0.0, min(due) - now) if due else 0.5
        try:
            readable, _, _ = select.select([sa, sb], [], [], timeout)
        except OSError:
            return 0
        now = time.monotonic()
        for s in readable:
            while True:
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError:
                    return 0
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own sends, seen again by the packet socket
                if s is sa:
                    if args.loss > 0 and rng.random() < args.loss:
                        stats['dropped'] += 1
                        continue
                    to_b.append((now + delay, frame))
                else:
                    to_a.append((now, frame))
        for q, out in ((to_b, sb), (to_a, sa)):
            while q and q[0][0] <= now:
                _, frame = q.popleft()
                try:
                    out.send(frame)
                    stats['forwarded'] += 1
                except BlockingIOError:
                    q.appendleft((now, frame))  # the device queue is full: try again on the next pass
                    break
                except OSError as err:
                    if err.errno == 90:  # EMSGSIZE: a frame over the MTU (offloads left on)
                        print(f'wire: dropped a {len(frame)}-byte frame over the MTU; turn TSO/GSO off', file=sys.stderr, flush=True)
                        continue
                    return 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
