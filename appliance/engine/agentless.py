"""What a campaign's call without an agent does next: pure decisions, no I/O
(services/agentless.py carries them out for FastAGI ``campaign``).

Answering-machine detection is Asterisk's AMD() (app_amd).  It listens from the answer:
nothing said for ``initial_silence`` ms is a machine (a person says something at once);
a greeting longer than ``greeting`` ms, or more than ``maximum_number_of_words`` words, is
a machine; a short greeting followed by ``after_greeting_silence`` ms of silence is a
person.  A person in China answers with a word or two (喂？, 喂，你好？: under a second)
and waits; a machine greets in sentences (您好，我现在不方便接听，请在提示音后留言 is four
seconds, well past ``greeting``).  AMD hears 喂，你好？ as three words, and Asterisk's default
of two words would call that person a machine, so four are allowed: a machine is still told
by the length of its greeting.  The rest are Asterisk's defaults (amd.conf says the same, for
an AMD() without arguments).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

AMD_STATUSES = {"MACHINE": "machine", "HUMAN": "human", "NOTSURE": "notsure", "HANGUP": "hangup"}
AMD_ACTIONS = ("hangup", "message", "agent")  # what a campaign does on a machine
KEY_TRIES = 2  # press-key: the message at most this many times when no key, or a wrong one, comes


@dataclass(frozen=True)
class AmdSettings:
    """AMD()'s arguments, in its order (milliseconds, words, a level)."""

    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 4
    silence_threshold: int = 256
    maximum_word_length: int = 5000

    def arguments(self) -> str:
        return ",".join(str(x) for x in astuple(self))


DEFAULT_AMD = AmdSettings()


def amd_result(status: str) -> str:
    """AMDSTATUS as the attempt records it: machine, human, notsure (a hang-up during the
    analysis: ``hangup``)."""
    return AMD_STATUSES.get((status or "").upper(), "notsure")


def after_amd(result: str, action: str) -> str:
    """What the call does after AMD: ``go`` on (a person, or not sure: a person is never
    hung up on), or on a machine the campaign's choice: ``hangup``, ``message`` (left after
    the greeting) or ``agent`` (passed on as if a person)."""
    if result != "machine":
        return "go"
    return action if action in AMD_ACTIONS else "hangup"


def after_key(keys: str, wanted: str, tries: int) -> str:
    """press-key: ``queue`` for the campaign's key, else the message ``again`` while tries
    remain (``tries``: how many times it has been played), else ``bye``."""
    if keys and keys == wanted:
        return "queue"
    return "again" if tries < KEY_TRIES else "bye"


def record_answer(answers: list[str], question: int, keys: str) -> list[str]:
    """The survey's answers with ``keys`` (one key, or '' for none) as question
    ``question``'s (1-based)."""
    out = list(answers) + [""] * max(0, question - len(answers))
    out[question - 1] = keys[:1] if keys[:1].isdigit() else ""
    return out
