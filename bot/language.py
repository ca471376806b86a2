"""The language a conversation is answered in: hints, explicit switches and context.

``choose_language`` combines, in order of authority: an explicit request to switch
("English please", "auf Deutsch", "по-русски", "한국어로", "請用繁體中文"), the detected
language of the message when the evidence is strong, the conversation's current language,
and the client's hint (Telegram ``language_code``, a browser locale) as a prior.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from bot.langid import SUPPORTED, Detection, is_traditional

#: An explicit switch is essentially the whole message: at most this long.
SWITCH_MAX_CHARS = 48
#: Below this confidence, weak evidence gives way to the hint (no conversation yet).
WEAK_MIN_CONFIDENCE = 0.9
#: Regions whose Chinese is written in Traditional characters.
TRADITIONAL_REGIONS = frozenset({"TW", "HK", "MO"})
#: Language subtags that map onto a supported tag directly (Cantonese is written Traditional).
_DIRECT = {"en": "en", "de": "de", "ru": "ru", "ko": "ko", "yue": "zh-Hant"}
#: Language names, in every supported language, → tag (``zh``: Chinese, script not named).
_NAMES = {
    "en": "english|englisch|английский|английском|по-английски|英文|英语|英語|영어",
    "de": "german|deutsch|немецкий|немецком|по-немецки|德文|德语|德語|독일어",
    "ru": "russian|russisch|русский|русском|по-русски|俄文|俄语|俄語|러시아어",
    "ko": "korean|koreanisch|корейский|корейском|по-корейски|韩文|韩语|韓文|韓語|한국어|한국말",
    "zh-Hans": (
        "simplified chinese|chinese simplified|vereinfachtes chinesisch|упрощенный китайский"
        "|упрощенном китайском|简体中文|简体|簡體中文|簡體|简中|중국어 간체|간체"
    ),
    "zh-Hant": (
        "traditional chinese|chinese traditional|traditionelles chinesisch"
        "|традиционный китайский|традиционном китайском|繁體中文|繁体中文|繁體|繁体|繁中"
        "|중국어 번체|번체"
    ),
    "zh": "chinese|chinesisch|китайский|китайском|по-китайски|中文|汉语|漢語|华语|華語|중국어",
}
_PREFIX = (
    "please|pls|plz|can you|could you|can we|could we|let's|lets|do you|i want|i need"
    "|bitte|können sie|kannst du|könnten sie|sprechen sie|sprichst du|ich möchte|ich will"
    "|пожалуйста|можно|давайте|вы можете|можете|请|請|我要|可以|麻烦|麻煩"
)
_VERB = (
    "speak|talk|write|reply|answer|respond|continue|use|switch to|change to"
    "|change language to|switch language to|antworten|schreiben|sprechen|wechseln zu"
    "|wechsle zu|umstellen auf|говорите|говорить|пишите|писать|ответьте|отвечайте"
    "|переключите на|перейдите на|перейдем на|用|說|说|講|讲|換成|换成|改用|切換到|切换到|改成"
)
_SUFFIX = (
    "please|pls|plz|only|language|bitte|sprache|sprechen|schreiben|antworten|пожалуйста"
    "|язык|языке|吧|谢谢|謝謝|好吗|好嗎|可以吗|可以嗎|回答|回覆|回复|交流"
    "|(?:으로|로)(?:\\s?(?:해|말해|답해|대답해|얘기해|이야기해|써|바꿔|변경해)"
    "\\s?(?:주세요|줘요|줘|주십시오|주실래요))?요?|부탁해요|부탁합니다|부탁드립니다|주세요"
)
_NAME_GROUPS = "|".join(f"(?P<{tag.replace('-', '_')}>{names})" for tag, names in _NAMES.items())
_SWITCH = re.compile(
    f"(?:(?:{_PREFIX})\\s?){{0,2}}(?:(?:{_VERB})\\s?)?(?:(?:in|auf|на)\\s)?"
    f"(?:{_NAME_GROUPS})(?:\\s?(?:{_SUFFIX})){{0,2}}"
)
_NOT_WORD = re.compile(r"[^\w\s'-]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """The language to answer one message in.

    Attributes:
        language: The tag to answer in (always one of ``SUPPORTED``).
        switched: ``language`` differs from the conversation's current language.
        explicit: The customer asked for the language (``explicit_switch``).
        unsupported: The unsupported language the message is in, if so.
        rest: The message's other sentences when one sentence asked for the language
            ("Please answer in Russian. Where is my order?"): answered in it.
    """

    language: str
    switched: bool
    explicit: bool
    unsupported: str | None
    rest: str | None = None


def normalize_tag(hint: str | None) -> str | None:
    """Map a client's language hint to a supported tag.

    Args:
        hint: A BCP-47 tag or POSIX locale ("en-US", "zh-TW", "zh-Hant-TW", "de_DE").

    Returns:
        One of ``SUPPORTED``, or None for an empty, unknown or unsupported hint.
    """
    if not hint or not hint.strip():
        return None
    tag = hint.strip().split(".")[0].split("@")[0].replace("-", "_")
    parts = [part for part in tag.split("_") if part]
    if not parts or parts[0].lower() == "und":
        return None
    try:
        locale = Locale.parse(tag)
        language, script, region = locale.language, locale.script, locale.territory
    except (ValueError, TypeError, UnknownLocaleError):
        language, script, region = parts[0].lower(), None, None
        for part in parts[1:]:
            if len(part) == 4:
                script = part.title()
            elif len(part) == 2:
                region = part.upper()
    if language == "zh":
        traditional = script == "Hant" or (script is None and region in TRADITIONAL_REGIONS)
        return "zh-Hant" if traditional else "zh-Hans"
    return _DIRECT.get(language)


def _requested(text: str) -> str | None:
    """The language a short message asks for (``zh`` when no script is named)."""
    if len(text) > SWITCH_MAX_CHARS * 2:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    folded = _SPACES.sub(" ", _NOT_WORD.sub(" ", folded)).strip()
    if not folded or len(folded) > SWITCH_MAX_CHARS:
        return None
    match = _SWITCH.fullmatch(folded)
    if match is None:
        return None
    return next(name.replace("_", "-") for name, value in match.groupdict().items() if value)


def _chinese_script(text: str, current: str | None, hint: str | None) -> str:
    """Simplified or Traditional for a request that names no script."""
    if current in ("zh-Hans", "zh-Hant"):
        return current
    if is_traditional(text):
        return "zh-Hant"
    return "zh-Hant" if normalize_tag(hint) == "zh-Hant" else "zh-Hans"


def explicit_switch(text: str) -> str | None:
    """Recognise a clear request to switch language ("English please", "請用繁體中文").

    The request must be essentially the whole (short) message; a sentence that merely
    mentions a language ("do you support German?") is not one.

    Args:
        text: The customer's message.

    Returns:
        The requested tag, or None.
    """
    requested = _requested(text)
    if requested == "zh":
        return _chinese_script(text, None, None)
    return requested


def choose_language(
    detection: Detection,
    text: str,
    current: str | None,
    hint: str | None,
    sentences: Sequence[str] = (),
) -> LanguageChoice:
    """Choose the language to answer a message in.

    In order: an explicit switch wins (a request for "Chinese" keeps a Chinese
    conversation's script). A message in an unsupported language is answered in English
    by the caller (``unsupported`` is set) while the conversation keeps its language:
    ``language`` is the current language, else the hint's, else ``en``. Without language
    signal the conversation keeps its language (else the hint's, else ``en``). Strong
    evidence (a script, or a confident verdict on a real sentence) sets the language; weak
    evidence ("Hallo", "Name") does not change an established conversation, and in a new
    one gives way to the hint when it is not confident. Han text written the same in both
    scripts keeps a Chinese conversation's script and otherwise follows a ``zh-Hant`` hint.

    Args:
        detection: The message's detection.
        text: The message.
        current: The conversation's language, None for a new conversation.
        hint: The client's language hint (any form ``normalize_tag`` accepts).
        sentences: The message's sentences, when it has several: one of them may be the
            request, the others are then the ``rest``.

    Returns:
        The choice.
    """
    current = current if current in SUPPORTED else normalize_tag(current)
    requested, asked, rest = _requested(text), text, None
    several = sentences if requested is None and len(sentences) > 1 else ()
    for index, sentence in enumerate(several):
        requested = _requested(sentence)
        if requested is not None:
            asked = sentence
            rest = " ".join(other for j, other in enumerate(sentences) if j != index)
            break
    if requested is not None:
        if requested == "zh":
            requested = _chinese_script(asked, current, hint)
        return LanguageChoice(requested, requested != current, True, None, rest or None)
    language = _detected(detection, current, normalize_tag(hint))
    return LanguageChoice(language, language != current, False, detection.unsupported)


def _detected(detection: Detection, current: str | None, hint: str | None) -> str:
    """The language the detection (with context and hint) leads to."""
    fallback = current or hint or "en"
    found = detection.language
    if found is None:
        return fallback
    if detection.ambiguous_script:
        if current in ("zh-Hans", "zh-Hant"):
            return current
        return "zh-Hant" if hint == "zh-Hant" else found
    if detection.strong or found == current:
        return found
    if current is not None:
        return current
    if hint is not None and detection.confidence < WEAK_MIN_CONFIDENCE:
        return hint
    return found
