#!/usr/bin/env python3
"""coroner lab: a real 3-node nats-server cluster on 127.0.0.1, ordinary load, one fault.

Writes what `coroner analyze OUT/capture` reads (see lab/README.md):

    OUT/capture/n1.log n2.log n3.log            nats-server log_file, logtime: true (UTC)
    OUT/capture/metrics/nN.<endpoint>.jsonl     one line per second per endpoint
    OUT/capture/metrics/nN.proc.csv, host.csv   /proc samples
    OUT/truth.json, OUT/verdict.json            what was done, when, to which node; the
                                                expected verdict (outside the capture)

Every process it starts is stopped by PID, every loop has a deadline, and only 127.0.0.1
is contacted. Run through `lab/run` (which picks the venv of `.ci/install-lab`).
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

NODES = ("n1", "n2", "n3")
# /jsz with the account details, as the 2.9.10 reference captures were fetched.
ENDPOINTS = {
    "varz": "/varz",
    "jsz": "/jsz?accounts=true",
    "healthz": "/healthz",
    "routez": "/routez",
    "raftz": "/raftz",
    "ipqueuesz": "/ipqueuesz?all=1&queues=API",
}
FAULTS = ("healthy", "node-freeze", "crash-restart", "store-full", "slow-consumer", "mqtt-storm")
# What a correct diagnosis accepts as the cause (the vocabulary of rules/*.rules and of
# the reference captures' verdict.json).
CAUSES = {
    "healthy": [],
    "node-freeze": ["node-unresponsive", "cpu-starvation"],
    "crash-restart": ["process-restart"],
    "store-full": ["storage-exhaustion", "config-error"],
    "slow-consumer": ["slow-consumer"],
    "mqtt-storm": ["mqtt-connection-storm", "jetstream-api-overload", "cpu-starvation"],
}
FAULT_KIND = {
    "healthy": None,
    "node-freeze": "process_freeze",
    "crash-restart": "process_crash",
    "store-full": "jetstream_storage_limit",
    "slow-consumer": "slow_consumer",
    "mqtt-storm": "cpu_starvation+mqtt_connection_storm",
}
HTTP_TIMEOUT = 2.0


def now_iso(t=None):
    t = time.time() if t is None else t
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log(msg):
    print(f"[lab {now_iso()}] {msg}", file=sys.stderr, flush=True)


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Truth:
    def __init__(self, path):
        self.path = path
        self.doc = {"timeline": []}
        self.lock = threading.Lock()

    def event(self, event, detail=""):
        with self.lock:
            self.doc["timeline"].append({"ts": now_iso(), "event": event, "detail": detail})
        log(f"{event} {detail}".rstrip())

    def write(self):
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.doc, f, indent=2)
                f.write("\n")
            os.replace(tmp, self.path)


# ---------------------------------------------------------------------------------------
# The cluster


class Node:
    def __init__(self, name, ports, work, out, binary):
        self.name = name
        self.client, self.cluster, self.http, self.mqtt = ports
        self.work = work
        self.out = out
        self.binary = binary
        self.conf = os.path.join(work, f"{name}.conf")
        self.proc = None
        self.lifetimes = []

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.client}"

    def write_conf(self, peers, max_file_store="1GB", tags=()):
        routes = ", ".join(f"nats-route://127.0.0.1:{p.cluster}" for p in peers if p is not self)
        tag_line = f"server_tags: [{', '.join(json.dumps(t) for t in tags)}]\n" if tags else ""
        # Paths relative to the node's working directory (the work dir), so that no path
        # of the machine running the lab ends up in the logs.
        conf = (
            f"server_name: {self.name}\n"
            f"listen: 127.0.0.1:{self.client}\n"
            f"http: 127.0.0.1:{self.http}\n"
            f"log_file: {json.dumps(os.path.abspath(os.path.join(self.out, self.name + '.log')))}\n"
            "logtime: true\n"
            f"{tag_line}"
            "jetstream {\n"
            f"  store_dir: {json.dumps(self.name + '-js')}\n"
            "  max_memory_store: 256MB\n"
            f"  max_file_store: {max_file_store}\n"
            "}\n"
            "cluster {\n"
            "  name: lab\n"
            f"  listen: 127.0.0.1:{self.cluster}\n"
            f"  routes: [{routes}]\n"
            "}\n"
            "mqtt {\n"
            f"  listen: 127.0.0.1:{self.mqtt}\n"
            "}\n"
        )
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self):
        env = dict(os.environ, TZ="UTC")
        err = open(os.path.join(self.work, f"{self.name}.stderr"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "-c", os.path.basename(self.conf)],
            cwd=self.work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )
        err.close()
        self.lifetimes.append(self.proc.pid)
        return self.proc.pid

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, timeout=15.0):
        """SIGTERM (graceful shutdown), then SIGKILL after `timeout`; by PID only."""
        if not self.alive():
            return
        try:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


def http_get(port, path, timeout=HTTP_TIMEOUT):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def meta_peers(nodes):
    """What each node's /jsz says of the meta group (for the error when placement fails)."""
    out = []
    for n in nodes:
        try:
            _, body = http_get(n.http, "/jsz", timeout=1)
            meta = json.loads(body).get("meta_cluster") or {}
            peers = ", ".join(f"{r.get('name')} current={r.get('current')} offline={r.get('offline')}"
                              for r in meta.get("replicas") or [])
            out.append(f"{n.name}: leader {meta.get('leader')}, size {meta.get('cluster_size')}, [{peers}]")
        except (OSError, ValueError, urllib.error.URLError) as e:
            out.append(f"{n.name}: /jsz failed ({e})")
    return "; ".join(out)


