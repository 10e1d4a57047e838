"""python3-grpcio (gRPC C core) client for test/python/keepalive.test.ts: keepalive PINGs against the
server's ping policy, and calls across connection-age rotations, on edge.test.TestService.
edge.test.Msg { string text = 1; int32 count = 2; bytes data = 3; } by hand (pbwire.py).

usage: keepalive_client.py PORT ping KEEPALIVE_MS ROUNDS QUIET_S
         ROUNDS times: one Unary call (it connects), then only keepalive PINGs until the channel
         leaves READY (the server's GOAWAY) or QUIET_S seconds pass (the loop ends); after ROUNDS
         GOAWAYs, one more call
       keepalive_client.py PORT rotate SECONDS THREADS
         THREADS loops of Unary + ServerStream(count 20) calls for SECONDS
prints one JSON object: {"ok": n, "failed": [...], "goaways": n}
"""
import json
import sys
import threading
import time

import grpc

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
from pbwire import f_bytes, f_varint, parse  # noqa: E402  (next to this script)


def encode(msg):
    out = b""
    if msg.get("text"):
        out += f_bytes(1, msg["text"].encode("utf-8"))
    if msg.get("count"):
        out += f_varint(2, msg["count"])
    return out


def decode(buf):
    texts = [v for v in parse(buf).get(1, []) if isinstance(v, bytes)]
    return {"text": texts[-1].decode("utf-8") if texts else ""}


def stubs(channel):
    unary = channel.unary_unary("/edge.test.TestService/Unary", request_serializer=encode, response_deserializer=decode)
    stream = channel.unary_stream("/edge.test.TestService/ServerStream", request_serializer=encode, response_deserializer=decode)
    return unary, stream


def ping_mode(port, keepalive_ms, rounds, quiet_s):
    options = [
        ("grpc.keepalive_time_ms", keepalive_ms),
        ("grpc.keepalive_timeout_ms", 20000),
        ("grpc.keepalive_permit_without_calls", 1),
        # C core's own limits on the pings it sends without data in between: off, so that only the
        # server's policy decides
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.http2.min_time_between_pings_ms", keepalive_ms),
    ]
    out = {"ok": 0, "failed": [], "goaways": 0}
    with grpc.insecure_channel("127.0.0.1:%s" % port, options=options) as channel:
        unary, _ = stubs(channel)
        state = {"s": None}
        changed = threading.Condition()

        def watch(s):
            with changed:
                state["s"] = s
                changed.notify_all()

        channel.subscribe(watch)
        for i in range(rounds):
            try:
                if unary({"text": "r%d" % i}, timeout=10)["text"] != "r%d" % i:
                    raise Exception("wrong reply")
                out["ok"] += 1
            except Exception as e:  # noqa: BLE001
                out["failed"].append(str(e))
                break
            with changed:
                # the callbacks come on another thread: READY may not be reported yet
                changed.wait_for(lambda: state["s"] == grpc.ChannelConnectivity.READY, timeout=10)
                left = changed.wait_for(lambda: state["s"] != grpc.ChannelConnectivity.READY, timeout=quiet_s)
            if not left:
                break
            out["goaways"] += 1
        else:
            # after the last GOAWAY: the channel reconnects for the next call
            try:
                if unary({"text": "last"}, timeout=10)["text"] != "last":
                    raise Exception("wrong reply")
                out["ok"] += 1
            except Exception as e:  # noqa: BLE001
                out["failed"].append(str(e))
        channel.unsubscribe(watch)
    return out


def rotate_mode(port, seconds, threads):
    out = {"ok": 0, "failed": [], "goaways": 0}
    lock = threading.Lock()
    end = time.time() + seconds
    with grpc.insecure_channel("127.0.0.1:%s" % port) as channel:
        unary, stream = stubs(channel)

        def loop(n):
            i = 0
            while time.time() < end:
                try:
                    text = "u%d.%d" % (n, i)
                    if unary({"text": text}, timeout=10)["text"] != text:
                        raise Exception("wrong unary reply")
                    got = [m["text"] for m in stream({"text": "s", "count": 20}, timeout=10)]
                    if got != ["s%d" % k for k in range(20)]:
                        raise Exception("wrong stream: %r" % got)
                    with lock:
                        out["ok"] += 1
                except Exception as e:  # noqa: BLE001
                    with lock:
                        out["failed"].append(str(e))
                i += 1

        ts = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return out


def main():
    port, mode = sys.argv[1], sys.argv[2]
    if mode == "ping":
        out = ping_mode(port, int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        out = rotate_mode(port, float(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
