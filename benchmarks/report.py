"""Turn a results dict into target verdicts, a markdown report and a PNG chart.

``python benchmarks/report.py benchmarks/results/<date>.json`` re-renders the ``.md`` and
``.png`` of a stored run (matplotlib is optional: without it the chart is skipped).

>>> ratio(10.0, 4.0)
2.5
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["evaluate_targets", "ratio", "render_markdown", "render_png"]

HEADLINE_N = 10_000
"""Stream length at which contenders are compared (the official helper is capped here)."""


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing or ``b`` is zero."""
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def _per_event(data: dict[str, Any], api: str, name: str, n: int) -> float | None:
    """Median µs per event of ``name`` at ``n`` events (None: not measured)."""
    for row in data.get("throughput", []):
        if row["api"] == api and row["contender"] == name and row["events"] == n:
            return float(row["us_per_event"])
    return None


def _headline_n(data: dict[str, Any]) -> int:
    sizes = sorted({row["events"] for row in data.get("throughput", [])})
    return HEADLINE_N if HEADLINE_N in sizes else (sizes[-1] if sizes else 0)


def _target(name: str, goal: str, value: float | None, met: bool | None,
            detail: str = "") -> dict[str, Any]:
    """One verdict row; ``met`` None means "not measured" (n/a)."""
    verdict = "n/a" if met is None else ("met" if met else "MISSED")
    return {"target": name, "goal": goal, "value": value, "verdict": verdict, "detail": detail}


def _common_n(data: dict[str, Any], api: str, a: str, b: str) -> int:
    """The largest N <= the headline N at which both ``a`` and ``b`` were measured."""
    sizes = [n for n in sorted({r["events"] for r in data.get("throughput", [])})
             if n <= _headline_n(data)
             and _per_event(data, api, a, n) is not None and _per_event(data, api, b, n)]
    return sizes[-1] if sizes else _headline_n(data)


def _cpu_of_stream(data: dict[str, Any], api: str, name: str, n: int) -> float | None:
    per = _per_event(data, api, name, n)
    return None if per is None else per * n


def _marginal(data: dict[str, Any], api: str, name: str, sizes: list[int]) -> float | None:
    """Growth of the *marginal* per-event cost: (C(N3)-C(N2))/(N3-N2) over (C(N2)-C(N1))/(N2-N1).

    The plain N3/N1 ratio flatters long streams, since the per-stream cost (request, headers)
    is spread over more events; this ratio shows whether each extra event gets dearer.
    """
    if len(sizes) < 3:
        return None
    c = [_cpu_of_stream(data, api, name, n) for n in sizes[-3:]]
    if None in c:
        return None
    n1, n2, n3 = sizes[-3:]
    assert c[0] is not None and c[1] is not None and c[2] is not None
    return ratio((c[2] - c[1]) / (n3 - n2), (c[1] - c[0]) / (n2 - n1))