def wait_ready(nodes, deadline):
    """Until every node's /healthz says ok and sees its two routes, or the deadline."""
    while time.time() < deadline:
        ok = 0
        for n in nodes:
            try:
                st, _ = http_get(n.http, "/healthz", timeout=1)
                _, body = http_get(n.http, "/routez", timeout=1)
                peers = {r.get("remote_name") or r.get("remote_id") for r in json.loads(body).get("routes") or []}
                _, jsz = http_get(n.http, "/jsz", timeout=1)
                leader = (json.loads(jsz).get("meta_cluster") or {}).get("leader")
                if st == 200 and len(peers) >= len(nodes) - 1 and leader:
                    ok += 1
            except (OSError, ValueError, urllib.error.URLError):
                pass
        if ok == len(nodes):
            return True
        time.sleep(0.25)
    return False


# ---------------------------------------------------------------------------------------
# The monitoring poller: one thread per node and endpoint, one fetch per second.


class Poller:
    def __init__(self, nodes, out):
        self.nodes = nodes
        self.dir = os.path.join(out, "metrics")
        os.makedirs(self.dir, exist_ok=True)
        self.stop_evt = threading.Event()
        self.threads = []
        self.cgroups = {}

    def start(self):
        t0 = time.time()
        for n in self.nodes:
            for ep, path in ENDPOINTS.items():
                t = threading.Thread(target=self.fetch_loop, args=(n, ep, path, t0), daemon=True)
                self.threads.append(t)
            self.threads.append(threading.Thread(target=self.proc_loop, args=(n, t0), daemon=True))
        self.threads.append(threading.Thread(target=self.host_loop, args=(t0,), daemon=True))
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_evt.set()
        for t in self.threads:
            t.join(timeout=HTTP_TIMEOUT + 3)

    def ticks(self, t0):
        k = 0
        while not self.stop_evt.is_set():
            nxt = t0 + k
            delay = nxt - time.time()
            if delay > 0 and self.stop_evt.wait(delay):
                return
            if nxt < time.time() - 1:  # fell behind (a fetch waited for its timeout): skip
                k = int(time.time() - t0) + 1
                continue
            yield
            k += 1

    def fetch_loop(self, node, ep, path, t0):
        with open(os.path.join(self.dir, f"{node.name}.{ep}.jsonl"), "a") as f:
            for _ in self.ticks(t0):
                fetched = time.time()
                start = time.monotonic()
                rec = {"fetched_at": now_iso(fetched)}
                try:
                    try:
                        status, body = http_get(node.http, path)
                    except urllib.error.HTTPError as e:  # /healthz answers 503 with a body
                        status, body = e.code, e.read()
                    rec["elapsed_ms"] = round((time.monotonic() - start) * 1000, 1)
                    rec["http_status"] = status
                    try:
                        rec["body"] = json.loads(body)
                    except ValueError:
                        rec["body"] = body.decode("utf-8", "replace")
                except Exception as e:  # noqa: BLE001 - any failed fetch is a data point
                    rec["elapsed_ms"] = round((time.monotonic() - start) * 1000, 1)
                    rec["error"] = f"{type(e).__name__}: {e}"
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
                f.flush()

    def proc_loop(self, node, t0):
        hz = os.sysconf("SC_CLK_TCK")
        prev = {}
        with open(os.path.join(self.dir, f"{node.name}.proc.csv"), "a") as f:
            f.write("ts,node,pid,state,cpu_pct,rss_kb,threads,fds,vol_ctxt_sw,nonvol_ctxt_sw,"
                    "cg_quota_us,cg_nr_periods,cg_nr_throttled,cg_throttled_ms\n")
            for _ in self.ticks(t0):
                ts = now_iso()
                pid = node.pid
                row = [ts, node.name, str(pid or ""), "absent"] + [""] * 10
                try:
                    with open(f"/proc/{pid}/stat") as s:
                        st = s.read()
                    fields = st[st.rindex(")") + 2:].split()
                    state = fields[0]
                    if state == "Z":
                        raise FileNotFoundError
                    ticks_used = int(fields[11]) + int(fields[12])
                    now = time.monotonic()
                    cpu = ""
                    if pid in prev:
                        pt, pu = prev[pid]
                        cpu = f"{100.0 * (ticks_used - pu) / hz / max(now - pt, 1e-6):.1f}"
                    prev[pid] = (now, ticks_used)
                    status = {}
                    with open(f"/proc/{pid}/status") as s:
                        for line in s:
                            k, _, v = line.partition(":")
                            status[k] = v.split()[0] if v.split() else ""
                    fds = len(os.listdir(f"/proc/{pid}/fd"))
                    row = [ts, node.name, str(pid), state, cpu, status.get("VmRSS", ""),
                           status.get("Threads", ""), str(fds),
                           status.get("voluntary_ctxt_switches", ""),
                           status.get("nonvoluntary_ctxt_switches", "")]
                    row += self.cgroup_columns(node.name)
                except (OSError, ValueError, IndexError):
                    pass
                f.write(",".join(row) + "\n")
                f.flush()

    def cgroup_columns(self, name):
        cg = self.cgroups.get(name)
        if not cg:
            return [""] * 4
        try:
            return cg.columns()
        except OSError:
            return [""] * 4

    def host_loop(self, t0):
        prev = None
        with open(os.path.join(self.dir, "host.csv"), "a") as f:
            f.write("ts,load1,load5,host_cpu_busy_pct,mem_available_kb,procs_running\n")
            for _ in self.ticks(t0):
                try:
                    with open("/proc/loadavg") as s:
                        la = s.read().split()
                    with open("/proc/stat") as s:
                        stat = s.read().splitlines()
                    cpu = [int(x) for x in stat[0].split()[1:]]
                    idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)
                    busy = ""
                    if prev:
                        dt, di = sum(cpu) - prev[0], idle - prev[1]
                        busy = f"{100.0 * (dt - di) / dt:.1f}" if dt > 0 else ""
                    prev = (sum(cpu), idle)
                    running = next((ln.split()[1] for ln in stat if ln.startswith("procs_running")), "")
                    avail = ""
                    with open("/proc/meminfo") as s:
                        for line in s:
                            if line.startswith("MemAvailable:"):
                                avail = line.split()[1]
                    f.write(f"{now_iso()},{la[0]},{la[1]},{busy},{avail},{running}\n")
                    f.flush()
                except (OSError, ValueError, IndexError):
                    pass


