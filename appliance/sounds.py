"""The appliance's own sentences: what callers hear around menus, surveys, messages and
prompt recording, in Chinese (zh_CN) and English (en).  Pure data and names, no I/O.

Every sentence has a Chinese recording of ours; in English most come from Asterisk's core
sounds (Allison Smith's voice, already in the rootfs) and only the sentences those sounds
lack are ours.  Ours were synthesised offline with espeak-ng by
``image_build/make_prompts.py`` from the texts below and are committed as 8 kHz GSM files
(the format of Asterisk's core sounds) under
``rootfs/usr/share/appliance/sounds/<language>/cc-<key>.gsm`` (how, and under which
licence: docs/prompts.md).  ``AsteriskInstance.prepare`` copies them into the
instance's ``lib/sounds``, where Asterisk plays them by absolute path, so the same files
serve the chrooted Asterisk of the tests and the native one of the image.

The language of a call is Asterisk's ``CHANNEL(language)``: a trunk's calls start in the
``caller_language`` setting, a voice menu sets its own, an admin recording prompts hears
their web account's language.  The generated dialplan picks the file for that language
(``confgen.extensions.said``); FastAGI handlers pick it with ``playable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
SOURCE_DIR = Path(__file__).resolve().parent.parent / "rootfs" / "usr" / "share" / "appliance" / "sounds"
FOLDER = "sounds"  # under the Asterisk instance's lib/


@dataclass(frozen=True)
class Sentence:
    key: str
    zh_CN: str
    en: str
    en_core: tuple[str, ...] = ()  # English from Asterisk's core sounds instead of a file of ours
    prompt: bool = False  # also offered as a built-in prompt (menu greeting, survey question)

    def text(self, language: str) -> str:
        return self.zh_CN if language == "zh_CN" else self.en

    def ours(self, language: str) -> bool:
        """Whether this sentence is one of our files in ``language``."""
        return language == "zh_CN" or not self.en_core


SENTENCES = (
    Sentence("welcome", "您好，欢迎致电，请根据语音提示按键选择。",
             "Welcome. Please listen to the following options.", prompt=True),
    Sentence("invalid", "您的输入有误，请重新选择。", "That is not a valid option.",
             ("pm-invalid-option",), prompt=True),
    Sentence("timeout", "您没有按键，请重新选择。", "We did not hear a key. Please choose again.", prompt=True),
    Sentence("directory", "请输入工号，以井号键结束。", "Please enter the number you wish to call.",
             ("vm-enter-num-to-call",), prompt=True),
    Sentence("agent-busy", "您要找的坐席暂时不能接听，转人工服务请按1。", "The agent is unavailable. Press 1.",
             ("vm-isunavail", "vm-press", "digits/1")),
    Sentence("goodbye", "感谢您的来电，再见。", "Goodbye.", ("vm-goodbye",), prompt=True),
    Sentence("not-available", "该服务暂未开通，再见。", "That feature is not available on this line. Goodbye.",
             ("feature-not-avail-line", "vm-goodbye"), prompt=True),
    # the static fallback (rootfs/etc/asterisk/extensions.conf): a caller nothing else can take
    Sentence("noservice", "抱歉，您拨打的服务暂时无法接通，请稍后再拨。再见。",
             "This service is not available right now. Goodbye.", ("ss-noservice", "vm-goodbye")),
    Sentence("one-moment", "请稍候，正在为您转接客户经理，转人工服务请按0。", "One moment please. Press 0.",
             ("one-moment-please", "vm-press", "digits/0")),
    Sentence("survey", "请您对本次服务评分，1到5分，5分为非常满意。",
             "Please rate our service from 1 to 5, where 5 is very satisfied.", prompt=True),
    Sentence("survey-thanks", "感谢您的评价，再见。", "Thank you. Goodbye.", ("auth-thankyou", "vm-goodbye"),
             prompt=True),
    Sentence("pin", "请输入会员密码，以井号键结束。", "Please enter your password.", ("vm-password",)),
    Sentence("pin-wrong", "密码错误。", "Incorrect.", ("vm-incorrect",)),
    Sentence("leave-message", "请在提示音后留言，留言完毕请挂机。", "Please leave your message after the tone.",
             ("vm-intro",)),
    Sentence("message-saved", "您的留言已保存，再见。", "Message saved. Goodbye.", ("vm-msgsaved", "vm-goodbye")),
    # Recording a prompt from a phone (feature code, appliance/agi/handlers/prompt_record.py).
    Sentence("rec-number", "请输入提示音编号，以井号键结束；新建提示音请直接按井号键。",
             "Enter the prompt number, then the hash key. For a new prompt, press hash only."),
    Sentence("rec-no-prompt", "没有这个编号的可录制提示音。", "There is no prompt with that number that can be recorded."),
    Sentence("rec-start", "请在提示音后开始录音，录完请按井号键。", "Record after the tone. Press hash when you are done."),
    Sentence("rec-review", "保存录音请按1，重新录制请按2。", "Press 1 to keep this recording, or 2 to record it again."),
    Sentence("rec-bad", "录音太短或声音太小，请重新录制。", "The recording was too short or too quiet. Please record it again."),
    Sentence("rec-saved", "录音已保存，提示音编号为", "Saved as prompt number"),
    Sentence("rec-denied", "此话机无权录制提示音，再见。", "This phone may not record prompts. Goodbye."),
    # a number the phone's calling permission does not allow (FastAGI calling, services/calling.py)
    Sentence("not-permitted", "此话机无权拨打该号码，再见。", "That feature is not available on this line. Goodbye.",
             ("feature-not-avail-line", "vm-goodbye")),
    # a campaign's answered call that no agent can take (services/dialer.py): said at once, the call abandoned
    Sentence("campaign-no-agent", "抱歉，现在没有空闲的客服，我们稍后再联系您。",
             "Sorry, no agent is free now. We will call you back later."),
    # the voice menu's order-status action (engine/menus.py): the caller's latest order
    Sentence("order-none", "没有查到您的订单。", "We found no order for your number."),
    Sentence("order-review", "您最近的订单正在审核中。", "Your latest order is waiting for review."),
    Sentence("order-approved", "您最近的订单已审核，正在准备发货。", "Your latest order is approved and will ship soon."),
    Sentence("order-rejected", "您最近的订单未通过审核，请联系客服。", "Your latest order was not approved. Please ask an agent."),
    Sentence("order-shipped", "您最近的订单已发货，运单号是", "Your latest order has shipped. The tracking number is"),
    Sentence("order-delivered", "您最近的订单已签收。", "Your latest order was delivered."),
    Sentence("order-returned", "您最近的订单已退货。", "Your latest order was returned."),
    Sentence("order-cancelled", "您最近的订单已取消。", "Your latest order was cancelled."),
    # Values of a call list's columns said in a campaign's notification (engine/saying.py):
    # the words numbers, dates and amounts are made of besides the digits.
    Sentence("say-liang", "两", "two", ("digits/2",)),  # 2 before 百, 千, 万, 亿: 两千, not 二千
    Sentence("say-ten", "十", "ten", ("digits/10",)),
    Sentence("say-hundred", "百", "hundred", ("digits/hundred",)),
    Sentence("say-thousand", "千", "thousand", ("digits/thousand",)),
    Sentence("say-wan", "万", "ten thousand", ("digits/10", "digits/thousand")),
    Sentence("say-yi", "亿", "hundred million", ("digits/hundred", "digits/million")),
    Sentence("say-point", "点", "point"),
    Sentence("say-minus", "负", "minus", ("digits/minus",)),
    Sentence("say-year", "年", "year"),
    Sentence("say-month", "月", "month"),
    Sentence("say-day", "日", "day"),
    Sentence("say-yuan", "元", "yuan"),
    Sentence("say-jiao", "角", "jiao"),
    Sentence("say-fen", "分", "cents"),
) + tuple(Sentence(f"digit-{d}", text, str(d), (f"digits/{d}",))
          for d, text in enumerate("零一二三四五六七八九"))

BY_KEY = {s.key: s for s in SENTENCES}


def file_stem(key: str) -> str:
    return f"cc-{key}"


def files(language: str) -> list[tuple[Sentence, str]]:
    """Our files in ``language``: (sentence, path relative to the sounds folder, no extension)."""
    return [(s, f"{language}/{file_stem(s.key)}") for s in SENTENCES if s.ours(language)]


def language_of(language: str) -> str:
    """One of ``LANGUAGES``: anything else is English (Asterisk's own fallback too)."""
    return language if language in LANGUAGES else "en"


def playable(key: str, language: str, base: str) -> tuple[str, ...]:
    """What Asterisk plays for sentence ``key`` in ``language``; ``base`` is the sounds
    folder as Asterisk sees it."""
    sentence = BY_KEY[key]
    language = language_of(language)
    if not sentence.ours(language):
        return sentence.en_core
    return (f"{base}/{language}/{file_stem(key)}",)


def number(digits: str, language: str, base: str) -> tuple[str, ...]:
    """A number said digit by digit."""
    return tuple(p for d in digits if d.isdigit() for p in playable(f"digit-{d}", language, base))