def _per_api_targets(data: dict[str, Any], api: str) -> list[dict[str, Any]]:
    def pair(name: str, goal: str, a: str, b: str, check: Any, detail: str = "") -> None:
        n = _common_n(data, api, a, b)
        value = ratio(_per_event(data, api, a, n), _per_event(data, api, b, n))
        out.append(_target(f"{api}: {name} (N={n:,})", goal, value,
                           None if value is None else check(value),
                           detail if value is None else ""))

    out: list[dict[str, Any]] = []
    pair("native vs floor", "<= 2.0x", "native", "floor", lambda v: v <= 2.0)
    pair("official .stream() helper vs native", ">= 10x cheaper", "openai helper", "native",
         lambda v: v >= 10)
    pair("3-subscriber fan-out vs one subscriber", "<= 1.5x", "fanout", "native",
         lambda v: v <= 1.5)
    note = data.get("compat_note") or "compat not measured"
    for kind in ("raw", "helper"):
        pair(f"official vs compat, {kind}", ">= 10x cheaper", f"openai {kind}",
             f"compat {kind}", lambda v: v >= 10, note)
    sizes = sorted({row["events"] for row in data.get("throughput", [])})
    if len(sizes) > 1:
        flat = ratio(_per_event(data, api, "native", sizes[-1]),
                     _per_event(data, api, "native", sizes[0]))
        out.append(_target(f"{api}: native per-event cost, N={sizes[-1]:,} vs N={sizes[0]:,}",
                           "<= 1.2x", flat, None if flat is None else flat <= 1.2))
    marginal = _marginal(data, api, "native", sizes)
    if marginal is not None:
        out.append(_target(f"{api}: native marginal per-event cost, last vs first N step",
                           "<= 1.2x (stricter reading)", marginal, marginal <= 1.2))
    latency = {row["contender"]: row for row in data.get("latency", []) if row["api"] == api}
    if "native" in latency:
        measured = latency["native"]["samples"] > 0  # no stamp read: nothing was measured
        p99 = latency["native"]["p99_us"] if measured else None
        floor = latency.get("floor")
        detail = "" if floor is None else (
            f"floor: p50 {floor['p50_us']:.0f} µs, p99 {floor['p99_us']:.0f} µs; native p50 "
            f"{latency['native']['p50_us']:.0f} µs")
        out.append(_target(f"{api}: native send->delivery p99 at 1 event/ms", "< 1000 us",
                           p99, None if p99 is None else p99 < 1000, detail))
    return out