# ---------------------------------------------------------------------------------------
# CPU limit (cgroup v2 cpu.max or v1 cpu.cfs_quota_us), where the machine allows it.


class CpuLimit:
    def __init__(self, pid, quota_us, period_us=100000):
        self.pid = pid
        self.quota = quota_us
        self.period = period_us
        self.path = None
        self.parent_procs = None
        self.v2 = False
        tag = f"coroner-lab-{os.getpid()}-{pid}"
        v2root = "/sys/fs/cgroup"
        v1root = "/sys/fs/cgroup/cpu"
        try:
            if os.path.exists(os.path.join(v2root, "cgroup.controllers")) and "cpu" in open(
                os.path.join(v2root, "cgroup.subtree_control")).read().split():
                self.path, self.v2 = os.path.join(v2root, tag), True
                os.mkdir(self.path)
                with open(os.path.join(self.path, "cpu.max"), "w") as f:
                    f.write(f"{quota_us} {period_us}")
                self.parent_procs = os.path.join(v2root, "cgroup.procs")
            elif os.path.isdir(v1root) and os.path.exists(os.path.join(v1root, "cpu.cfs_quota_us")):
                self.path = os.path.join(v1root, tag)
                os.mkdir(self.path)
                with open(os.path.join(self.path, "cpu.cfs_period_us"), "w") as f:
                    f.write(str(period_us))
                with open(os.path.join(self.path, "cpu.cfs_quota_us"), "w") as f:
                    f.write(str(quota_us))
                self.parent_procs = os.path.join(v1root, "cgroup.procs")
            else:
                raise OSError("no writable cpu cgroup controller")
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(pid))
        except OSError:
            self.release()
            raise

    def columns(self):
        stat = {}
        with open(os.path.join(self.path, "cpu.stat")) as f:
            for line in f:
                k, v = line.split()
                stat[k] = int(v)
        throttled_ms = stat.get("throttled_usec", stat.get("throttled_time", 0) // 1000) / 1000
        if "throttled_usec" in stat:
            throttled_ms = stat["throttled_usec"] / 1000
        else:
            throttled_ms = stat.get("throttled_time", 0) / 1e6
        return [str(self.quota), str(stat.get("nr_periods", "")), str(stat.get("nr_throttled", "")),
                f"{throttled_ms:.1f}"]

    def release(self):
        if not self.path:
            return
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                pids = f.read().split()
            for p in pids:
                try:
                    with open(self.parent_procs, "w") as f:
                        f.write(p)
                except OSError:
                    pass
            os.rmdir(self.path)
        except OSError:
            pass
        self.path = None


# ---------------------------------------------------------------------------------------
# Load: core pub/sub, a replicated stream with a pull consumer, MQTT sessions.


class Load:
    def __init__(self, nodes, stop_at):
        self.nodes = nodes
        self.stop_at = stop_at
        self.counts = {"core_pub": 0, "core_recv": 0, "js_pub": 0, "js_pub_err": 0,
                       "js_acked": 0, "mqtt_pub": 0, "mqtt_recv": 0}
        self.stop_evt = None

    def servers(self, first):
        """The node's URL first, then its peers (clients fail over as real ones do)."""
        rest = [n.url for n in self.nodes if n.url != first.url]
        return [first.url] + rest

    async def connect(self, node, name):
        import nats

        return await nats.connect(
            servers=self.servers(node), name=name, dont_randomize=True,
            max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2,
            allow_reconnect=True, error_cb=self.quiet, disconnected_cb=self.quiet_event,
            reconnected_cb=self.quiet_event)

    async def quiet(self, _e):
        pass

    @staticmethod
    async def close(nc):
        """Drain within 5 s, else close: a client never holds the run up."""
        try:
            await asyncio.wait_for(nc.drain(), 5)
        except Exception:  # noqa: BLE001 - timeout or connection already gone
            pass
        if not nc.is_closed:
            await nc.close()

    async def quiet_event(self):
        pass

    async def setup_streams(self, store_full_node=None):
        nc = await self.connect(self.nodes[1], "lab-admin")
        js = nc.jetstream(timeout=5)
        from nats.js.api import StreamConfig, ConsumerConfig, AckPolicy, Placement, StorageType

        deadline = time.time() + 45
        while True:
            try:
                await js.add_stream(StreamConfig(name="ORDERS", subjects=["orders.>"], num_replicas=3,
                                                 storage=StorageType.FILE))
                await js.add_consumer("ORDERS", ConsumerConfig(durable_name="processor",
                                                               ack_policy=AckPolicy.EXPLICIT))
                if store_full_node:
                    await js.add_stream(StreamConfig(
                        name="AUDIT", subjects=["audit.>"], num_replicas=1, storage=StorageType.FILE,
                        placement=Placement(tags=[f"node:{store_full_node}"])))
                break
            except Exception as e:  # noqa: BLE001 - meta leader not elected yet
                if time.time() > deadline:
                    raise RuntimeError(f"creating the streams failed: {e}; {meta_peers(self.nodes)}") from e
                await asyncio.sleep(0.5)
        info = await js.stream_info("ORDERS")
        await nc.close()
        return info.cluster.leader if info.cluster else None

    async def run(self):
        self.stop_evt = asyncio.Event()
        tasks = [
            asyncio.create_task(self.core_pub(self.nodes[0])),
            asyncio.create_task(self.core_sub(self.nodes[2])),
            asyncio.create_task(self.js_pub(self.nodes[0])),
            asyncio.create_task(self.js_consume(self.nodes[1])),
        ]
        mqtt = MqttSessions(self.nodes, self.counts)
        mqtt.start()
        try:
            while time.time() < self.stop_at and not self.stop_evt.is_set():
                await asyncio.sleep(0.2)
        finally:
            self.stop_evt.set()
            await asyncio.wait(tasks, timeout=10)
            for t in tasks:
                t.cancel()
            mqtt.stop()

    async def core_pub(self, node):
        nc = await self.connect(node, "pub-core")
        i = 0
        while not self.stop_evt.is_set():
            try:
                await nc.publish(f"lab.core.{i % 10}", b"x" * 128)
                self.counts["core_pub"] += 1
            except Exception:  # noqa: BLE001 - reconnecting
                pass
            i += 1
            await asyncio.sleep(0.01)
        await self.close(nc)

    async def core_sub(self, node):
        nc = await self.connect(node, "sub-core")

        async def cb(_msg):
            self.counts["core_recv"] += 1

        await nc.subscribe("lab.core.>", queue="core-workers", cb=cb)
        await self.stop_evt.wait()
        await self.close(nc)

    async def js_pub(self, node):
        nc = await self.connect(node, "pub-orders")
        js = nc.jetstream(timeout=2)
        i = 0
        while not self.stop_evt.is_set():
            try:
                await js.publish(f"orders.{i % 5}", b'{"order":%d}' % i)
                self.counts["js_pub"] += 1
            except Exception:  # noqa: BLE001 - no leader / timeout during a fault
                self.counts["js_pub_err"] += 1
            i += 1
            await asyncio.sleep(0.02)
        await self.close(nc)

    async def js_consume(self, node):
        nc = await self.connect(node, "processor-worker")
        js = nc.jetstream(timeout=5)
        sub = None
        while not self.stop_evt.is_set():
            try:
                if sub is None:
                    sub = await js.pull_subscribe_bind("processor", "ORDERS")
                msgs = await sub.fetch(50, timeout=1)
                for m in msgs:
                    await m.ack()
                    self.counts["js_acked"] += 1
            except Exception:  # noqa: BLE001 - fetch timeout (idle) or fault
                await asyncio.sleep(0.1)
        await self.close(nc)


class MqttSessions:
    """A few persistent MQTT sessions per node (paho, QoS 1), each publishing once a second."""

    def __init__(self, nodes, counts, per_node=2):
        self.nodes = nodes
        self.counts = counts
        self.per_node = per_node
        self.clients = []
        self.stop_evt = threading.Event()
        self.thread = None

    def start(self):
        import paho.mqtt.client as mqtt

        for n in self.nodes:
            for i in range(self.per_node):
                c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"lab-{n.name}-{i}",
                                clean_session=False)
                c.reconnect_delay_set(1, 4)

                def on_connect(client, _u, _f, rc, _p=None):
                    if not rc.is_failure:
                        client.subscribe("lab/mqtt/#", qos=1)

                def on_message(_c, _u, _m):
                    self.counts["mqtt_recv"] += 1

                c.on_connect = on_connect
                c.on_message = on_message
                c.connect_async("127.0.0.1", n.mqtt, keepalive=10)
                c.loop_start()
                self.clients.append(c)
        self.thread = threading.Thread(target=self.publish_loop, daemon=True)
        self.thread.start()

    def publish_loop(self):
        while not self.stop_evt.wait(1.0):
            for i, c in enumerate(self.clients):
                if c.is_connected():
                    c.publish(f"lab/mqtt/{i}", b"telemetry", qos=1)
                    self.counts["mqtt_pub"] += 1

    def stop(self):
        self.stop_evt.set()
        if self.thread:
            self.thread.join(timeout=3)
        for c in self.clients:
            try:
                c.disconnect()
            except Exception:  # noqa: BLE001
                pass
        for c in self.clients:
            c.loop_stop()


