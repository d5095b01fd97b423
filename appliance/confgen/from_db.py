"""Build the confgen model from the database and the instance's settings."""

from __future__ import annotations

import logging

from appliance.confgen.model import AmiUser, AsteriskModel, Did, Network, Paths, Phone, Queue, Trunk
from appliance.db import models as m

logger = logging.getLogger(__name__)


def _split(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def build_model(paths: Paths, network: Network, ami: AmiUser, *, dahdi: bool = False) -> AsteriskModel:
    trunks = tuple(
        Trunk(name=t.name, host=t.host, port=t.port, match=_split(t.match), username=t.username,
              secret=t.secret, register=t.register, codecs=_split(t.codecs), max_channels=t.max_channels,
              outbound_priority=t.outbound_priority)
        for t in m.Trunk.select().order_by(m.Trunk.name)
    )
    phones = tuple(
        Phone(extension=p.extension, secret=p.secret, callerid_name=p.callerid_name, codecs=_split(p.codecs),
              nat=p.nat)
        for p in m.Phone.select().where(m.Phone.kind == "sip").order_by(m.Phone.extension)
    )
    queues = tuple(
        Queue(name=q.name, strategy=q.strategy, ring_timeout=q.ring_timeout, retry=q.retry,
              wrapup_seconds=q.wrapup_seconds, max_wait_seconds=q.max_wait_seconds, musicclass=q.musicclass,
              announce_position=q.announce_position, announce_frequency=q.announce_frequency,
              announce_holdtime=q.announce_holdtime, periodic_announce_seconds=q.periodic_announce_seconds,
              overflow_queue=q.overflow_queue.name if q.overflow_queue_id else None,
              autopause_after=q.autopause_after, voicemail=q.voicemail)
        for q in m.Queue.select().order_by(m.Queue.name)
    )
    dids = tuple(
        Did(number=d.number, trunk=d.trunk.name if d.trunk_id else None)
        for d in m.Did.select().order_by(m.Did.number)
    )
    agents = tuple(a.number for a in m.Agent.select(m.Agent.number).where(m.Agent.phone.is_null(False))
                   .order_by(m.Agent.number))
    return AsteriskModel(paths=paths, network=network, ami=ami, trunks=trunks, phones=phones,
                         queues=queues, dids=dids, agents=agents, dahdi=dahdi)


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
            require_pin=d.require_pin, after_hours_voicemail=d.after_hours_voicemail, fax=d.fax)
    holidays = {dt.date.fromisoformat(h.date): h.kind for h in m.Holiday.select()}
    blacklist = frozenset(routing.normalise_number(b.number) for b in m.BlockedNumber.select())
    sticky = {q.name: routing.StickyRule(q.sticky_lookback_days, q.sticky_min_talk_seconds, q.sticky_ring_seconds)
              for q in m.Queue.select().where(m.Queue.sticky_lookback_days > 0)}
    return routing.RoutingTable(dids=dids, time_conditions=conditions, holidays=holidays, blacklist=blacklist,
                                sticky=sticky)


def queue_policies() -> dict:
    """Queue name -> what the live state needs of it (wrap-up, auto-pause)."""
    from appliance.engine.live import QueuePolicy

    return {q.name: QueuePolicy(wrapup_seconds=q.wrapup_seconds, autopause_after=q.autopause_after)
            for q in m.Queue.select(m.Queue.name, m.Queue.wrapup_seconds, m.Queue.autopause_after)}
