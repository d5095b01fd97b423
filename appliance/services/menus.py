"""Voice menus as data: create, change, check and delete menus and their options.

The flat fields of a menu are in ``config.FIELDS["menus"]`` (the same table validates
them, documents them in OpenAPI and draws the form); each option is a key, an action
and its target.  Every save checks the whole graph of menus (``engine.menus.check``:
nothing pointing at nothing, no circle a silent or fumbling caller cannot leave) and
refuses what would break it; a menu goes *live* (callers may reach it) only when its
prompt is present and every menu it leads to is live.  Changes are audited and applied
like every other configuration change, through ``ConfigService``'s public store steps
(``clean``, ``transaction``, ``log_change``, ``apply``): the FastAGI snapshot is rebuilt at
once, so the next caller's next turn already sees them.  What a menu names (queues, agents,
phones) cannot be renamed or deleted under it: ``config.menus_using``, the ``named_by`` hook
of those kinds (config does not import this module).
"""

from __future__ import annotations

import logging

from appliance.db import models as m
from appliance.engine import menus as engine
from appliance.errors import Conflict, FieldError, NotFound, ValidationError, field_error_of
from appliance.services.config import Field, coerce

logger = logging.getLogger(__name__)

OPTION_FIELDS = (
    Field("digit", "str", required=True, choices=tuple(engine.DIGITS), help="the key: 0-9, * or #"),
    Field("action", "str", required=True, choices=engine.ACTIONS),
    Field("target", "str", default="", max_length=32,
          help="the menu, queue, agent or extension (directory: the queue offered when the agent is busy; "
               "agent: empty means the agent who transferred the caller)"),
    Field("enabled", "bool", default=True, help="off: the step is skipped, as if the key did nothing"),
)

def engine_menu(menu, options, prompt: tuple[str, ...] = ()) -> engine.Menu:
    return engine.Menu(
        name=menu.name, prompt=prompt,
        options={o.digit: engine.Action(o.action, o.target) for o in options if o.enabled},
        timeout_seconds=menu.timeout_seconds, max_tries=menu.max_tries,
        on_invalid=engine.Action(menu.invalid_action, menu.invalid_target),
        on_timeout=engine.Action(menu.timeout_action, menu.timeout_target), skip=menu.skip, language=menu.language)


def all_menus(only_live: bool = False) -> dict:
    """name -> (row, [option rows]) in two queries."""
    query = m.Menu.select().order_by(m.Menu.name)
    if only_live:
        query = query.where(m.Menu.live == True)  # noqa: E712 (peewee expression)
    rows = {menu.id: (menu, []) for menu in query}
    for option in m.MenuOption.select().where(m.MenuOption.menu.in_(list(rows))).order_by(m.MenuOption.digit):
        rows[option.menu_id][1].append(option)
    return {menu.name: (menu, options) for menu, options in rows.values()}


def known_targets() -> tuple[set[str], set[str], set[str]]:
    """Queues, agents with a phone, and phones, by key."""
    queues = {q.name for q in m.Queue.select(m.Queue.name)}
    agents = {a.number for a in m.Agent.select(m.Agent.number).where(m.Agent.phone.is_null(False))}
    phones = {p.extension for p in m.Phone.select(m.Phone.extension)}
    return queues, agents, phones