def mqtt_warm_up(nodes, deadline):
    """One persistent MQTT session with a QoS 1 subscription per node, then /healthz ok
    everywhere: the first MQTT connect creates the account's $MQTT_ streams, and while
    their RAFT groups form, session loads wait for JetStream and time out after 4 s (the
    read loop stalls meanwhile). That start-up transient is not the fault under test, so
    the load starts once the MQTT streams are current."""
    import paho.mqtt.client as mqtt

    for n in nodes:
        while True:
            subscribed = threading.Event()
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"lab-warm-{n.name}",
                            clean_session=False)
            c.on_connect = lambda client, _u, _f, rc, _p=None: (
                None if rc.is_failure else client.subscribe("lab/warm/#", qos=1))
            c.on_subscribe = lambda *_a: subscribed.set()
            try:
                c.connect("127.0.0.1", n.mqtt, keepalive=10)
                c.loop_start()
                ok = subscribed.wait(timeout=max(0.1, min(10.0, deadline - time.time())))
            except OSError:
                ok = False
            finally:
                c.loop_stop()
                try:
                    c.disconnect()
                except Exception:  # noqa: BLE001
                    pass
            if ok:
                break
            if time.time() > deadline:
                raise RuntimeError(f"MQTT warm-up on {n.name} got no SUBACK; {meta_peers(nodes)}")
            time.sleep(0.5)
    if not wait_ready(nodes, deadline):
        raise RuntimeError(f"the MQTT streams did not become current (/healthz) after the warm-up; {meta_peers(nodes)}")


