"""Build the confgen model from the database and the instance's settings."""

from __future__ import annotations

import logging

from appliance import numbers, sounds
from appliance.confgen.model import (AmiUser, AsteriskModel, CardRoute, Did, FxsPhone, Network, Paths, Phone, Queue,
                                     Trunk)
from appliance.db import models as m

logger = logging.getLogger(__name__)

# site_setting keys of the SIP guard (written by appliance/services/sipguard.py)
PHONE_SUBNETS_KEY = "sip_guard.phone_subnets"
TRUSTED_KEY = "sip_guard.trusted"


def _split(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _survey_prompt(name: str, files) -> tuple[str, ...]:
    """The survey question as Asterisk plays it; empty (the built-in question in the call's
    language) when none is set or found."""
    prompt = m.Prompt.get_or_none(m.Prompt.name == name) if name else None
    if prompt is None or files is None or not files.present(prompt):
        if name:
            logger.error("survey prompt %s is missing; the built-in question is used", name)
        return ()
    return (files.playable(prompt),)


def build_model(paths: Paths, network: Network, ami: AmiUser, prompt_files=None, *,
                dahdi: bool = False, language: str = "zh_CN", card=None) -> AsteriskModel:
    """``card``: what the telephony card has (services/fxs.CardFacts); None: no card."""
    from appliance.services import fxs

    card = card or fxs.CardFacts()
    trunks = tuple(
        Trunk(name=t.name, host=t.host, port=t.port, match=_split(t.match), username=t.username,
              secret=t.secret, register=t.register, codecs=_split(t.codecs), max_channels=t.max_channels,
              outbound_priority=t.outbound_priority)
        for t in m.Trunk.select().order_by(m.Trunk.name)
    )
    phones = tuple(
        Phone(extension=p.extension, secret=p.secret, callerid_name=p.callerid_name, codecs=_split(p.codecs),
              nat=p.nat, webrtc=p.webrtc)
        for p in m.Phone.select().where(m.Phone.kind == "sip").order_by(m.Phone.extension)
    )
    fxs_phones = tuple(
        FxsPhone(p.extension, p.dahdi_channel, p.dahdi_channel in card.fxs_channels)
        for p in m.Phone.select().where(m.Phone.kind == fxs.KIND).order_by(m.Phone.extension)
    )
    card_routes = tuple(
        CardRoute(r.name, fxs.group_of(r.line, r.span), card.capacity(r.line, r.span),
                  fxs.channel_pattern(r.line, r.span, card), r.outbound_priority)
        for r in m.CardRoute.select().order_by(m.CardRoute.name) if card.capacity(r.line, r.span)
    )
    queues = tuple(
        Queue(name=q.name, strategy=q.strategy, ring_timeout=q.ring_timeout, retry=q.retry,
              wrapup_seconds=q.wrapup_seconds, max_wait_seconds=q.max_wait_seconds, musicclass=q.musicclass,
              announce_position=q.announce_position, announce_frequency=q.announce_frequency,
              announce_holdtime=q.announce_holdtime, periodic_announce_seconds=q.periodic_announce_seconds,
              overflow_queue=q.overflow_queue.name if q.overflow_queue_id else None,
              autopause_after=q.autopause_after, survey=q.survey_enabled,
              survey_prompt=_survey_prompt(q.survey_prompt, prompt_files) if q.survey_enabled else (),
              voicemail=q.voicemail)
        for q in m.Queue.select().order_by(m.Queue.name)
    )
    dids = tuple(
        Did(number=d.number, trunk=d.trunk.name if d.trunk_id else None)
        for d in m.Did.select().order_by(m.Did.number)
    )
    agents = tuple(a.number for a in m.Agent.select(m.Agent.number).where(m.Agent.phone.is_null(False))
                   .order_by(m.Agent.number))
    return AsteriskModel(paths=paths, network=network, ami=ami, trunks=trunks, phones=phones,
                         fxs_phones=fxs_phones, card_routes=card_routes, queues=queues, dids=dids, agents=agents,
                         dahdi=dahdi, language=language,
                         blocked_sources=blocked_sources(), phone_subnets=phone_subnets())


def blocked_sources() -> tuple[str, ...]:
    """The SIP sources blocked now (appliance/services/sipguard.py), in address order."""
    rows = m.SipBlock.select(m.SipBlock.address).where(m.SipBlock.ended_at.is_null()).distinct()
    return tuple(sorted(r.address for r in rows))


def phone_subnets() -> tuple[str, ...]:
    """The subnets phones may use (the SIP security page); empty: anywhere."""
    from appliance.engine.sipguard import parse_networks

    row = m.SiteSetting.get_or_none(m.SiteSetting.key == PHONE_SUBNETS_KEY)
    try:
        return tuple(str(n) for n in parse_networks(row.value if row else ""))
    except ValueError as exc:  # validated on save; a bad row must not lock every phone out
        logger.error("the phones' subnets setting has a bad entry %s; phones are allowed from anywhere", exc)
        return ()


def routing_table():
    """The routing configuration as the pure decision reads it (engine.routing.RoutingTable)."""
    import datetime as dt

    from appliance.engine import routing
    from appliance.engine.schedule import ScheduleError, parse

    conditions = {}
    for tc in m.TimeCondition.select():
        try:
            conditions[tc.name] = routing.TimeCondition(parse(tc.schedule), tc.timezone, tc.use_holidays)
        except ScheduleError:  # validated on save; a bad row must not stop every call
            logger.error("time condition %s has an unreadable schedule; its DIDs stay open", tc.name)
    dids = {}
    for d in m.Did.select():
        dids[d.number] = routing.DidRoute(
            queue=d.dest_queue.name if d.dest_queue_id else None,
            time_condition=d.time_condition.name if d.time_condition_id else None,
            after_hours_queue=d.after_hours_queue.name if d.after_hours_queue_id else None,
            require_pin=d.require_pin,
            fax_detect=d.fax_detect,
            menu=d.dest_menu.name if d.dest_menu_id else None,
            after_hours_menu=d.after_hours_menu.name if d.after_hours_menu_id else None,
            after_hours_voicemail=d.after_hours_voicemail, fax=d.fax)
    holidays = {dt.date.fromisoformat(h.date): h.kind for h in m.Holiday.select()}
    blacklist = frozenset(numbers.bare(b.number) for b in m.BlockedNumber.select())
    sticky = {q.name: routing.StickyRule(q.sticky_lookback_days, q.sticky_min_talk_seconds, q.sticky_ring_seconds)
              for q in m.Queue.select().where(m.Queue.sticky_lookback_days > 0)}
    return routing.RoutingTable(dids=dids, time_conditions=conditions, holidays=holidays, blacklist=blacklist,
                                sticky=sticky)


def registering_trunks() -> dict[str, tuple[str, str]]:
    """Trunk name -> (client URI, server URI) of each trunk that registers to its provider."""
    from appliance.confgen.pjsip import registration_uris

    return {t.name: registration_uris(Trunk(name=t.name, host=t.host, port=t.port, username=t.username))
            for t in m.Trunk.select().where(m.Trunk.register == True)}  # noqa: E712


def queue_policies() -> dict:
    """Queue name -> what the live state needs of it (wrap-up, auto-pause, low survey score,
    a disposition before the next call)."""
    from appliance.engine.live import QueuePolicy

    return {q.name: QueuePolicy(wrapup_seconds=q.wrapup_seconds, autopause_after=q.autopause_after,
                                survey_low_score=q.survey_low_score, disposition_required=q.disposition_required)
            for q in m.Queue.select(m.Queue.name, m.Queue.wrapup_seconds, m.Queue.autopause_after,
                                    m.Queue.survey_low_score, m.Queue.disposition_required)}


def menu_table(files):
    """The live voice menus as FastAGI's ``menu`` handler reads them (engine.menus.MenuTable).

    A live menu whose prompt has gone missing since it went live keeps working with a
    beep instead of its greeting (logged): the caller hears something and can still key.
    """
    from appliance.engine.menus import ORDER_STATES, MenuTable, Prompts
    from appliance.services.menus import all_menus, engine_menu

    menus = {}
    prompts = {p.id: p for p in m.Prompt.select()}
    for name, (menu, options) in all_menus(only_live=True).items():
        prompt = prompts.get(menu.prompt_id)
        if prompt is not None and files.present(prompt):
            playable = (files.playable(prompt),)
        else:
            logger.error("menu %s: its prompt is missing; callers hear a beep instead", name)
            playable = ("beep",)
        menus[name] = engine_menu(menu, options, playable)
    first_queue = {}
    for qm in (m.QueueMember.select(m.QueueMember, m.Agent, m.Queue).join(m.Agent).switch(m.QueueMember)
               .join(m.Queue).order_by(m.Queue.name)):
        first_queue.setdefault(qm.agent.number, qm.queue.name)
    agents = {a.number: first_queue.get(a.number, "")
              for a in m.Agent.select(m.Agent.number).where(m.Agent.phone.is_null(False))}
    base = files.builtin_asterisk_dir
    said = {language: Prompts(**{what: sounds.playable(what, language, base) for what in ("invalid", "timeout",
                                                                                         "directory")},
                              orders={state: sounds.playable(f"order-{state}", language, base)
                                      for state in ("none", *ORDER_STATES)},
                              digits={d: sounds.number(d, language, base) for d in "0123456789"})
            for language in sounds.LANGUAGES}
    return MenuTable(menus=menus, queues=frozenset(q.name for q in m.Queue.select(m.Queue.name)), agents=agents,
                     phones=frozenset(p.extension for p in m.Phone.select(m.Phone.extension)), prompts=said)