class MenuService:
    def __init__(self, db, config, prompt_files):
        self.db = db
        self.config = config
        self.files = prompt_files  # services.prompts.PromptFiles: is a prompt's audio there?

    # -- reading -----------------------------------------------------------------------
    def _view(self, menu, options) -> dict:
        out = self.config.view("menus", menu)
        out["options"] = [{"digit": o.digit, "action": o.action, "target": o.target, "enabled": o.enabled}
                          for o in sorted(options, key=lambda o: engine.DIGITS.index(o.digit))]
        out["leads_in"] = self._leads_in(menu)
        return out

    @staticmethod
    def _leads_in(menu) -> dict:
        """What sends callers into this menu: DIDs (directly or after hours, with their time
        condition) and other menus."""
        dids = [{"did": d.number, "when": "always" if not d.time_condition_id else "open",
                 "time_condition": d.time_condition.name if d.time_condition_id else None}
                for d in m.Did.select().where(m.Did.dest_menu == menu.id).order_by(m.Did.number)]
        dids += [{"did": d.number, "when": "closed", "time_condition": d.time_condition.name
                  if d.time_condition_id else None}
                 for d in m.Did.select().where(m.Did.after_hours_menu == menu.id).order_by(m.Did.number)]
        menus = sorted({o.menu.name for o in m.MenuOption.select(m.MenuOption, m.Menu).join(m.Menu)
                        .where(m.MenuOption.action == "menu", m.MenuOption.target == menu.name)} |
                       {x.name for x in m.Menu.select().where(
                           ((m.Menu.invalid_action == "menu") & (m.Menu.invalid_target == menu.name)) |
                           ((m.Menu.timeout_action == "menu") & (m.Menu.timeout_target == menu.name)))})
        return {"dids": dids, "menus": [x for x in menus if x != menu.name]}

    def list(self) -> list[dict]:
        return [self._view(menu, options) for menu, options in all_menus().values()]

    def get(self, name: str) -> dict:
        menu = self.config.get_row("menus", name)
        return {**self._view(menu, list(menu.options)), "problems": self.problems().get(name, [])}

    def tree(self, name: str) -> dict:
        self.config.get_row("menus", name)
        graph = {n: engine_menu(menu, options) for n, (menu, options) in all_menus().items()}
        return engine.tree(graph, name)

    def problems(self) -> dict[str, list[str]]:
        """Menu name -> what stops it working as saved (structure) or going live."""
        rows = all_menus()
        graph = {n: engine_menu(menu, options) for n, (menu, options) in rows.items()}
        found = engine.check(graph, *known_targets())
        for name, (menu, options) in rows.items():
            extra = []
            if menu.prompt_id is None:
                extra.append("no greeting prompt")
            elif not self.files.present(menu.prompt):
                extra.append(f"prompt {menu.prompt.name}: its audio is missing")
            leads_to = {o.target for o in options if o.action == "menu" and o.enabled}
            leads_to |= {a.target for a in (graph[name].on_invalid, graph[name].on_timeout) if a.kind == "menu"}
            extra += [f"leads to menu {t}, which is not live" for t in sorted(leads_to)
                      if t in rows and not rows[t][0].live]
            if extra:
                found.setdefault(name, []).extend(f"to go live: {p}" for p in extra)
        return found

    # -- changing ----------------------------------------------------------------------
    def _clean_options(self, options) -> list[dict]:
        if not isinstance(options, list):
            raise ValidationError("options must be a list",
                                  fields={"options": FieldError("field.option_list", "a list of options")})
        cleaned, seen = [], set()
        for i, option in enumerate(options):
            value = self._clean_option(option, f"options[{i}]")
            if value["digit"] in seen:
                raise ValidationError(f"key {value['digit']} is used twice", fields={f"options[{i}]": "key used twice"})
            seen.add(value["digit"])
            cleaned.append(value)
        return cleaned

    @staticmethod
    def _clean_option(option, label: str = "option", digit: str | None = None) -> dict:
        if not isinstance(option, dict):
            raise ValidationError(f"{label} must be an object", fields={label: FieldError("field.object", "an object")})
        if digit is not None:
            option = {**option, "digit": digit}
        fields = {f.name: f for f in OPTION_FIELDS}
        errors = {f"{label}.{k}": FieldError("field.unknown", "unknown field") for k in option if k not in fields}
        value = {}
        for f in OPTION_FIELDS:
            if f.name not in option:
                if f.required:
                    errors[f"{label}.{f.name}"] = FieldError("field.required", "required")
                else:
                    value[f.name] = f.default
                continue
            try:
                value[f.name] = coerce(f, option[f.name])
            except ValueError as exc:
                errors[f"{label}.{f.name}"] = field_error_of(exc)
        if errors:
            first = next(iter(errors.items()))
            raise ValidationError(f"the option cannot be saved: {first[0]}: {first[1]}", fields=errors)
        value["target"] = value["target"] or ""
        return value

    def _take_live(self, menu) -> None:
        """A menu going live takes along the drafts it leads to (menus may lead to each other,
        so neither could go first); ``_check`` then refuses the lot if one is not ready."""
        rows = all_menus()
        todo, seen = [menu.name], set()
        while todo:
            current = todo.pop()
            if current in seen or current not in rows:
                continue
            seen.add(current)
            row, options = rows[current]
            if not row.live:
                row.live = True
                row.save()
            targets = [o.target for o in options if o.action == "menu" and o.enabled]
            targets += [row.invalid_target if row.invalid_action == "menu" else "",
                        row.timeout_target if row.timeout_action == "menu" else ""]
            todo += [t for t in targets if t]

    def _check(self, name: str) -> None:
        """Refuse a save that leaves menu ``name`` (or a live menu) broken; inside the transaction."""
        menu = m.Menu.get(m.Menu.name == name)
        if menu.live:
            self._take_live(menu)
        problems = self.problems()
        mine = [p for p in problems.get(name, []) if not p.startswith("to go live:") or menu.live]
        if mine:
            raise ValidationError(f"menu {name} cannot be saved: {mine[0]}", code="menus.invalid",
                                  fields={"menu": "; ".join(mine)})
        broken_live = sorted(n for n, found in problems.items() if n != name and
                             m.Menu.get(m.Menu.name == n).live and found)
        if broken_live:
            raise ValidationError(f"live menu {broken_live[0]} would break: {problems[broken_live[0]][0]}",
                                  code="menus.invalid", fields={"menu": problems[broken_live[0]][0]})
        if not menu.live:
            users = m.Did.select().where((m.Did.dest_menu == menu.id) | (m.Did.after_hours_menu == menu.id))
            if users.exists():
                raise ValidationError(f"menu {name} must stay live: DID {users.first().number} leads into it",
                                      code="menus.in_use",
                                      fields={"live": FieldError("field.menu_in_use", "DIDs lead into this menu")})

    def _replace_options(self, menu, options: list[dict]) -> None:
        m.MenuOption.delete().where(m.MenuOption.menu == menu.id).execute()
        for option in options:
            m.MenuOption.create(menu=menu, **option)

    def create(self, data: dict, actor: str) -> dict:
        data = dict(data) if isinstance(data, dict) else data
        options = self._clean_options(data.pop("options", [])) if isinstance(data, dict) else []
        values = self.config.clean("menus", data, creating=True)
        with self.config.transaction():
            self.config.check_unique("menus", values["name"])
            menu = m.Menu.create(**values)
            self._replace_options(menu, options)
            self._check(menu.name)
            self.config.log_change(actor, "create", "menus", menu.name,
                               {**self.config.redacted("menus", values), "options": options})
        logger.info("%s created menu %s", actor, menu.name)
        self.config.apply()
        return self.get(menu.name)

    def update(self, name: str, data: dict, actor: str) -> dict:
        data = dict(data) if isinstance(data, dict) else data
        options = None
        if isinstance(data, dict) and "options" in data:
            options = self._clean_options(data.pop("options"))
        values = self.config.clean("menus", data, creating=False)
        with self.config.transaction():
            menu = self.config.get_row("menus", name)
            new_name = values.get("name", name)
            if new_name != name:
                self.config.check_unique("menus", new_name, exclude_id=menu.id)
                if self._leads_in(menu)["menus"]:
                    raise Conflict(f"menu {name} cannot be renamed: other menus lead to it", code="menus.in_use")
            for attr, value in values.items():
                setattr(menu, attr, value)
            menu.updated_at = m.utcnow()
            menu.save()
            if options is not None:
                self._replace_options(menu, options)
            self._check(menu.name)
            detail = self.config.redacted("menus", values)
            if options is not None:
                detail["options"] = options
            self.config.log_change(actor, "update", "menus", name, detail)
        logger.info("%s updated menu %s", actor, name)
        self.config.apply()
        return self.get(new_name)

    def set_option(self, name: str, digit: str, data: dict, actor: str) -> dict:
        """Add or replace what ``digit`` does in menu ``name``."""
        value = self._clean_option(data, digit=digit)
        with self.config.transaction():
            menu = self.config.get_row("menus", name)
            m.MenuOption.delete().where(m.MenuOption.menu == menu.id, m.MenuOption.digit == value["digit"]).execute()
            m.MenuOption.create(menu=menu, **value)
            self._check(name)
            self.config.log_change(actor, "update", "menus", name, {"option": value})
        self.config.apply()
        return self.get(name)

    def remove_option(self, name: str, digit: str, actor: str) -> dict:
        with self.config.transaction():
            menu = self.config.get_row("menus", name)
            if not m.MenuOption.delete().where(m.MenuOption.menu == menu.id, m.MenuOption.digit == digit).execute():
                raise NotFound(f"menu {name} has no option for key {digit}", code="menus.no_option")
            self._check(name)
            self.config.log_change(actor, "update", "menus", name, {"removed_option": digit})
        self.config.apply()
        return self.get(name)

    def delete(self, name: str, actor: str) -> None:
        with self.config.transaction():
            menu = self.config.get_row("menus", name)
            leads_in = self._leads_in(menu)
            users = [f"DID {d['did']}" for d in leads_in["dids"]] + [f"menu {x}" for x in leads_in["menus"]]
            if users:
                raise Conflict(f"menu {name} is still used by {', '.join(users)}", code="menus.in_use")
            menu.delete_instance(recursive=False)
            self.config.log_change(actor, "delete", "menus", name, {})
        logger.info("%s deleted menu %s", actor, name)
        self.config.apply()