# ---------------------------------------------------------------------------------------
# Faults


async def backfill(node, seconds, rate=1000, size=8192):
    """1000 msg/s x 8 KiB into the AUDIT stream on the node with the tiny store (fills
    its 32 MB in a few seconds)."""
    import nats

    nc = await nats.connect(node.url, name="backfill", max_reconnect_attempts=3, connect_timeout=2)
    js = nc.jetstream(timeout=2)
    payload = os.urandom(size)
    end = time.time() + seconds
    ok = err = 0
    while time.time() < end:
        t = time.time()
        futs = [js.publish(f"audit.{i % 20}", payload) for i in range(rate // 10)]
        for r in await asyncio.gather(*futs, return_exceptions=True):
            if isinstance(r, Exception):
                err += 1
            else:
                ok += 1
        await asyncio.sleep(max(0, 0.1 - (time.time() - t)))
    await nc.close()
    return ok, err


def hung_subscriber(node, seconds, truth):
    """A raw NATS client on `node` that subscribes and then never reads its socket, while a
    flood publisher on another node fills it: the server's slow-consumer handling."""
    end = time.time() + seconds
    episode = 0
    while time.time() < end - 1:
        episode += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", node.client))
            s.recv(4096)  # INFO
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"name":"analytics-writer"}\r\n'
                      b"SUB metrics.raw 1\r\nPING\r\n")
            truth.event("hung_subscriber", f"episode {episode}: analytics-writer on {node.name} stops reading")
            time.sleep(max(0.0, min(12.0, end - time.time())))
        except OSError:
            time.sleep(0.5)
        finally:
            s.close()


