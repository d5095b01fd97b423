"""A report's result as people read it: its table (columns, each with a kind that says how
to show it), its chart (what ``webui/static/reports.js`` draws with ECharts) and its Excel
workbook (the filter written at the top, numbers as numbers).  One table per report
drives the page, the chart's series and the workbook, so the three cannot disagree.

``words(msgid, **params)`` is the reader's catalog (``appliance/i18n.py``), ``label(kind,
code)`` names a stored code (``appliance/labels.py``).
"""

from __future__ import annotations

import io

KINDS = ("traffic", "queues", "heatmap", "agents", "timeline", "abandoned", "surveys")

# (key, message id, how to show it): int | seconds | percent | text | number | bool | call
COLUMNS = {
    "traffic": [("period", "reports.col.period", "text"), ("offered", "reports.col.offered", "int"),
                ("answered", "reports.col.answered", "int"), ("abandoned", "reports.col.abandoned", "int"),
                ("no_agent", "reports.col.no_agent", "int"), ("service_level", "reports.col.service_level", "percent"),
                ("asa", "reports.col.asa", "seconds"), ("aht", "reports.col.aht", "seconds"),
                ("wait_seconds", "reports.col.wait", "seconds"), ("talk_seconds", "reports.col.talk", "seconds"),
                ("wrapup_seconds", "reports.col.wrapup", "seconds")],
    "queues": [("queue", "reports.col.queue", "text"), ("name", "reports.col.display_name", "text"),
               ("offered", "reports.col.offered", "int"), ("answered", "reports.col.answered", "int"),
               ("abandoned", "reports.col.abandoned", "int"), ("no_agent", "reports.col.no_agent", "int"),
               ("service_level", "reports.col.service_level", "percent"), ("asa", "reports.col.asa", "seconds"),
               ("aht", "reports.col.aht", "seconds"), ("talk_seconds", "reports.col.talk", "seconds"),
               ("wrapup_seconds", "reports.col.wrapup", "seconds")],
    "agents": [("agent", "reports.col.agent", "text"), ("name", "reports.col.name", "text"),
               ("signed_in", "reports.col.signed_in", "seconds"), ("talk", "reports.col.talk", "seconds"),
               ("wrapup", "reports.col.wrapup", "seconds"), ("paused", "reports.col.paused", "seconds"),
               ("occupancy", "reports.col.occupancy", "percent"), ("handled", "reports.col.handled", "int"),
               ("calls_per_hour", "reports.col.calls_per_hour", "number")],
    "timeline": [("agent", "reports.col.agent", "text"), ("name", "reports.col.name", "text"),
                 ("state_words", "reports.col.state", "text"), ("start", "reports.col.start", "text"),
                 ("end", "reports.col.end", "text"), ("seconds", "reports.col.duration", "seconds")],
    "abandoned": [("enter_time", "reports.col.enter_time", "text"), ("caller", "reports.col.caller", "text"),
                  ("queue", "reports.col.queue", "text"), ("did", "reports.col.did", "text"),
                  ("wait_seconds", "reports.col.wait", "seconds"), ("called_back", "reports.col.called_back", "bool"),
                  ("called_back_at", "reports.col.called_back_at", "text"),
                  ("called_back_by", "reports.col.called_back_by", "text"),
                  ("called_back_after", "reports.col.called_back_after", "seconds"),
                  ("linkedid", "reports.col.call", "call")],
    "surveys": [("name", "reports.col.agent", "text"), ("count", "reports.col.rated", "int"),
                ("average", "reports.col.average", "number"), ("low", "reports.col.low", "int"),
                ("s1", "reports.col.score1", "int"), ("s2", "reports.col.score2", "int"),
                ("s3", "reports.col.score3", "int"), ("s4", "reports.col.score4", "int"),
                ("s5", "reports.col.score5", "int")],
    "survey_queues": [("name", "reports.col.queue", "text"), ("count", "reports.col.rated", "int"),
                      ("average", "reports.col.average", "number"), ("low", "reports.col.low", "int")],
    "survey_low": [("enter_time", "reports.col.enter_time", "text"), ("caller", "reports.col.caller", "text"),
                   ("queue", "reports.col.queue", "text"), ("agent", "reports.col.agent", "text"),
                   ("score", "reports.col.score", "int"), ("talk_seconds", "reports.col.talk", "seconds"),
                   ("linkedid", "reports.col.call", "call")],
    "heatmap": [("day", "reports.col.weekday", "text")] + [(f"h{h}", f"reports.hour.{h:02d}", "int") for h in range(24)],
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def filter_lines(spec, words, label) -> list[str]:
    """The filter a report was asked for, in words: what a workbook's first rows say."""
    zone = getattr(spec["zone"], "key", str(spec["zone"]))
    lines = [words("reports.filter.range", first=spec["from"].isoformat(), last=spec["to"].isoformat(), zone=zone)]
    lines += [words(f"reports.filter.{name}", value=spec[name]) for name in ("queue", "did", "agent") if spec[name]]
    if spec["direction"]:
        lines.append(words("reports.filter.direction", value=label("direction", spec["direction"])))
    return lines


def tables(kind: str, result: dict, words, label) -> list[dict]:
    """The report's tables: ``[{"title", "columns": [(key, header, how)], "rows": [[...]],
    "totals": [...] | None}]``, values raw (numbers stay numbers)."""
    def table(name, rows, title="", totals=None):
        cols = COLUMNS[name]
        if name == "agents":  # one column per pause reason met
            reasons = sorted({r for row in rows for r in row["pauses"]})
            cols = cols[:6] + [(f"pause:{r}", "", "seconds") for r in reasons] + cols[6:]
            rows = [{**row, **{f"pause:{r}": row["pauses"].get(r, 0.0) for r in reasons}} for row in rows]
        heads = [(k, words(msgid) if msgid else words("reports.col.pause_reason",
                                                      reason=label("pause_reason", k.split(":", 1)[1])), how)
                 for k, msgid, how in cols]
        return {"title": title, "columns": heads, "rows": [[row.get(k) for k, _, _ in cols] for row in rows],
                "totals": [words("reports.total") if k == cols[0][0] else ("" if how == "text" else totals.get(k))
                           for k, _, how in cols]
                if totals else None}

    if kind == "traffic":
        return [table("traffic", result["rows"], totals=result["totals"])]
    if kind == "queues":
        return [table("queues", result["rows"], totals=result["totals"])]
    if kind == "heatmap":
        rows = [{"day": words(f"reports.weekday.{WEEKDAYS[d]}"), **{f"h{h}": result["grid"][d][h] for h in range(24)}}
                for d in range(7)]
        return [table("heatmap", rows)]
    if kind == "agents":
        return [table("agents", result["rows"])]
    if kind == "timeline":
        return [table("timeline", [{**r, "state_words": state_words(r, label)} for r in result["rows"]])]
    if kind == "abandoned":
        return [table("abandoned", result["rows"])]
    agents = [{**a, **{f"s{n}": a["by_score"][n - 1] for n in range(1, 6)}} for a in result["agents"]]
    return [table("surveys", agents, words("reports.surveys.per_agent")),
            table("survey_queues", result["queues"], words("reports.surveys.per_queue")),
            table("survey_low", result["low"], words("reports.surveys.low"))]


def state_words(row: dict, label) -> str:
    """An agent state in words, with its pause reason (``paused: lunch``)."""
    state = label("agent_state", row["state"])
    return f"{state}: {label('pause_reason', row['reason'])}" if row["reason"] else state


def chart(kind: str, result: dict, words, label=lambda kind, code: code) -> dict:
    """What reports.js draws: ``{"type": "bars"|"heatmap", "x": [...], "series": [...]}``."""
    if kind in ("traffic", "queues"):
        rows = result["rows"]
        x = [r["period"] if kind == "traffic" else (r["name"] or r["queue"]) for r in rows]
        return {"type": "bars", "x": x, "percent_axis": words("reports.col.service_level"),
                "series": [{"name": words("reports.col.answered"), "data": [r["answered"] for r in rows], "stack": "c"},
                           {"name": words("reports.col.abandoned"), "data": [r["abandoned"] for r in rows], "stack": "c"},
                           {"name": words("reports.col.no_agent"), "data": [r["no_agent"] for r in rows], "stack": "c"},
                           {"name": words("reports.col.service_level"), "line": True, "axis": 1,
                            "data": [None if r["service_level"] is None else round(r["service_level"] * 100, 1)
                                     for r in rows]}]}
    if kind == "heatmap":
        return {"type": "heatmap", "x": [f"{h:02d}" for h in range(24)],
                "y": [words(f"reports.weekday.{d}") for d in WEEKDAYS],
                "data": [[h, d, result["grid"][d][h]] for d in range(7) for h in range(24)],
                "max": max([max(row) for row in result["grid"]] + [1]), "name": words("reports.col.arrivals")}
    if kind == "agents":
        rows = result["rows"]
        hours = [lambda r, k=k: round(r[k] / 3600, 2) for k in ("talk", "wrapup", "paused")]
        return {"type": "bars", "x": [f"{r['agent']} {r['name']}".strip() for r in rows], "unit": "h",
                "series": [{"name": words(msgid) + " (h)", "data": [f(r) for r in rows], "stack": "t"}
                           for msgid, f in zip(("reports.col.talk", "reports.col.wrapup", "reports.col.paused"), hours)]
                + [{"name": words("reports.col.occupancy"), "line": True, "axis": 1,
                    "data": [None if r["occupancy"] is None else round(r["occupancy"] * 100, 1) for r in rows]}],
                "percent_axis": words("reports.col.occupancy")}
    if kind == "timeline":  # signed out is drawn as nothing
        rows = [r for r in result["rows"] if r["state"] != "logged_out"]
        agents = sorted({f"{r['agent']} {r['name']}".strip() for r in rows})
        states = sorted({r["state"] for r in rows})
        return {"type": "timeline", "y": agents, "day_seconds": result["day_seconds"],
                "states": [label("agent_state", s) for s in states],
                "data": [[agents.index(f"{r['agent']} {r['name']}".strip()), r["offsets"][0], r["offsets"][1],
                          states.index(r["state"]), state_words(r, label)] for r in rows]}
    if kind == "abandoned":
        back = result["called_back"]
        return {"type": "pie", "data": [{"name": words("reports.called_back.yes"), "value": back},
                                        {"name": words("reports.called_back.no"), "value": len(result["rows"]) - back}]}
    return {"type": "bars", "x": [words(f"reports.col.score{n}") for n in range(1, 6)],
            "series": [{"name": q["name"] or words("reports.no_queue"), "data": q["by_score"]} for q in result["queues"]]}


def workbook(title: str, filter_lines: list[str], parts: list[dict], words, label) -> bytes:
    """The .xlsx of a report: its title and filter lines at the top, then each table with
    its header; numbers as numbers (seconds as seconds, rates as fractions shown as %),
    text never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in filter_lines:
        sheet.append([line])
    for part in parts:
        sheet.append([])
        if part["title"]:
            sheet.append([part["title"]])
        sheet.append([head for _, head, _ in part["columns"]])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for values in part["rows"] + ([part["totals"]] if part["totals"] else []):
            sheet.append([_cell(v, how, words) for v, (_, _, how) in zip(values, part["columns"])])
            for cell, (_, _, how) in zip(sheet[sheet.max_row], part["columns"]):
                if how == "percent":
                    cell.number_format = "0.0%"
                elif isinstance(cell.value, str):
                    cell.data_type = "s"  # a caller's number starting with + or = stays text
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _cell(value, how, words):
    if value is None:
        return None
    if how == "bool":
        return words("reports.yes") if value else words("reports.no")
    return value
