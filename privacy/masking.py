"""Masks personal details in free text, in English and Chinese.

Used before anything a patient typed is stored (tracker store), logged (log
record factory) or sent on (hand-off payload). What is masked, and its token:

- names the patient gives ("my name is", "I'm", "this is", a signature line,
  "Mr ...", 我叫 / 我的名字是 / 我是 + a surname): `[name]`
- street addresses, P.O. boxes, "I live at/in ...", 住在 / 地址是 ...: `[address]`
- postcodes and ZIP codes: `[postcode]`
- ages over 89 (HIPAA's rule: younger ages are not identifying): `[age]`
- ID numbers: US SSN, Chinese ID card, passport or ID card numbers: `[id number]`
- NHS and medical record numbers: `[record number]`
- phone numbers (Chinese mobiles too), e-mail addresses, dates of birth and
  full dates, other runs of 6 or more digits: `[phone]`, `[email]`, `[date]`, `[number]`

Medical words stay readable: "segment VI", "5 mm", "3 to 6 months",
"3到6个月", "CT", "B超". Number boundaries are written with look-arounds on
ASCII letters and digits rather than \\b, because Chinese characters count as
word characters and "电话13812345678" has no \\b before the digits. Log lines
show a message's line breaks as the two characters \\n, so the signature
patterns accept those too, and a name may end where a log line's quote or
Rasa's state dump ("user text: ... | previous action") ends the message.
"""
import logging
import re
from typing import Any, List, Pattern, Text, Tuple

_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_LINE_BREAK = r"(?:\n|\\n)"
# A capitalised word as names are written: "Maria", "O'Neil", "Jean-Luc", "José".
_TITLE_WORD = r"[A-Z\u00c0-\u00de][a-z\u00df-\u00ff'’]+(?:-[A-Z\u00c0-\u00de][a-z\u00df-\u00ff'’]+)?"
_TITLE_NAME = rf"{_TITLE_WORD}(?:[ ]{_TITLE_WORD}){{0,2}}"
# Capitalised words that follow "I'm" / "this is" without being a name.
_NOT_NAMES = (
    "I|A|An|The|In|On|At|From|Not|So|Very|Just|Also|Really|Still|Now|Here|There|Back|Sorry|Fine|Ok|Okay|Good|Well|"
    "Worried|Scared|Afraid|Confused|Glad|Happy|Sad|Sure|Unsure|Pregnant|Diabetic|Male|Female|Type|About|Going|Having|"
    "English|Chinese|British|American|Canadian|Australian|Indian|Irish|Scottish|Welsh|Asian|Christian|Muslim|Jewish|"
    "Segment|Liver|Hepatic|Calcification|Calcified|Stage|Grade|What|How|Why|When|Where|Who|Is|Are|It|This|That|My|Your|"
    "Dr|Doctor|Nurse|Mr|Mrs|Ms|Miss|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Thanks|Thank|Hello|Hi|"
    # Log lines: a traceback's lines must stay readable.
    "File|Traceback"
)
_NAME_AFTER_WEAK_CUE = rf"(?!(?:{_NOT_NAMES})\b){_TITLE_NAME}"
# Words that end a name typed in lower case after "my name is" (or are not one: "call me on ...").
_NOT_NAME_WORDS = (r"and|but|i|im|i'm|my|is|it|so|the|a|an|from|age|aged|here|please|thanks|thank|with|who|what|how|"
                   r"can|could|do|does|was|on|at|back|when|if|after|before|tomorrow|today|anytime|any|via|by")