def evaluate_targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every issue-6 target with the measured value and a met/MISSED/n/a verdict."""
    out: list[dict[str, Any]] = []
    for api in data.get("apis", ["chat", "responses"]):
        out += _per_api_targets(data, api)
    for row in data.get("held", []):
        if row.get("contender") == "native" and "kib_per_idle_stream" in row:
            value = row["kib_per_idle_stream"]
            floor = next((r.get("kib_per_idle_stream") for r in data.get("held", [])
                          if r.get("contender") == "floor" and r.get("k") == row["k"]), None)
            detail = "" if floor is None else f"bare aiohttp (floor): {floor} KiB"
            out.append(_target(f"{row['api']}: native RSS per idle stream (K={row['k']:,})",
                               "<= 20 KiB", value, value <= 20, detail))
    return out


# ----------------------------------------------------------------------------- markdown


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _throughput_section(data: dict[str, Any]) -> list[str]:
    rows = data.get("throughput", [])
    sizes = sorted({r["events"] for r in rows})
    if not sizes:
        return []
    lines = [
        "## 1. Client CPU per event (µs, median) and events/s",
        "",
        "µs/ev = median client CPU of a whole stream / N. *marginal µs/ev* (slope between the"
        " two largest N) is the cost of one more event; *per-stream µs* (intercept through the"
        " two smallest N) is the fixed cost of a request; '-' when noise makes it negative.",
        "",
    ]
    for api in data.get("apis", []):
        names = list(dict.fromkeys(r["contender"] for r in rows if r["api"] == api))
        floor_n = _headline_n(data)
        body = []
        for name in names:
            cells: list[Any] = [name]
            for n in sizes:
                cells.append(_per_event(data, api, name, n))
            for n in sizes:
                eps = next((r["events_per_s"] for r in rows if r["api"] == api
                            and r["contender"] == name and r["events"] == n), None)
                cells.append(eps)
            cells += _fit(data, api, name, sizes)
            cells.append(ratio(_per_event(data, api, name, sizes[-1]),
                               _per_event(data, api, name, sizes[0])))
            cells.append(ratio(_per_event(data, api, name, floor_n),
                               _per_event(data, api, "floor", floor_n)))
            body.append(cells)
        headers = (["contender"] + [f"µs/ev N={n:,}" for n in sizes]
                   + [f"ev/s N={n:,}" for n in sizes]
                   + ["marginal µs/ev", "per-stream µs"]
                   + [f"{sizes[-1] // 1000}k/{sizes[0] // 1000}k", f"x floor (N={floor_n:,})"])
        lines += [f"### {api}", "", *_table(headers, body), ""]
    return lines


def _fit(data: dict[str, Any], api: str, name: str, sizes: list[int]) -> list[float | None]:
    """Marginal µs per event (two largest N) and fixed µs per stream (two smallest N).

    CPU(N) = fixed + marginal * N. The fixed part is best seen on short streams, the marginal
    part on long ones; a fixed part below zero is noise (or a marginal cost that grows with N)
    and is shown as "-".
    """
    measured = [n for n in sizes if _per_event(data, api, name, n) is not None]
    if len(measured) < 2:
        return [None, None]
    cpu = {n: _cpu_of_stream(data, api, name, n) or 0.0 for n in measured}
    hi1, hi2 = measured[-2:]
    lo1, lo2 = measured[:2]
    marginal = (cpu[hi2] - cpu[hi1]) / (hi2 - hi1)
    slope = (cpu[lo2] - cpu[lo1]) / (lo2 - lo1)
    fixed = cpu[lo1] - slope * lo1
    return [round(marginal, 2), round(fixed) if fixed > 0 else None]


def _shapes_section(data: dict[str, Any]) -> list[str]:
    rows = data.get("shapes", [])
    if not rows:
        return []
    body = [[r["api"], r["shape"], r["contender"], r["events"], r["us_per_event"],
             r.get("x_floor")] for r in rows]
    headers = ["api", "shape", "contender", "events", "µs/event", "x floor"]
    title = "## 1b. Stream shapes: 10 streams x 2,000 at once, 1,000-event streams, first read"
    return [title, "", *_table(headers, body), ""]


def _latency_section(data: dict[str, Any]) -> list[str]:
    rows = data.get("latency", [])
    if not rows:
        return []
    body = [[r["api"], r["contender"], r["samples"], r["p50_us"], r["p99_us"], r["max_us"],
             r["first_event_ms"]] for r in rows]
    headers = ["api", "contender", "samples", "p50 µs", "p99 µs", "max µs",
               "request → first delta ms"]
    title = "## 2. Server send stamp → typed event delivered, at 1 event/ms"
    return [title, "", *_table(headers, body), ""]


def _concurrency_section(data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    held = data.get("held", [])
    if held:
        body = [[r["api"], r["contender"], r["k"], r.get("all_open_s"),
                 r.get("rss_held_mib"), r.get("kib_per_idle_stream"), r.get("error")]
                for r in held]
        headers = ["api", "contender", "K", "all open after s", "RSS MiB", "KiB / idle stream",
                   "error"]
        title = "## 3a. K open idle streams in one process: RSS per stream"
        lines += [title, "", *_table(headers, body), ""]
    burst = data.get("burst", [])
    if burst:
        body = [[r["api"], r["contender"], r["k"], r.get("streams_ok"), r.get("events"),
                 r.get("wall_s"), r.get("events_per_s"), r.get("us_per_event"),
                 r.get("us_per_stream"), r.get("peak_rss_mib"), r.get("kib_per_busy_stream"),
                 r.get("first_failure")] for r in burst]
        headers = ["api", "contender", "K", "ok", "events", "wall s", "events/s", "µs/event",
                   "µs/stream", "peak RSS MiB", "KiB / stream", "failure"]
        lines += ["## 3b. K streams at once, full speed", "", *_table(headers, body), ""]
    return lines


def _long_section(data: dict[str, Any]) -> list[str]:
    rows = data.get("long", [])
    if not rows:
        return []
    body = [[r["api"], r["contender"], r.get("events"), r.get("us_per_event"),
             r.get("peak_growth_mib"), r.get("retained_mib"), r.get("error")] for r in rows]
    headers = ["api", "contender", "events", "µs/event", "peak RSS growth MiB",
               "retained after gc MiB", "error"]
    return ["## 4. One long stream: memory", "", *_table(headers, body), ""]


def render_markdown(data: dict[str, Any]) -> str:
    """The whole report as markdown."""
    m = data["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    lines = [
        f"# oxide_rx benchmarks — {data['date']} ({data['mode']})",
        "",
        f"Command: `{data['command']}` — took {data.get('duration_s', 0):.0f} s.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), "
        f"{m['memory_gib']} GiB, {m['os']}, Python {m['python']}; load average "
        f"{m['load_average_start']} at start, {data.get('load_average_end')} at end. "
        f"Commit {m['git_commit']}{' (dirty tree)' if m.get('git_dirty') else ''}.",
        "",
        f"Packages: {packages}.",
        "",
    ]
    for note in data.get("notes", []):
        lines.append(f"- {note}")
    for run in data.get("merged_runs", []):
        lines.append(f"- Some rows were re-measured later by `{run['command']}` "
                     f"(load average {run['machine']['load_average_start']} at its start).")
    lines += ["", "## Targets (issue 6)", ""]
    lines += _table(["target", "goal", "measured", "verdict", "note"],
                    [[t["target"], t["goal"], t["value"], t["verdict"], t["detail"]]
                     for t in data.get("targets", [])])
    lines.append("")
    lines += _throughput_section(data)
    lines += _shapes_section(data)
    lines += _latency_section(data)
    lines += _concurrency_section(data)
    lines += _long_section(data)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- chart


def _latency_panel(ax: Any, rows: list[dict[str, Any]], api: str) -> None:
    names = [r["contender"] for r in rows]
    ys = list(range(len(names)))
    ax.barh([y - 0.2 for y in ys], [r["p50_us"] for r in rows], height=0.4, label="p50",
            color="#5dade2")
    ax.barh([y + 0.2 for y in ys], [r["p99_us"] for r in rows], height=0.4, label="p99",
            color="#1a5276")
    ax.set_yticks(ys, names)
    ax.invert_yaxis()
    ax.axvline(1000, color="#c0392b", linestyle="--", linewidth=1, label="1 ms target")
    ax.set_xlabel("µs from server send stamp to typed event delivered")
    ax.set_title(f"{api}: latency at 1 event/ms")
    ax.legend(fontsize=7)


def render_png(data: dict[str, Any], path: Path) -> bool:
    """Per-event CPU by contender (log scale) and its growth with N; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = data.get("throughput", [])
    apis = data.get("apis", [])
    sizes = sorted({r["events"] for r in rows})
    latency = data.get("latency", [])
    n_rows = 3 if latency else 2
    fig, axes = plt.subplots(n_rows, max(len(apis), 1),
                             figsize=(6.5 * max(len(apis), 1), 4.2 * n_rows), squeeze=False)
    n = _headline_n(data)
    for col, api in enumerate(apis):
        names = list(dict.fromkeys(r["contender"] for r in rows if r["api"] == api))
        at = {name: _common_n(data, api, name, name) for name in names}
        values = [_per_event(data, api, name, at[name]) or 0.0 for name in names]
        labels = [name if at[name] == n else f"{name} (N={at[name]:,})" for name in names]
        ax = axes[0][col]
        bars = ax.barh(labels, values, color=["#888" if x == "floor" else
                                             "#c0392b" if x.startswith("openai") else "#2e86c1"
                                             for x in names])
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set_title(f"{api}: client CPU µs per event, N={n:,} (log)")
        for bar, value in zip(bars, values, strict=True):
            ax.text(value, bar.get_y() + bar.get_height() / 2, f" {value:.1f}", va="center",
                    fontsize=8)
        ax2 = axes[1][col]
        for name in names:
            points = [(s, _per_event(data, api, name, s)) for s in sizes]
            xs = [s for s, v in points if v is not None]
            ys = [v for _, v in points if v is not None]
            ax2.plot(xs, ys, marker="o", label=name)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel("events per stream")
        ax2.set_ylabel("µs per event")
        ax2.set_title(f"{api}: per-event cost must stay flat as N grows")
        ax2.legend(fontsize=7)
        if latency:
            _latency_panel(axes[2][col], [r for r in latency if r["api"] == api], api)
    fig.suptitle(f"oxide_rx benchmarks {data['date']} ({data['mode']}) — {data['machine']['cpu']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str]) -> None:
    path = Path(argv[1])
    data = json.loads(path.read_text())
    data["targets"] = evaluate_targets(data)
    path.with_suffix(".md").write_text(render_markdown(data))
    render_png(data, path.with_suffix(".png"))


if __name__ == "__main__":
    main(sys.argv)
