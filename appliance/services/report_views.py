"""A report's result as people read it: its table (columns, each with a kind that says how
to show it), its chart (what ``webui/static/reports.js`` draws with ECharts) and its Excel
workbook (the filter written at the top, numbers as numbers).  One table per report
drives the page, the chart's series and the workbook, so the three cannot disagree.

``words(msgid, **params)`` is the reader's catalog (``appliance/i18n.py``), ``label(kind,
code)`` names a stored code (``appliance/labels.py``).
"""

from __future__ import annotations

import io

KINDS = ("traffic", "queues", "heatmap", "agents", "timeline", "abandoned", "surveys", "ivr", "regions", "trunks",
         "outbound", "costs", "sales")
# reports whose records have no queue, DID or direction (campaign attempts, orders): the agent filter only
AGENT_FILTER_ONLY = ("outbound", "sales")
# reports the team filter does not apply to (the orders service scopes orders by agent or customer)
NO_TEAM_FILTER = ("sales",)
IVR_LEFT = ("queue", "agent", "extension", "voicemail", "fax", "hangup", "fallback", "hung_up")  # reports.IVR_LEFT
CALLS = [("calls", "reports.region.calls", "int"), ("answered", "reports.col.answered", "int"),
         ("abandoned", "reports.col.abandoned", "int"), ("unanswered", "reports.region.unanswered", "int"),
         ("answer_rate", "reports.region.answer_rate", "percent"), ("talk_seconds", "reports.col.talk", "seconds"),
         ("average_talk", "reports.region.average_talk", "seconds")]
ATTEMPTS = [("name", "reports.col.name", "text"),
            ("dialled", "reports.outbound.dialled", "int"), ("answered", "reports.col.answered", "int"),
            ("abandoned", "reports.col.abandoned", "int"), ("machine", "reports.outbound.machine", "int"),
            ("no_answer", "reports.outbound.no_answer", "int"), ("busy", "reports.outbound.busy", "int"),
            ("failed", "reports.outbound.failed", "int"), ("dialling", "reports.outbound.dialling", "int"),
            ("skipped", "reports.outbound.skipped", "int"), ("refused", "reports.outbound.refused", "int"),
            ("answer_rate", "reports.outbound.answer_rate", "percent")]
COSTS = [("name", "reports.col.name", "text"),
         ("calls", "reports.costs.calls", "int"), ("rated", "reports.costs.rated", "int"),
         ("unrated", "reports.costs.unrated", "int"), ("talk_seconds", "reports.col.talk", "seconds"),
         ("cost", "reports.costs.cost", "money")]
SALES = [("orders", "reports.sales.orders", "int"), ("amount", "reports.sales.amount", "money")]

