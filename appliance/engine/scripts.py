"""Call scripts' pure rules (话术): a script's steps checked whole, the next step an answer
leads to, and the text an agent reads in their language.  No peewee, no socket.

A script is a list of steps; the first is where every call starts.  A step has an ``id``
(lower-case letters, digits and ``_``), the ``text`` the agent reads in each language
(``{"zh_CN": ..., "en": ...}``, at least one), optionally the customer ``field`` the
step's question fills, the default ``next`` step (empty: the script ends there) and
``branches``: ``[{"answer": <a choice of the field>, "next": <step>}]``, the "next step by
answer" table (only for a question on a choice field).

A script is sound when: it has steps (at most ``MAX_STEPS``); ids are valid and unique;
every step has text, none too long; questions name a field that exists; branches are on
choice questions, each answer once and one of the field's choices; every ``next`` names a
step; no way through the script comes back to a step it passed (a loop: the agent would
read the same lines to the caller again); and every step is reachable from the first.
Each fault is reported with its own message id (``scripts.*``), the first one per kind.
"""

from __future__ import annotations

from appliance.engine.workorders import NAME, WorkflowFault, reachable

MAX_STEPS = 50
MAX_TEXT = 2000
MAX_BRANCHES = 20
LANGS = ("zh_CN", "en")


def check_script(steps: list[dict], fields: dict[str, tuple[str, tuple]]) -> list[WorkflowFault]:
    """Every reason the script cannot be saved (empty: sound).  ``fields``: the customer
    fields a question may fill, name -> (type, choices)."""
    if not steps:
        return [WorkflowFault("steps", "scripts.no_steps", "a script needs at least one step", {})]
    if len(steps) > MAX_STEPS:
        return [WorkflowFault("steps", "scripts.too_many", f"at most {MAX_STEPS} steps", {"n": MAX_STEPS})]
    faults: list[WorkflowFault] = []
    ids = [s.get("id") for s in steps]
    for i in ids:
        if not isinstance(i, str) or not NAME.fullmatch(i):
            return [WorkflowFault("steps", "scripts.bad_id",
                                  f"step '{i}': lower-case letters, digits and _, starting with a letter",
                                  {"id": str(i)})]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        faults.append(WorkflowFault("steps", "scripts.duplicate", f"step {dupes[0]} appears twice", {"id": dupes[0]}))
    known = set(ids)
    for s in steps:
        faults += _step_faults(s, known, fields)
    edges = [(s["id"], b) for s in steps for b in targets(s)]
    if not any(f.msgid == "scripts.unknown_next" for f in faults):
        loop = find_loop(ids[0], edges)
        if loop:
            faults.append(WorkflowFault("steps", "scripts.loop",
                                        f"the script comes back to a step it passed: {' → '.join(loop)}",
                                        {"path": " → ".join(loop)}))
        unreachable = [i for i in ids if i not in reachable(ids[0], edges)]
        if unreachable:
            faults.append(WorkflowFault("steps", "scripts.unreachable",
                                        f"no way leads to {', '.join(unreachable)} from {ids[0]}",
                                        {"ids": ", ".join(unreachable), "first": ids[0]}))
    return _first_per_kind(faults)


def _step_faults(s: dict, known: set, fields: dict) -> list[WorkflowFault]:
    out = []
    sid = s["id"]
    texts = s.get("text") or {}
    if not isinstance(texts, dict) or not any(isinstance(texts.get(k), str) and texts[k].strip() for k in LANGS):
        out.append(WorkflowFault("steps", "scripts.no_text", f"step {sid} has no text to read", {"id": sid}))
    elif any(len(texts.get(k) or "") > MAX_TEXT for k in LANGS):
        out.append(WorkflowFault("steps", "scripts.text_too_long", f"step {sid}: at most {MAX_TEXT} characters",
                                 {"id": sid, "n": MAX_TEXT}))
    field = s.get("field") or ""
    if field and field not in fields:
        out.append(WorkflowFault("steps", "scripts.unknown_field", f"step {sid} asks for {field}, which is no "
                                 "customer field", {"id": sid, "field": field}))
    branches = s.get("branches") or []
    if branches:
        kind, choices = fields.get(field, ("", ()))
        if kind != "choice":
            out.append(WorkflowFault("steps", "scripts.branch_needs_choice", f"step {sid}: only the answer to a "
                                     "question with choices can choose the next step", {"id": sid}))
        answers = [b.get("answer") for b in branches]
        for a in answers:
            if kind == "choice" and a not in choices:
                out.append(WorkflowFault("steps", "scripts.branch_not_a_choice",
                                         f"step {sid}: '{a}' is not one of {', '.join(choices)}",
                                         {"id": sid, "answer": str(a), "choices": ", ".join(choices)}))
            if answers.count(a) > 1:
                out.append(WorkflowFault("steps", "scripts.branch_twice", f"step {sid}: the answer '{a}' leads to "
                                         "two steps", {"id": sid, "answer": str(a)}))
    for target in targets(s):
        if target not in known:
            out.append(WorkflowFault("steps", "scripts.unknown_next", f"step {sid} leads to {target}, which is no "
                                     "step", {"id": sid, "next": target}))
    return out


def _first_per_kind(faults: list[WorkflowFault]) -> list[WorkflowFault]:
    seen, out = set(), []
    for f in faults:
        if f.msgid not in seen:
            seen.add(f.msgid)
            out.append(f)
    return out


def targets(step: dict) -> list[str]:
    """The steps ``step`` may lead to: its branches' and its default next (in that order)."""
    out = [b.get("next") or "" for b in step.get("branches") or []] + [step.get("next") or ""]
    return list(dict.fromkeys(t for t in out if t))


def find_loop(start: str, edges) -> list[str]:
    """A way from ``start`` that comes back to a step it passed, as the steps walked (the
    repeated one last), or [] when there is none."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    done: set[str] = set()
    path: list[str] = []

    def walk(here: str) -> list[str]:
        if here in path:
            return path[path.index(here):] + [here]
        if here in done:
            return []
        path.append(here)
        for nxt in graph.get(here, ()):
            found = walk(nxt)
            if found:
                return found
        path.pop()
        done.add(here)
        return []

    return walk(start)


def next_step(step: dict, answer) -> str:
    """Where the script goes after ``step`` answered with ``answer`` (the stored value):
    the branch for that answer, else the step's next; ``""``: the script is over."""
    for b in step.get("branches") or []:
        if answer is not None and b.get("answer") == answer:
            return b.get("next") or ""
    return step.get("next") or ""


def text_for(texts: dict, lang: str) -> str:
    """The text in ``lang``, else in the other language (a script may be written in one)."""
    texts = texts or {}
    for key in (lang, *[k for k in LANGS if k != lang]):
        if isinstance(texts.get(key), str) and texts[key].strip():
            return texts[key]
    return ""