async def flood(node, seconds, size=1024):
    import nats

    nc = await nats.connect(node.url, name="telemetry-ingest", max_reconnect_attempts=3,
                            connect_timeout=2, pending_size=64 * 1024 * 1024)
    payload = b"m" * size
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        for _ in range(200):
            await nc.publish("metrics.raw", payload)
        n += 200
        await nc.flush(timeout=5)
        await asyncio.sleep(0.005)
    await nc.close()
    return n


def mqtt_packet(kind, body):
    n = len(body)
    rem = bytearray()
    while True:
        b = n % 128
        n //= 128
        rem.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes([kind]) + bytes(rem) + body


def mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


async def storm_client(port, i, hold_until, stats):
    """One persistent MQTT session (clean_session=0, one QoS 1 subscription), held open."""
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    except (OSError, asyncio.TimeoutError):
        stats["connect_failed"] += 1
        return
    try:
        cid = f"storm-{i}"
        connect = mqtt_str("MQTT") + bytes([4, 0x00]) + struct.pack("!H", 60) + mqtt_str(cid)
        w.write(mqtt_packet(0x10, connect))
        await w.drain()
        ack = await asyncio.wait_for(r.readexactly(4), max(1.0, hold_until - time.time()))
        if ack[0] != 0x20 or ack[3] != 0:
            stats["refused"] += 1
            return
        w.write(mqtt_packet(0x82, struct.pack("!H", 1) + mqtt_str(f"storm/{i}/cmd") + bytes([1])))
        await w.drain()
        stats["connected"] += 1
        while time.time() < hold_until:
            # keepalive well inside 60 s; read whatever the server sends
            try:
                await asyncio.wait_for(r.read(4096), min(20.0, max(0.1, hold_until - time.time())))
            except asyncio.TimeoutError:
                w.write(b"\xc0\x00")  # PINGREQ
                await w.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        stats["dropped"] += 1
    finally:
        w.close()