_ANY_NAME_WORD = rf"(?!(?:{_NOT_NAME_WORDS})\b)[^\W\d_][\w'’-]*"
# The most common Chinese surnames: "我是" + one of these + a given name is a name.
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧"
_HAN = r"[\u4e00-\u9fff]"
_CHINESE_STOP = r"[，。！？、；：,.!?;:\s]"
_STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct|Place|Pl|Boulevard|Blvd|Terrace|Crescent|"
    "Square|Sq|Gardens|Grove|Hill|Parkway|Pkwy|Row|Walk|Mews|Highway|Hwy|Park|Rise|View|Circle|Cir"
)
_CLAUSE_STARTS = (
    r"and|but|so|is|are|can|could|do|does|did|what|how|when|why|should|will|would|which|where|since|i|my|we"
)
_UNITS = r"mm|cm|m|km|miles?|kg|lbs?|months?|weeks?|years?|yrs?|days?|hours?|hrs?|minutes?|mins?|times?|spots?|of|to|or|and|in|on|at|more|less"
_AGE = r"(?P<pii>9\d|1[01]\d)"


def _pattern(regex: Text, ignore_case: bool = False) -> Pattern:
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


# Order matters: the longer identifiers before the digit runs they contain,
# e-mails before names ("maria.lopez@..."), addresses before postcodes.
PATTERNS: List[Tuple[Text, Pattern]] = [
    ("[email]", _pattern(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("[record number]", _pattern(
        r"\b(?:mrn|medical record(?: number| no\.?)?|record (?:number|no\.?)|patient (?:id|number|no\.?)|"
        r"hospital (?:number|no\.?)|nhs (?:number|no\.?)|case (?:number|no\.?))"
        r"\s*(?:is|:|#)?\s*(?:[a-z]{1,3}[- ]?)?\d(?:[\d-]|\s(?=\d))+"
        r"|(?:病历号|住院号|门诊号|病案号)(?:码)?\s*(?:是|为|[:：])?\s*[A-Za-z]{0,3}\d[\d-]*", ignore_case=True)),
    ("[id number]", _pattern(
        r"(?:\b(?:ssn|social security(?: number| no\.?)?|passport(?: number| no\.?)?|id(?: card)? (?:number|no\.?)|"
        r"national insurance(?: number| no\.?)?|ni number|driver'?s licen[cs]e(?: number| no\.?)?)"
        r"|身份证(?:号码|号)?|证件号码?|护照号码?)"
        r"\s*(?:is|是|为|:|：|#)?\s*[A-Za-z]{0,3}\d[\d -]*\d[A-Za-z]?", ignore_case=True)),
    # Chinese resident ID card: region, birth date, sequence, check digit (or X).
    ("[id number]", _pattern(
        rf"{_NOT_ALNUM_BEFORE}[1-9]\d{{5}}(?:18|19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{{3}}[\dXx]{_NOT_ALNUM_AFTER}")),
    ("[id number]", _pattern(rf"{_NOT_ALNUM_BEFORE}\d{{3}}-\d{{2}}-\d{{4}}{_NOT_ALNUM_AFTER}")),
    # UK National Insurance number: QQ 12 34 56 C.
    ("[id number]", _pattern(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")),
    ("[date]", _pattern(
        rf"{_NOT_ALNUM_BEFORE}(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}[/.-]\d{{1,2}}[/.-]\d{{1,2}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}){_NOT_ALNUM_AFTER}"
        # A birthday without a year still identifies: "born on 3 March", "DOB: March 3rd".
        rf"|\b(?:born(?: on)?|birthday(?: is)?|dob|date of birth)\s*(?:is|:)?\s*"
        rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b)(?!,?\s+\d{{4}})",
        ignore_case=True)),
    # 1990年3月7日, 1990年3月: a year alone is not identifying, a month with it is.
    ("[date]", _pattern(r"(?<!\d)\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|(?<!\d)\d{4}[.-]\d{1,2}(?=\s*(?:出生|生))")),
    # Chinese mobiles: 1[3-9]x xxxx xxxx, optionally +86.
    ("[phone]", _pattern(r"(?<!\d)(?:(?:\+|00)?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")),
    # No dots inside: "127.0.0.1" and "1.2.3" are not phone numbers.
    ("[phone]", _pattern(r"(?<![0-9A-Za-z@.])\+?\(?\d[\d ()-]{6,}\d(?![0-9A-Za-z@.])")),
    ("[phone]", _pattern(r"(?<![0-9A-Za-z@.])\d{3}\.\d{3}\.\d{4}(?![0-9A-Za-z@.])")),
    ("[address]", _pattern(
        # "I live at 12 oak road, Leeds": everything to the end of the clause.
        r"(?i:\b(?:i live at|i live on|i'm living at|lives? at|living at|my (?:home )?address is|address is|address:|"
        r"home address:?|i stay at|send (?:it|letters) to))\s+"
        # ...up to a word that starts the question: "... and is it dangerous?"
        rf"(?:(?!\s+(?i:{_CLAUSE_STARTS})\b|\s[-–—]\s)[^.?!;\n]){{3,80}}"
        # "I live in Leeds", "we live in New York": the place names that follow.
        rf"|(?i:\b(?:i|we) (?:live|lived|am living|are living) in)\s+{_TITLE_NAME}"
        rf"|{_NOT_ALNUM_BEFORE}\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,4}})?,?\s+(?:{_TITLE_WORD}\s+){{1,4}}(?:{_STREET_TYPES})\b\.?"
        r"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
        r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|Flat|#)\.?\s*\w+)?"
        rf"(?:,\s*{_TITLE_NAME})?"
        rf"|(?i:{_NOT_ALNUM_BEFORE}\d{{1,5}}[a-z]?\s+(?!(?:{_UNITS})\b)(?:[a-z]+\s+){{1,3}}(?:street|road|avenue|lane|boulevard|terrace|crescent|st|rd|ave)\b)"
        r"|(?i:\b(?:flat|apartment|apt|unit|suite)\s*\d+[a-z]?,\s*\d{1,5}\s+[a-z]+(?:\s+[a-z]+){0,3})"
        r"|(?i:\bp\.?\s?o\.?\s+box\s+\d+)"
        rf"|(?:住在|住址是?|地址是?|家住|家在|住)[:：]?\s*[^，。！？,.!?;；\s]{{2,40}}"
        rf"|{_HAN}{{2,12}}(?:路|街|大道|巷|胡同)\s*\d+\s*号(?:\s*\d+\s*(?:室|楼|栋|单元|层))*")),
    ("[postcode]", _pattern(
        # After the word: "postcode ls1 4ap", "zip 78701", "邮编100020".
        r"(?i:\b(?:post ?code|postal code|zip(?: code)?)\s*(?:is|:)?\s*)[A-Za-z0-9]{2,8}(?:[ -][A-Za-z0-9]{3,4})?"
        r"|(?:邮编|邮政编码)\s*(?:是|为|[:：])?\s*\d{6}"
        # UK postcodes in capitals: "SW1A 1AA", "LS1 4AP", "M1 1AE".
        r"|\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}\b"
        # US ZIP after a state code ("TX 78701"), or ZIP+4 anywhere.
        rf"|(?<=\b[A-Z]{{2}} )\d{{5}}(?:-\d{{4}})?{_NOT_ALNUM_AFTER}|(?<=\b[A-Z]{{2}}, )\d{{5}}(?:-\d{{4}})?{_NOT_ALNUM_AFTER}"
        rf"|{_NOT_ALNUM_BEFORE}\d{{5}}-\d{{4}}{_NOT_ALNUM_AFTER}")),
    # Only the number goes: "I'm [age] years old" (the `pii` group).
    ("[age]", _pattern(
        rf"(?i:\b(?:i'm|i am|im|aged?|age is|age:|he's|she's|is|is now|turned|turning)\s+){_AGE}\b"
        r"(?!\s*(?:mm|cm|%|kg|lbs?|percent|bpm|degrees|°)|[.,]\d)")),
    ("[age]", _pattern(rf"\b{_AGE}(?=\s*-?\s*(?:years?|yrs?|yo\b|y/o|y\.o\.)(?:[- ]old)?)", ignore_case=True)),
    ("[age]", _pattern(rf"(?<!\d){_AGE}(?=\s*(?:周岁|岁))")),
    ("[age]", _pattern(rf"(?:年龄|今年)\s*(?:是|为|[:：])?\s*{_AGE}(?!\d)")),
    ("[name]", _pattern(
        # "name:" right after another word is not the patient's ("action name: ..." in Rasa's logs).
        rf"(?i:\b(?:my name is|my name's|(?<![a-z] )name is|(?<![a-z] )name:|call me|i am called|i'm called|signed)\s+)"
        rf"(?i:{_ANY_NAME_WORD}(?:[ ]{_ANY_NAME_WORD}){{0,2}})"
        rf"|(?i:\b(?:i'm|i am|im|this is)\s+){_NAME_AFTER_WEAK_CUE}"
        rf"|\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+{_TITLE_NAME}"
        # A signature: "Thanks, Maria", "Regards\nJohn Smith", "- Ann" at the end of the message.
        rf"|(?i:\b(?:thanks|thank you|many thanks|regards|kind regards|best regards|best wishes|best|cheers|sincerely|"
        rf"yours|love|from)[,.!]?)(?:\s*{_LINE_BREAK}\s*|[ ]+|\s*[-–—]\s*){_NAME_AFTER_WEAK_CUE}[ \w.'’-]*(?=\s*(?:$|['\"|]|\\n|\n))"
        rf"|(?i:\b(?:greetings|hello|hi|love|regards|best wishes) from\s+){_TITLE_NAME}"
        # ...or on a line of its own after the message, or after a dash: "...?\nMaria Lopez", "... - Ann".
        rf"|(?:{_LINE_BREAK}\s*(?:[-–—~]{{1,2}}\s*)?|\s[-–—~]{{1,2}}\s*){_NAME_AFTER_WEAK_CUE}[ \w.'’-]*(?=\s*(?:$|['\"|]))"
        rf"|(?:我叫|我的名字(?:是|叫)|名字(?:是|叫)|姓名\s*[:：]?|我姓|签名\s*[:：]?)\s*{_HAN}{{1,3}}"
        rf"|(?:我是|这是)[{_SURNAMES}]{_HAN}{{1,2}}(?={_CHINESE_STOP}|$)")),
    ("[id number]", _pattern(rf"{_NOT_ALNUM_BEFORE}[A-Za-z]{{1,3}}\d{{6,}}[A-Za-z]?{_NOT_ALNUM_AFTER}")),
    ("[number]", _pattern(rf"{_NOT_ALNUM_BEFORE}\d{{6,}}{_NOT_ALNUM_AFTER}")),
]


def _replace(token: Text, pattern: Pattern, text: Text) -> Text:
    def substitute(match: "re.Match[Text]") -> Text:
        # A pattern with a `pii` group keeps its context ("I'm [age]"); the rest goes whole.
        if "pii" in pattern.groupindex and match.group("pii") is not None:
            start, end = match.span("pii")
            whole_start = match.start()
            return match.group(0)[: start - whole_start] + token + match.group(0)[end - whole_start:]
        return token

    return pattern.sub(substitute, text)


def mask(text: Text) -> Text:
    for token, pattern in PATTERNS:
        text = _replace(token, pattern, text)
    return text


# Rasa's structured log lines are JSON with non-ASCII text escaped ("\\u738b"):
# shown as the characters, so that Chinese names and addresses are seen and masked.
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape(match: "re.Match[Text]") -> Text:
    character = chr(int(match.group(1), 16))
    # Surrogates and control characters stay escaped: they would break the log line.
    return match.group(0) if not character.isprintable() or 0xD800 <= ord(character) <= 0xDFFF else character


def install_log_masking() -> None:
    """Masks personal details in every log record of this process.

    A record factory rather than a handler filter: Rasa installs its own log
    handlers at start-up, and this catches the records whatever handler prints them.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_personal_details", False):
        return

    def masking_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.msg, record.args = mask(_UNICODE_ESCAPE.sub(_unescape, record.getMessage())), ()
        return record

    masking_record_factory.masks_personal_details = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_record_factory)
