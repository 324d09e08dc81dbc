"""Drive wrk against one page and read its numbers."""

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# Walks a file of "path cookie" lines, one line per request, each used once; when
# the file runs out it repeats the last line, which the callback refuses (counted
# as an error, never silently as a success).
WALK_SCRIPT = """
local lines = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
end
request = function()
  i = i + 1
  local entry = lines[math.min(i, #lines)]
  local path, cookie = entry:match("^(%S+) (%S+)$")
  return wrk.format("GET", path, {["Cookie"] = cookie, ["X-Forwarded-Proto"] = "https"})
end
"""

# Cycles through a file of paths, one request each, with an API key (the Sage proxy).
CYCLE_SCRIPT = """
local paths = {}
local key = ""
local i = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  key = args[2]
end
request = function()
  i = i + 1
  local path = paths[(i % #paths) + 1]
  local headers = {["Authorization"] = "Api-Key " .. key, ["X-Forwarded-Proto"] = "https"}
  return wrk.format("GET", path, headers)
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class LoadResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors
    # CPU ms per request by group of processes (bench/cpu.py); empty when not measured.
    cpu_ms: dict[str, float] = field(default_factory=dict)


def _group(pattern: str, text: str) -> str:
    """The first group of `pattern` in wrk's output; an error naming it when absent."""
    match = re.search(pattern, text)
    if match is None:
        raise ValueError(f"wrk's output has no {pattern!r}: {text[:200]!r}")
    return match.group(1)


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"not a wrk duration: {value!r}")
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def parse(output: str) -> LoadResult:
    """Read requests/s, p50, p99 and the error count from wrk --latency output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return LoadResult(
        requests=int(_group(r"(\d+) requests in", output)),
        rps=float(_group(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        errors=errors,
    )


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    cookie: str = "",
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
) -> LoadResult:
    """Run wrk once on loopback and return what it measured."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        "X-Forwarded-Proto: https",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    completed = subprocess.run(  # noqa: S603 - fixed command, loopback URL
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    return parse(completed.stdout)