async def mqtt_storm(node, clients, seconds):
    hold_until = time.time() + seconds
    stats = {"connected": 0, "connect_failed": 0, "refused": 0, "dropped": 0}
    tasks = []
    for i in range(clients):
        tasks.append(asyncio.create_task(storm_client(node.mqtt, i, hold_until, stats)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait(tasks, timeout=seconds + 15)
    for t in tasks:
        t.cancel()
    return stats


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the nats-server binary")
    ap.add_argument("--fault", choices=FAULTS, default="healthy")
    ap.add_argument("--node", choices=NODES, default=None, help="the node to fault (default: per fault)")
    ap.add_argument("--out", required=True, help="output directory (created; must be empty)")
    ap.add_argument("--load", type=float, default=60, help="seconds of load (default 60)")
    ap.add_argument("--fault-at", type=float, default=None, help="seconds into the load (default load/3)")
    ap.add_argument("--fault-for", type=float, default=None, help="fault length in seconds (default load/3)")
    ap.add_argument("--mqtt-clients", type=int, default=1500, help="mqtt-storm sessions (default 1500)")
    ap.add_argument("--cpu-quota", type=float, default=0.2, help="mqtt-storm CPU limit in cores (default 0.2)")
    ap.add_argument("--keep-work", action="store_true", help="keep the servers' work dir (configs, stores)")
    args = ap.parse_args()

    node_default = {"node-freeze": "n3", "crash-restart": "n1", "store-full": "n2",
                    "slow-consumer": "n3", "mqtt-storm": "n2"}
    target = None if args.fault == "healthy" else (args.node or node_default[args.fault])
    fault_at = args.fault_at if args.fault_at is not None else args.load / 3
    fault_for = args.fault_for if args.fault_for is not None else args.load / 3
    out = os.path.abspath(args.out)
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"lab: {out} is not empty")
    capture = os.path.join(out, "capture")
    os.makedirs(capture, exist_ok=True)
    binary = os.path.abspath(args.server)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()

    work = tempfile.mkdtemp(prefix="coroner-lab-")
    truth = Truth(os.path.join(out, "truth.json"))
    ports = free_ports(4 * len(NODES))
    nodes = [Node(name, ports[4 * i:4 * i + 4], work, capture, binary) for i, name in enumerate(NODES)]
    truth.doc.update({
        "scenario": args.fault,
        "failing_node": target,
        "fault_kind": FAULT_KIND[args.fault],
        "fault_injected_at": None,
        "nats_server_version": version,
        "load_seconds": args.load,
        "ports": {n.name: {"client": n.client, "cluster": n.cluster, "http": n.http, "mqtt": n.mqtt}
                  for n in nodes},
    })
    with open(os.path.join(out, "verdict.json"), "w") as f:
        json.dump({"failing_node": target, "causes": CAUSES[args.fault], **({"quiet": True} if not target else {})},
                  f, indent=1)
        f.write("\n")

    for n in nodes:
        tiny = args.fault == "store-full" and n.name == target
        n.write_conf(nodes, max_file_store="32MB" if tiny else "1GB", tags=[f"node:{n.name}"])
    poller = Poller(nodes, capture)
    cpu_limit = None
    stopping = {"sig": None}

    def on_signal(sig, _frame):
        stopping["sig"] = sig
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # A cluster that does not form (no meta leader, no placement) on a busy machine is
        # started again from scratch, up to twice: the capture then holds the last attempt
        # only. (2.10.26 here once refused an R3 placement for 30 s, twice in a row.)
        attempts = 3
        for attempt in range(1, attempts + 1):
            truth.event("cluster_start", f"{version}; max_file_store 32MB on {target}"
                        if args.fault == "store-full" else version)
            for n in nodes:
                n.start()
            truth.doc["pids"] = {n.name: n.pid for n in nodes}
            poller.start()
            load = Load(nodes, 0)
            try:
                if not wait_ready(nodes, time.time() + 45):
                    raise RuntimeError("the cluster did not become ready (routes, meta leader, /healthz) in 45 s")
                truth.event("cluster_ready")
                leader = asyncio.run(load.setup_streams(target if args.fault == "store-full" else None))
                mqtt_warm_up(nodes, time.time() + 45)
                break
            except RuntimeError as e:
                if attempt == attempts:
                    raise
                truth.event("cluster_retry", f"attempt {attempt} failed: {e}; starting again from scratch")
                poller.stop()
                for n in nodes:
                    n.stop()
                    n.lifetimes.clear()
                    shutil.rmtree(os.path.join(work, f"{n.name}-js"), ignore_errors=True)
                shutil.rmtree(capture, ignore_errors=True)
                os.makedirs(capture)
                poller = Poller(nodes, capture)
        truth.event("streams_ready", f"ORDERS R3 leader on {leader}, consumer processor, MQTT streams current"
                    + (f"; AUDIT R1 on {target}" if args.fault == "store-full" else ""))
        t_load = time.time()
        load.stop_at = t_load + args.load
        truth.event("load_start", "pub-core@n1 100 msg/s, sub-core@n3, pub-orders@n1 50 msg/s JetStream, "
                    "processor-worker@n2, 6 MQTT sessions (2 per node)")

        async def scenario():
            load_task = asyncio.create_task(load.run())
            fault_task = None
            if target:
                await asyncio.sleep(max(0, t_load + fault_at - time.time()))
                fault_task = asyncio.create_task(inject())
            await load_task
            if fault_task:
                await asyncio.wait_for(fault_task, timeout=max(5, fault_for + 30))

        async def inject():
            nonlocal cpu_limit
            node = next(n for n in nodes if n.name == target)
            truth.doc["fault_injected_at"] = now_iso()
            if args.fault == "node-freeze":
                node.signal(signal.SIGSTOP)
                truth.event("fault_injected", f"SIGSTOP {node.name} pid {node.pid}")
                try:
                    await asyncio.sleep(fault_for)
                finally:
                    node.signal(signal.SIGCONT)
                truth.event("fault_cleared", f"SIGCONT {node.name}")
            elif args.fault == "crash-restart":
                old = node.pid
                node.signal(signal.SIGKILL)
                node.proc.wait(timeout=10)
                truth.event("fault_injected", f"SIGKILL {node.name} pid {old}")
                await asyncio.sleep(fault_for)
                node.start()
                truth.event("node_restarted", f"{node.name} restarted with same config and store, pid {node.pid}")
            elif args.fault == "store-full":
                truth.event("fault_injected", f"backfill 1000 msg/s x 8 KiB to audit.> (AUDIT R1 on {node.name}, "
                            "whose max_file_store is 32MB)")
                ok, err = await backfill(node, fault_for)
                truth.event("fault_cleared", f"backfill finished: {ok} stored, {err} failed")
            elif args.fault == "slow-consumer":
                other = next(n for n in nodes if n is not node)
                truth.event("fault_injected", f"telemetry-ingest floods metrics.raw via {other.name}; "
                            f"analytics-writer on {node.name} stops reading its socket")
                hung = asyncio.get_running_loop().run_in_executor(None, hung_subscriber, node, fault_for, truth)
                await asyncio.sleep(0.5)
                n = await flood(other, fault_for - 0.5)
                await hung
                truth.event("fault_cleared", f"flood of {n} messages finished")
            elif args.fault == "mqtt-storm":
                quota = int(args.cpu_quota * 100000)
                try:
                    cpu_limit = CpuLimit(node.pid, quota)
                    poller.cgroups[node.name] = cpu_limit
                    limit = f"CPU quota {quota}/100000 us on {node.name}"
                except OSError as e:
                    limit = f"no CPU limit ({e})"
                truth.doc["cpu_limit"] = limit
                truth.event("fault_injected", f"{limit}; MQTT storm of {args.mqtt_clients} clean_session=0 "
                            f"sessions x1 QoS1 sub -> {node.name}")
                stats = await mqtt_storm(node, args.mqtt_clients, fault_for)
                truth.event("fault_cleared", f"storm finished {json.dumps(stats)}")
                if cpu_limit:
                    poller.cgroups.pop(node.name, None)
                    cpu_limit.release()
                    cpu_limit = None
                    truth.event("cpu_limit_removed", node.name)

        asyncio.run(scenario())
        truth.doc["load_counts"] = load.counts
        truth.event("load_stop", json.dumps(load.counts))
    except KeyboardInterrupt:
        truth.event("interrupted", f"signal {stopping['sig']}")
    finally:
        if cpu_limit:
            cpu_limit.release()
        # Fetch one more second, then stop polling before the graceful shutdown (a poller
        # outliving the servers would record every node as unreachable).
        time.sleep(1)
        poller.stop()
        truth.event("run_end", "stopping cluster (SIGTERM, graceful)")
        for n in nodes:
            n.signal(signal.SIGTERM)
        for n in nodes:
            n.stop()
        truth.event("cluster_stopped")
        truth.write()
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work dir kept: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
