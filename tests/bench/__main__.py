"""`make bench`: ccr against a fast scripted upstream, beside the direct path and two plain forwarders.

Setup (2 cores): the proxy under test pinned to core 0 (ccr; nginx forwarding the same bytes, the ceiling for
any proxy here; the plain-Python forwarder of tests/bench/pyforward.py, the ceiling for a Python one); the
upstream (nginx answering a fixed OpenAI JSON body or a fixed 50-chunk stream) and the load generator (wrk, 10
connections) pinned to core 1. Figures: requests per second, p50 / p99 latency at saturation and at half of
ccr's throughput, the proxy's CPU time per request, time to first byte added, resident memory; then, in
process on core 0, translation cost per upstream chunk, a routing decision on a 150k-token conversation and
the CLI's timings. Results go to bench-results/latest.json and latest.md.

    python -m tests.bench [--seconds 10] [--long 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import micro
from tests.bench.common import cpu_seconds, free_port, router_config, rss_mb, wait_port, wait_ready
from tests.bench.workloads import claude_code_request, openai_json, openai_stream, small_request

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench-results"
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = io.open("{body}", "rb"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "bench"
wrk.headers["x-claude-code-session-id"] = "bench-session"
{delay}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def need(tool: str, package: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        raise SystemExit(f"bench: {tool} is not installed; `make bench` installs it (apt-get install {package})")
    return path


class Nginx:
    def __init__(self, work: Path, name: str, core: int, body: str) -> None:
        self.dir = work / name
        (self.dir / "logs").mkdir(parents=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(f"""worker_processes 1; daemon off; pid {self.dir}/nginx.pid; error_log {self.dir}/logs/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {self.dir}; proxy_temp_path {self.dir};
  fastcgi_temp_path {self.dir}; uwsgi_temp_path {self.dir}; scgi_temp_path {self.dir};
  keepalive_requests 1000000; client_max_body_size 64m; client_body_buffer_size 1m;
{body}
}}""")
        self.proc = subprocess.Popen(["taskset", "-c", str(core), need("nginx", "nginx"), "-c", str(conf),
                                      "-p", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def upstream(work: Path, port: int) -> Nginx:
    """nginx answering POSTs with fixed files (its `error_page 405 =200` serves a static file to a POST)."""
    www = work / "www"
    for path, data in (("json", openai_json()), ("sse", openai_stream())):
        (www / path / "v1" / "chat").mkdir(parents=True)
        (www / path / "v1" / "chat" / "completions").write_bytes(data)
    return Nginx(work, "upstream", 1, f"""  server {{ listen 127.0.0.1:{port}; root {www};
    location = /json/v1/chat/completions {{ default_type application/json; error_page 405 =200 $uri; }}
    location = /sse/v1/chat/completions {{ default_type text/event-stream; error_page 405 =200 $uri; }}
  }}""")


def forwarder(work: Path, port: int, upstream_port: int) -> Nginx:
    return Nginx(work, "forwarder", 0, f"""  upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 32; }}
  server {{ listen 127.0.0.1:{port};
    location /json/ {{ proxy_pass http://up/json/v1/chat/completions; proxy_http_version 1.1;
                       proxy_set_header Connection ""; proxy_buffering off; }}
    location /sse/ {{ proxy_pass http://up/sse/v1/chat/completions; proxy_http_version 1.1;
                      proxy_set_header Connection ""; proxy_buffering off; }}
  }}""")


def wrk(url: str, body: Path, seconds: float, work: Path, rate: float | None = None) -> dict[str, Any]:
    """Closed-loop load from 10 connections; at about `rate` req/s when given (each connection waits between
    its requests), as fast as answers come otherwise."""
    script = work / f"wrk-{body.stem}.lua"
    # exponential pauses: the connections' requests arrive at random, as independent clients' do (equal pauses
    # would keep the 10 connections in step, each burst queueing behind itself)
    pause = f"delay = function() return -math.log(1 - math.random()) * {10_000 / rate:.3f} end" if rate else ""
    script.write_text(WRK_SCRIPT.format(body=body, delay=pause))
    done = subprocess.run(["taskset", "-c", "1", need("wrk", "wrk"), "-t1", "-c10", f"-d{max(1, round(seconds))}s", "-s", str(script),
                           url], capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"bench: wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    result: dict[str, Any] = json.loads(line[7:])
    if result["errors"]:  # a fast error is no measurement: say what was answered
        sample = subprocess.run(["curl", "-s", "-i", "-X", "POST", "-H", "content-type: application/json",
                                 "--data-binary", f"@{body}", url], capture_output=True, text=True).stdout[:600]
        raise SystemExit(f"bench: {result['errors']} of {result['requests']} requests to {url} failed, e.g.:\n{sample}")
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    return result


def ttfb_ms(port: int, path: str, body: bytes, n: int = 200) -> float:
    """Median time from the request's last byte to the answer's first byte, one request at a time."""
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nx-api-key: bench\r\n"
            f"x-claude-code-session-id: bench-session\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    times = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n):
            sock.sendall(head + body)
            started = time.perf_counter()
            data = sock.recv(65536)
            times.append(time.perf_counter() - started)
            _drain(sock, data)
    times.sort()
    return round(times[len(times) // 2] * 1000, 3)


def _drain(sock: socket.socket, data: bytes) -> None:
    """Read the rest of one HTTP response (Content-Length or chunked), so the connection is ready for the next."""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lower = head.lower()
    if b"content-length:" in lower:
        length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        while len(rest) < length:
            rest += sock.recv(65536)
        return
    while not rest.endswith(b"0\r\n\r\n"):
        rest += sock.recv(65536)


class PyForward:
    def __init__(self, upstream_url: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "tests.bench.pyforward",
                                      str(self.port), upstream_url], cwd=ROOT)
        wait_port(self.port)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


class Router:
    def __init__(self, work: Path, upstream_port: int, path: str, name: str) -> None:
        self.home = work / f"ccr-{name}"
        self.home.mkdir()
        config = self.home / "config.json"
        config.write_text(json.dumps(router_config(upstream_port, path)))
        self.port = free_port()
        env = {**os.environ, "CCR_HOME": str(self.home)}
        self.proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "router", "start", "--foreground",
                                      "--config", str(config), "--port", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        state = wait_ready(self.port)
        assert state == "ready", f"the router's classifier is {state}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


WORKLOADS = [
    ("small", "small request", lambda: small_request(), "json"),
    ("cc_json", "Claude Code request, JSON", lambda: claude_code_request(False), "json"),
    ("cc_stream", "Claude Code request, streamed (50 chunks)", lambda: claude_code_request(True), "sse"),
]


def measure(seconds: float, long_requests: int, work: Path) -> dict[str, Any]:
    up_port, fw_port = free_port(), free_port()
    up, fw = upstream(work, up_port), forwarder(work, fw_port, up_port)
    wait_port(up_port)
    wait_port(fw_port)
    results: dict[str, Any] = {"seconds": seconds, "cores": os.cpu_count(), "python": sys.version.split()[0],
                               "workloads": {}}
    try:
        for name, title, make, path in WORKLOADS:
            body = work / f"{name}.json"
            raw = json.dumps(make()).encode()
            body.write_bytes(raw)
            say(f"{title}: {len(raw) / 1024:.0f} KB")
            upstream_url = f"http://127.0.0.1:{up_port}/{path}/v1/chat/completions"
            direct = wrk(upstream_url, body, seconds, work)
            forward = wrk(f"http://127.0.0.1:{fw_port}/{path}/", body, seconds, work)
            python = PyForward(upstream_url)
            try:
                wrk(f"http://127.0.0.1:{python.port}/v1/messages", body, 1, work)  # warm-up
                pyforward = wrk(f"http://127.0.0.1:{python.port}/v1/messages", body, seconds, work)
            finally:
                python.stop()
            router = Router(work, up_port, path, name)
            try:
                rss_start = rss_mb(router.proc.pid)
                wrk(f"http://127.0.0.1:{router.port}/v1/messages", body, min(3.0, seconds), work)  # warm-up
                rss_warm = rss_mb(router.proc.pid)
                cpu_before = cpu_seconds(router.proc.pid)
                ccr = wrk(f"http://127.0.0.1:{router.port}/v1/messages", body, seconds, work)
                cpu_ms = (cpu_seconds(router.proc.pid) - cpu_before) * 1000 / max(ccr["requests"], 1)
                half = ccr["rps"] / 2  # latency under load, short of saturation (where it is queueing: c / rate)
                paced = wrk(f"http://127.0.0.1:{router.port}/v1/messages", body, seconds, work, rate=half)
                paced_direct = wrk(upstream_url, body, seconds, work, rate=half)
                ttfb_direct = ttfb_ms(up_port, f"/{path}/v1/chat/completions", raw)
                ttfb_router = ttfb_ms(router.port, "/v1/messages", raw)
                entry = {
                    "title": title, "bytes": len(raw), "direct": direct, "forward": forward,
                    "pyforward": pyforward, "ccr": ccr, "ccr_half_load": paced,
                    "ratio_ccr_forward": round(ccr["rps"] / forward["rps"], 3),
                    "ratio_ccr_pyforward": round(ccr["rps"] / pyforward["rps"], 3),
                    "p50_added_ms": round((ccr["p50_us"] - direct["p50_us"]) / 1000, 3),
                    "p50_added_half_load_ms": round((paced["p50_us"] - paced_direct["p50_us"]) / 1000, 3),
                    "cpu_ms_per_request": round(cpu_ms, 3), "ttfb_added_ms": round(ttfb_router - ttfb_direct, 3),
                    "rss_mb": {"start": rss_start, "warm": rss_warm},
                }
                if name == "cc_json" and long_requests:  # in quarters: a leak climbs, a cache levels off
                    quarter = max(2.0, long_requests / 4 / max(ccr["rps"], 1))
                    say(f"  {long_requests} more requests for the memory check (~{4 * quarter:.0f} s)")
                    done = 0
                    for _ in range(4):
                        done += wrk(f"http://127.0.0.1:{router.port}/v1/messages", body, quarter, work)["requests"]
                        entry["rss_mb"][f"after_{round(done, -3) // 1000}k"] = rss_mb(router.proc.pid)
                results["workloads"][name] = entry
                say(f"  direct {direct['rps']:.0f} req/s, nginx forwarding {forward['rps']:.0f}, Python forwarding "
                    f"{pyforward['rps']:.0f}, ccr {ccr['rps']:.0f} ({entry['ratio_ccr_pyforward']:.0%} of Python "
                    f"forwarding), p50 {ccr['p50_us'] / 1000:.1f} ms ({paced['p50_us'] / 1000:.2f} ms at "
                    f"{half:.0f} req/s), {cpu_ms:.2f} ms CPU/request, RSS {entry['rss_mb']}")
            finally:
                router.stop()
    finally:
        fw.stop()
        up.stop()
    return results


def markdown(results: dict[str, Any]) -> str:
    rows = ["| workload | direct req/s | nginx fwd req/s | Python fwd req/s | ccr req/s | ccr / nginx | "
            "ccr / Python | ccr p50 / p99 ms | p50 added ms (saturated; half load) | ccr CPU ms/req | "
            "TTFB added ms | RSS MB (start, warm, then every quarter of the long run) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in results["workloads"].values():
        c = w["ccr"]
        rss = ", ".join(str(v) for v in w["rss_mb"].values())
        rows.append(f"| {w['title']} | {w['direct']['rps']:.0f} | {w['forward']['rps']:.0f} | "
                    f"{w['pyforward']['rps']:.0f} | {c['rps']:.0f} | {w['ratio_ccr_forward']:.2f} | "
                    f"{w['ratio_ccr_pyforward']:.2f} | {c['p50_us'] / 1000:.2f} / {c['p99_us'] / 1000:.2f} | "
                    f"{w['p50_added_ms']:.2f}; {w['p50_added_half_load_ms']:.2f} | {w['cpu_ms_per_request']:.2f} | "
                    f"{w['ttfb_added_ms']:.2f} | {rss} |")
    if "translation" in results:
        rows += ["", "| translation, whole stream path | chunks | µs per upstream chunk |", "|---|---|---|"]
        rows += [f"| {name} | {t['chunks']} | {t['us_per_chunk']:.2f} |" for name, t in results["translation"].items()]
    if "decision_150k" in results:
        d = results["decision_150k"]
        rows += ["", f"Routing decision on a {d['tokens']:,}-token conversation ({d['messages']} messages, "
                     f"{d['bytes'] / 1e3:.0f} kB) whose only new content is a tool round: p50 "
                     f"{d['decision_ms_p50']:.3f} ms, max {d['decision_ms_max']:.3f} ms (full pipeline, classifier "
                     f"and policy on, a long-context rule counting tokens; estimate error at most "
                     f"{d['estimate_error_pct_max']:.3f}%). For scale: parsing that body {d['parse_ms_p50']:.3f} ms, "
                     f"translating it {d['translate_ms']:.3f} ms; a new human turn (the classifier embeds the "
                     f"prompt) {d['new_turn_ms']:.1f} ms; the router's first sight of the whole conversation "
                     f"{d['first_sight_ms']:.0f} ms."]
    if "classification" in results:
        c = results["classification"]
        rows += ["", f"One classification (embedding, features, heads; one thread): {c['short_ms']:.1f} ms of CPU "
                     f"for a short prompt, {c['256_tokens_ms']:.1f} ms at the 256-token cap."]
    if "guard" in results:
        rows += ["", f"The guard against web pages (Origin, Host, content type) on Claude Code's headers: "
                     f"{results['guard']['us_per_request']:.2f} µs per request."]
    if "cli_ms" in results:
        rows += ["", "CLI, wall time against a running router (median): " + ", ".join(
            f"`ccr {name}` {ms:.0f} ms" for name, ms in results["cli_ms"].items()) + "."]
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="ccr's benchmark (see README, Performance)")
    parser.add_argument("--seconds", type=float, default=10, help="measurement time per run (default 10)")
    parser.add_argument("--long", type=int, default=100_000, help="requests for the memory check (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ccr-bench-") as tmp:
        os.chmod(tmp, 0o755)  # nginx's workers run as another user and read the answers from here
        results = measure(args.seconds, args.long, Path(tmp))
        os.sched_setaffinity(0, {0})  # the in-process figures on the router's core
        os.environ["CCR_HOME"] = str(Path(tmp) / "ccr-micro")  # the default classifier, a throwaway data dir
        say("CPU per classification")
        results["classification"] = micro.classification_cpu()
        say("the guard's look at a request")
        results["guard"] = micro.guard_check()
        say("translation per upstream chunk")
        results["translation"] = micro.translation_per_chunk()
        say("routing decision on a 150k-token conversation")
        results["decision_150k"] = micro.decision_150k()
        say("CLI timings")
        results["cli_ms"] = micro.cli_times()
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT / "latest.md").write_text(markdown(results))
    print(markdown(results))
    say(f"written to {OUT / 'latest.json'} and {OUT / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