# (key, message id, how to show it): int | seconds | percent | text | number | money | bool | call
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
    "ivr": [("menu", "reports.ivr.menu", "text"), ("name", "reports.col.display_name", "text"),
            ("entered", "reports.ivr.entered", "int"), ("invalid", "reports.ivr.invalid", "int"),
            ("timeout", "reports.ivr.timeout", "int")],
    "ivr_left": [("menu", "reports.ivr.menu", "text"), ("name", "reports.col.display_name", "text")]
    + [(k, f"reports.ivr.left.{k}", "int") for k in IVR_LEFT]
    + [("left_after_timeout", "reports.ivr.left_after_timeout", "int"),
       ("left_after_invalid", "reports.ivr.left_after_invalid", "int")],
    "provinces": [("province_words", "reports.region.province", "text")] + CALLS,
    "cities": [("province_words", "reports.region.province", "text"), ("city", "reports.region.city", "text")] + CALLS,
    "trunks": [("trunk", "reports.region.trunk", "text"), ("name", "reports.col.display_name", "text"),
               ("direction_words", "reports.col.direction", "text")] + CALLS,
    **{f"attempts_{part}": [("key", f"reports.outbound.key_{part}", "text")] + ATTEMPTS
       for part in ("campaigns", "agents", "days")},
    **{f"costs_{group}": [("key", f"reports.costs.key_{group}", "text")] + COSTS
       for group in ("trunks", "agents", "teams")},
    "costs_classes": [("key", "reports.costs.key_classes", "text")] + COSTS[1:],  # the key is its name
    "sales_agents": [("key", "reports.col.agent", "text")] + SALES,
    "sales_products": [("key", "reports.sales.product", "text"), ("name", "reports.col.name", "text"),
                       ("quantity", "reports.sales.quantity", "int")] + SALES,
    "sales_days": [("key", "reports.sales.day", "text")] + SALES,
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def filter_lines(spec, words, label) -> list[str]:
    """The filter a report was asked for, in words: what a workbook's first rows say."""
    zone = getattr(spec["zone"], "key", str(spec["zone"]))
    lines = [words("reports.filter.range", first=spec["from"].isoformat(), last=spec["to"].isoformat(), zone=zone)]
    lines += [words(f"reports.filter.{name}", value=spec[name]) for name in ("queue", "did", "agent", "team")
              if spec.get(name)]
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
        if name == "ivr":  # one column per key pressed on an option
            keys = sorted({k for row in rows for k in row["keys"]}, key=lambda k: ("0123456789*#".find(k), k))
            cols = cols[:3] + [(f"key:{k}", "", "int") for k in keys] + cols[3:]
            rows = [{**row, **{f"key:{k}": row["keys"].get(k, 0) for k in keys}} for row in rows]
        heads = [(k, words(msgid) if msgid else _dynamic_head(k, words, label), how) for k, msgid, how in cols]
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
    if kind == "ivr":
        return [table("ivr", result["rows"], words("reports.ivr.keys")),
                table("ivr_left", [{**r, **r["left"]} for r in result["rows"]], words("reports.ivr.where_left"))]
    if kind == "regions":
        def place(r):
            return {**r, "province_words": r["province"] or words("reports.region.unknown")}
        return [table("provinces", [place(r) for r in result["provinces"]], words("reports.region.by_province")),
                table("cities", [place(r) for r in result["cities"]], words("reports.region.by_city"))]
    if kind == "trunks":
        return [table("trunks", [{**r, "direction_words": label("direction", r["direction"])} for r in result["rows"]])]
    if kind == "outbound":
        return [table(f"attempts_{part}", result[part], words(f"reports.outbound.by_{part}"))
                for part in ("campaigns", "agents", "days")]
    if kind == "costs":
        def named(group, r):
            if group == "classes":  # the class in words, never its code
                return {**r, "key": label("destination_class", r["key"]) if r["key"]
                        else words("reports.costs.no_class")}
            return {**r, "name": r["name"] or ("" if r["key"] else words(f"reports.costs.no_{group[:-1]}"))}
        totals = {**{k: sum(r[k] for r in result["trunks"]) for k in ("calls", "rated", "unrated", "talk_seconds")},
                  "cost": result["total"]["cost"]}
        return [table(f"costs_{g}", [named(g, r) for r in result[g]], words(f"reports.costs.by_{g}"),
                      totals=totals if g == "trunks" else None) for g in ("trunks", "agents", "teams", "classes")]
    if kind == "sales":
        def yuan(part):  # the orders service's amounts are yuan text ("12.30"): numbers here
            return [{**r, "amount": float(r["amount"])} for r in result[part]]
        return [table("sales_days", yuan("by_day"), words("reports.sales.by_day"),
                      totals={"orders": result["orders"], "amount": float(result["amount"])}),
                table("sales_agents", yuan("by_agent"), words("reports.sales.by_agent")),
                table("sales_products", yuan("by_product"), words("reports.sales.by_product"))]
    agents = [{**a, **{f"s{n}": a["by_score"][n - 1] for n in range(1, 6)}} for a in result["agents"]]
    return [table("surveys", agents, words("reports.surveys.per_agent")),
            table("survey_queues", result["queues"], words("reports.surveys.per_queue")),
            table("survey_low", result["low"], words("reports.surveys.low"))]


def _dynamic_head(key: str, words, label) -> str:
    """The header of a column a report adds per value met: a pause reason, a menu key."""
    what, _, code = key.partition(":")
    if what == "key":
        return words("reports.ivr.key", key=code)
    return words("reports.col.pause_reason", reason=label("pause_reason", code))


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
    if kind == "ivr":
        rows = result["rows"]
        return {"type": "bars", "x": [r["name"] or r["menu"] for r in rows],
                "series": [{"name": words(f"reports.ivr.left.{k}"), "data": [r["left"][k] for r in rows], "stack": "l"}
                           for k in IVR_LEFT if any(r["left"][k] for r in rows)]}
    if kind in ("regions", "trunks"):
        rows = result["provinces"] if kind == "regions" else result["rows"]
        x = [r["province"] or words("reports.region.unknown") for r in rows] if kind == "regions" else \
            [f"{r['name'] or r['trunk']} {label('direction', r['direction'])}" for r in rows]
        return {"type": "bars", "x": x,
                "series": [{"name": words("reports.col.answered"), "data": [r["answered"] for r in rows], "stack": "c"},
                           {"name": words("reports.col.abandoned"), "data": [r["abandoned"] for r in rows], "stack": "c"},
                           {"name": words("reports.region.other_unanswered"),
                            "data": [r["unanswered"] - r["abandoned"] for r in rows], "stack": "c"}]}
    if kind == "outbound":
        rows = result["days"]
        return {"type": "bars", "x": [r["key"] for r in rows],
                "series": [{"name": words(msgid), "data": [r[k] for r in rows], "stack": "o"}
                           for k, msgid in (("answered", "reports.col.answered"),
                                            ("abandoned", "reports.col.abandoned"),
                                            ("machine", "reports.outbound.machine"),
                                            ("no_answer", "reports.outbound.no_answer"),
                                            ("busy", "reports.outbound.busy"), ("failed", "reports.outbound.failed"))]}
    if kind == "costs":
        return {"type": "pie", "data": [{"name": label("destination_class", r["key"]) if r["key"]
                                         else words("reports.costs.no_class"), "value": r["cost"]}
                                        for r in result["classes"] if r["cost_fen"]]}
    if kind == "sales":
        rows = result["by_day"]
        return {"type": "bars", "x": [r["key"] for r in rows],
                "series": [{"name": words("reports.sales.amount"), "data": [float(r["amount"]) for r in rows]}]}
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
                elif how == "money":
                    cell.number_format = "0.00"
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
