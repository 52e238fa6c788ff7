"""What kind of answer a question expects (English and Indonesian cues), and how to cut it from a sentence.

Typed questions (who, how much, how many, when, where) need a span of that type: a name, an amount,
a number, a date, a place. Other questions get the phrase next to the words they share with the sentence.
All spans are offsets into the document text, so the short answer is verbatim by construction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import stem, terms

_stem = stem


@dataclass(frozen=True)
class QType:
    name: str
    strict: bool  # a sentence without a span of this type cannot answer the question


PERSON = QType("person", True)
MONEY = QType("money", True)
QUANTITY = QType("quantity", True)
DATE = QType("date", True)
PLACE = QType("place", True)
REASON = QType("reason", False)
ENTITY = QType("entity", False)  # "which X ...?": a name or an "... X" phrase, else a phrase
PHRASE = QType("phrase", False)

_CUES = [  # first match wins
    (MONEY, r"\bhow much\b.*\b(cost|price|pay|paid|worth|invest\w*|spend|spent|sell|sold)|\b(cost|price|priced|costs)\b"
            r"|\bharga\b|\bbiaya\b|berapa.*\b(harga|biaya|dolar|euro)"),
    (DATE, r"\bwhen\b|\b(what|which|in what) (year|month|day|date)\b|\bby when\b|\bkapan\b|\btahun berapa\b"
           r"|\bbulan apa\b|\bpada tanggal\b"),
    (QUANTITY, r"\bhow (many|much|large|big|long|old|far|tall|high|fast|heavy)\b|\bwhat (percent|percentage|share|size|level)"
               r"|\bwhat stake\b|\bto what level\b|\bberapa\b"),
    (PERSON, r"\bwho(m|se)?\b|\bsiapa\b"),
    (PLACE, r"\bwhere\b|\bdi ?mana\b|\b(which|what) (country|city|town|plant|factory|region|market)\b|\bke mana\b"),
    (REASON, r"\bwhy\b|\bmengapa\b|\bkenapa\b|\bhow (do|does|did|will|would|can|could|is|are)\b|\bbagaimana\b"),
    (ENTITY, r"\b(which|what)\s+(?!(is|are|was|were|do|does|did|will|would|can|could|should|has|have|had|might|must|may)\b)"
             r"\w+|\bwhat is the name\b|\w+ apa\b"),
]
_AUX = re.compile(r"\b(is|are|was|were|do|does|did|will|would|can|could|should|has|have|had|might|must|may|"
                  r"yang|akan|adalah)\b", re.IGNORECASE)
_CUES = [(t, re.compile(p, re.IGNORECASE)) for t, p in _CUES]

_MONTHS = (r"January|February|March|April|May|June|July|August|September|October|November|December|"
           r"Januari|Februari|Maret|Mei|Juni|Juli|Agustus|Oktober|Desember|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|"
                 r"satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh")
_SCALE = r"(?:\s?(?:million|billion|trillion|bn|mn|juta|miliar|triliun)\b)?"
_NUM = r"\d+(?:[.,]\d+)*"
_STOP_RE = "to|from|and|or|of|in|on|at|by|for|with|than|per|the|a|an|is|are|was|were|will|yang|dan|di|ke|dari"
_PATTERNS = {
    MONEY: [rf"(?:[€$£¥]|Rp\.?\s?|US\$)\s?{_NUM}{_SCALE}(?:\s\((?:[€$£¥]|US\$){_NUM}{_SCALE}\))?",
            rf"{_NUM}{_SCALE}\s(?:euros?|dollars?|yen|pounds?|rupiah|USD|EUR)\b"],
    DATE: [rf"\b(?:\d{{1,2}}\s)?(?:{_MONTHS})\b(?:\s\d{{1,2}}\b)?(?:,?\s(?:19|20)\d{{2}}\b)?",
           r"\b(?:the\s)?(?:end|beginning|start|middle|first half|second half) of (?:next month|next year|this year|"
           rf"(?:{_MONTHS})|(?:19|20)\d{{2}})\b(?:\s(?:19|20)\d{{2}}\b)?",
           r"(?i:\b(?:later|earlier) (?:this|next|in) (?:year|month|week|\d{4})\b|\bnext (?:year|month|week)\b"
           r"|\bthis (?:year|month|week)\b|\blast (?:year|month|week)\b)",
           r"\b(?:19|20)\d{2}\b"],
    QUANTITY: [rf"{_NUM}(?:\s?%|\s?(?:-\s?)?(?:percent|per cent|persen)\b|(?:-|\s)(?:inch|liter|litre|km|kg|kWh|hp|mph|"
               rf"km/h|tonnes?|seats?|doors?)\b)?{_SCALE}(?:\s(?!(?:{_STOP_RE})\b)[a-z]{{3,}}\b)?",
               rf"\b(?:{_NUMBER_WORDS})\b"],
}
_PATTERNS = {t: [re.compile(p) for p in ps] for t, ps in _PATTERNS.items()}
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:[ \t]+(?:(?:de|da|van|von|der|del|di|bin|al)[ \t]+)?[A-Z][\w’'-]*)*")
_TITLES = {"ceo", "boss", "chief", "president", "chairman", "mr", "mrs", "ms", "dr", "director", "head",
           "group", "the", "bos", "direktur", "presiden", "according", "in", "after", "but", "and"}
_REASON_CUE = re.compile(r"\b(because|since|as|so that|so|to|in order to|by|allowing|karena|sebab|agar|untuk|"
                         r"sehingga|supaya|dengan)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[\w’'€$%.,-]*\w[\w’'%-]*|[€$]\S+")
STOPWORDS = set("""a an the of to in on at by for from with and or but is are was were be been being it its this that these
those as into about over under than then so such not no do does did will would can could should may might must has have
had which what who whom whose when where why how there their they them he she his her we our you your i me my also just
only more most very well up out if yet still even some any each other another one same own
yang dan di ke dari ini itu untuk dengan akan pada adalah tidak juga atau oleh dalam sebagai telah sudah
apa siapa kapan mana berapa mengapa bagaimana ada para serta bahwa karena agar lebih""".split())
MAX_PHRASE_WORDS = 8
# Words that name the answer type rather than the thing asked about: never anchors for closeness.
TYPE_WORDS = {_stem(w) for w in """cost costs price priced pay paid worth much many when year month day date who whom
where percent percentage share level size large big long old far stake harga biaya berapa kapan siapa tahun bulan
tanggal mana persen""".split()}


def classify(question: str) -> QType:
    """The answer type a question asks for."""
    for qtype, cue in _CUES:
        if cue.search(question):
            return qtype
    return PHRASE


@dataclass(frozen=True)
class Extraction:
    evidence: tuple[int, int]  # the quoted sentence(s)
    answer: tuple[int, int]  # the short answer, inside the evidence
    closeness: float  # 0..1: how near the answer sits to the question's rarest words


def extract(qtype: QType, question: str, qterms: list[str], idf: dict[str, float], windows) -> Extraction | None:
    """The short answer from the first evidence window holding a span of the asked type (typed questions),
    or, for other questions, the name, reason or phrase nearest the question's words in the matched sentence."""
    qset = set(qterms)
    if not qtype.strict:
        text, _, _, f_start, f_end = windows[0]
        anchors = _anchors(text, f_start, f_end, qset, idf)
        span, close = None, 0.5
        if qtype is ENTITY:
            head = head_noun(question)
            scored = [(_closeness(text, c, anchors, f_start, f_end) + (0.4 if is_head else 0.0), c)
                      for c, is_head in _entities(text, f_start, f_end, head)
                      if not _in_question(text[c[0]:c[1]], qset)]
            if scored:
                close, span = max(scored)
        elif qtype is REASON:  # a reason is a clause: the cued one, else the sentence's own words
            span = _reason(text, f_start, f_end, anchors) or _trim(text, f_start, f_end)
        span = span or _phrase(text, f_start, f_end, qset)
        return Extraction((f_start, f_end), span, min(close, 1.0)) if span else None
    for text, ev_start, ev_end, f_start, f_end in windows:
        cands = [c for c in _typed(qtype, text, ev_start, ev_end) if not _in_question(text[c[0]:c[1]], qset)]
        if cands:
            anchors = _anchors(text, f_start, f_end, qset, idf)
            scored = [(_closeness(text, c, anchors, f_start, f_end), _richness(text, c), c) for c in cands]
            close, _, best = max(scored)
            return Extraction((ev_start, ev_end), best, close)
    return None


def head_noun(question: str) -> str | None:
    """The noun a "which/what X" question asks for ("Which Renault model ..." -> "model"), stemmed."""
    m = re.search(r"\b(?:which|what)\s+(.*)", question, re.IGNORECASE)
    if m:
        phrase = re.split(r"\b(?:from|of|in|on|for|with|to|by)\b", _AUX.split(m.group(1))[0])[0]
        words = [w for w in re.findall(r"[\w-]+", phrase) if w.lower() not in STOPWORDS]
        return _stem(words[-1].lower()) if words else None
    m = re.search(r"(?:^|\b)([\w-]+)(?:\s+[\w-]+)?\s+apa\b", question, re.IGNORECASE)
    return _stem(m.group(1).lower()) if m and m.group(1).lower() not in STOPWORDS else None


_CAPS = re.compile(r"[A-Z][\w’'-]*(?:[ \t]+(?:[A-Z][\w’'-]*|\d[\w.-]*\b))*")
_QUOTED = re.compile(r"“([^”]{2,80})”|\"([^\"]{2,80})\"|«\s?([^»]{2,80}?)\s?»")


def _entities(text: str, start: int, end: int, head: str | None) -> list[tuple[tuple[int, int], bool]]:
    """Candidate names: capitalised runs, quoted terms, and up to three words before the head noun."""
    out = []
    for m in _CAPS.finditer(text, start, end):
        words = list(re.finditer(r"\S+", m.group(0)))
        while words and words[0].group(0).lower() in STOPWORDS:
            words.pop(0)
        if words:
            s, e = m.start() + words[0].start(), m.start() + words[-1].end()
            cut = re.search(r"[’']s\b", text[s:e])
            e = s + cut.start() if cut else e
            e = s + len(text[s:e].rstrip(".,;:’'"))
            if e > s and not _ordinary_word(text, s, e):
                out.append(((s, e), head is not None and head in _stems(text[s:e])))
    for m in _QUOTED.finditer(text, start, end):
        g = next(i for i in (1, 2, 3) if m.group(i))
        out.append(((m.start(g), m.end(g)), head is not None and head in _stems(m.group(g))))
    if head:
        toks = list(re.finditer(r"[\w’'.-]*\w", text[start:end]))
        for i, t in enumerate(toks):
            word = t.group(0).lower()
            if _stem(word) != head and not word.endswith("-" + head):
                continue
            j = i
            while j > 0 and i - j < 3 and toks[j - 1].group(0).lower() not in STOPWORDS \
                    and not re.search(r"[,;:.“”()]", text[start + toks[j - 1].end():start + toks[j].start()]):
                j -= 1
            modifier = text[start + toks[j].start():start + t.start()] if j < i else word.rsplit("-", 1)[0]
            if re.search(r"[A-Z0-9-]", modifier):  # "CMF-CD architecture", not "software company"
                out.append(((start + toks[j].start(), start + t.end()), True))
    return out


def _ordinary_word(text: str, start: int, end: int) -> bool:
    """A lone capitalised word that the text also writes in lower case ("After", "It"): not a name."""
    word = text[start:end]
    if " " in word or not word[:1].isupper() or not word[1:].islower():
        return False
    return re.search(rf"\b{re.escape(word.lower())}\b", text) is not None or word.lower() in STOPWORDS


def _stems(text: str) -> set[str]:
    return set(terms(text))


def _reason(text: str, start: int, end: int, anchors: list[tuple[int, float]]) -> tuple[int, int] | None:
    """The clause introduced by the first reason cue (because, to, so, ...) after the question's words."""
    last = max((p for p, _ in anchors), default=start)
    for cue in _REASON_CUE.finditer(text, start, end):
        if cue.start() <= last:
            continue
        stop = re.search(r"[,;:.!?](?:\s|$)", text[cue.end():end])
        clause_end = cue.end() + stop.start() if stop else end
        words = list(re.finditer(r"\S+", text[cue.start():clause_end]))[:MAX_PHRASE_WORDS * 2]
        if len(words) >= 2:
            return _trim(text, cue.start(), cue.start() + words[-1].end())
    return None


def _typed(qtype: QType, text: str, start: int, end: int) -> list[tuple[int, int]]:
    if qtype is PERSON:
        return [s for s in (_trim_name(text, m.start(), m.end()) for m in _NAME.finditer(text, start, end)) if s]
    if qtype is PLACE:
        return [s for s in (_trim_name(text, m.start(), m.end(), people=False) for m in _NAME.finditer(text, start, end)) if s]
    spans = []
    for pattern in _PATTERNS[qtype]:
        spans += [(m.start(), m.end()) for m in pattern.finditer(text, start, end)]
    if qtype is QUANTITY:  # amounts of money are quantities too
        spans += [(m.start(), m.end()) for p in _PATTERNS[MONEY] for m in p.finditer(text, start, end)]
    return _outermost([_trim_stopword_tail(text, s) for s in spans])


def _trim_stopword_tail(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """"1,5 liter pada" -> "1,5 liter": a unit-less trailing word that is a stop word is not part of it."""
    s, e = span
    last = re.search(r"\s(\w+)$", text[s:e])
    if last and last.group(1).lower() in STOPWORDS:
        e = s + last.start()
    return s, e


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop spans contained in a longer one."""
    spans = sorted(set(spans), key=lambda s: (s[0], -s[1]))
    out: list[tuple[int, int]] = []
    for s in spans:
        if out and s[0] >= out[-1][0] and s[1] <= out[-1][1]:
            continue
        out.append(s)
    return out


def _trim_name(text: str, start: int, end: int, people: bool = True) -> tuple[int, int] | None:
    """Strip leading titles and trailing possessives; people need two words (a first and last name)."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and words[0].group(0).lower().strip(".,") in _TITLES:
        words.pop(0)
    if not words:
        return None
    s, e = start + words[0].start(), start + words[-1].end()
    while e > s and text[e - 1] in ".,;:’'":
        e -= 1
    if text[e - 2:e] in ("’s", "'s"):
        e -= 2
    if people:
        cut = re.search(r"[’']s\b", text[s:e])
        if cut:
            e = s + cut.start()
        tokens = text[s:e].split()
        if len(tokens) < 2 or not all(re.fullmatch(r"[A-Z][\w’'-]*[a-z][\w’'-]*|de|da|van|von|der|del|di|bin|al", t)
                                      for t in tokens):
            return None
    return (s, e) if e > s else None


def _in_question(span: str, qset: set[str]) -> bool:
    words = terms(span)
    return bool(words) and all(w in qset for w in words)


def _anchors(text: str, start: int, end: int, qset: set[str], idf: dict[str, float]) -> list[tuple[int, float]]:
    """(position, weight) of the sentence's words that also occur in the question, weighted by rarity."""
    found = []
    for m in re.finditer(r"\w+", text[start:end]):
        word = m.group(0).lower()
        stem = _stem(word)
        if word not in STOPWORDS and stem in qset and stem not in TYPE_WORDS:
            found.append((start + m.start(), idf.get(stem, 1.0)))
    top = max((w for _, w in found), default=1.0)
    return [(p, w / top) for p, w in found]


def _closeness(text: str, span: tuple[int, int], anchors: list[tuple[int, float]], f_start: int, f_end: int) -> float:
    """Highest rarity-weighted nearness (in words) of a candidate to a question word; halved outside
    the sentence that matched the question."""
    best = 0.0
    for pos, weight in anchors:
        lo, hi = (span[1], pos) if pos >= span[1] else (pos, span[0])
        words = len(re.findall(r"\w+", text[lo:hi])) if hi > lo else 0
        best = max(best, weight / (1 + words / 4))
    return best * (0.5 if span[0] >= f_end or span[1] <= f_start else 1.0)


def _richness(text: str, span: tuple[int, int]) -> int:
    """Prefer an amount with its currency or unit over a bare number."""
    piece = text[span[0]:span[1]]
    return sum(ch in "€$£%" for ch in piece) * 10 + len(piece)


def _phrase(text: str, start: int, end: int, qset: set[str]) -> tuple[int, int] | None:
    """The run of words not in the question that lies nearest to the words that are, trimmed of stop words."""
    toks = [m for m in _TOKEN.finditer(text, start, end)]
    if not toks:
        return None
    in_q = [(_stem(t.group(0).lower().strip(".,")) in qset) or t.group(0).lower() in STOPWORDS for t in toks]
    content_q = [i for i, t in enumerate(toks) if _stem(t.group(0).lower().strip(".,")) in qset
                 and t.group(0).lower() not in STOPWORDS]
    runs, i = [], 0
    while i < len(toks):
        if in_q[i]:
            i += 1
            continue
        j = i
        while j < len(toks) and not (in_q[j] and toks[j].group(0).lower() not in STOPWORDS):
            j += 1
        runs.append((i, j))
        i = j + 1
    runs = [r for r in runs if any(not in_q[k] for k in range(*r))]
    if not runs:
        return None
    anchor = content_q or [0]

    def gap(run):
        return min(min(abs(run[0] - a), abs(run[1] - 1 - a)) for a in anchor)

    i, j = min(runs, key=lambda r: (gap(r), -(r[1] - r[0])))
    if j - i > MAX_PHRASE_WORDS:  # keep the end nearest the question's words
        nearest = min(anchor, key=lambda a: min(abs(i - a), abs(j - 1 - a)))
        i, j = (i, i + MAX_PHRASE_WORDS) if abs(i - nearest) <= abs(j - 1 - nearest) else (j - MAX_PHRASE_WORDS, j)
    return _trim(text, toks[i].start(), toks[j - 1].end())


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Remove stop words and punctuation from both ends of a span."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and words[0].group(0).lower().strip(".,;:“”\"") in STOPWORDS:
        words.pop(0)
    while words and words[-1].group(0).lower().strip(".,;:“”\"") in STOPWORDS:
        words.pop()
    if not words:
        return None
    s, e = start + words[0].start(), start + words[-1].end()
    while e > s and text[e - 1] in ".,;:!?“”\"(":
        e -= 1
    while s < e and text[s] in "“”\"(,":
        s += 1
    return (s, e) if e > s else None


_FIGURE = re.compile(_NUM)
_PERCENT = re.compile(r"%|\b(?:percent|per cent|persen)\b", re.IGNORECASE)
_DIGIT_OR_NUMBER_WORD = re.compile(rf"\d|\b(?:{_NUMBER_WORDS}|half|quarter|third|several|few|dozens|hundreds|"
                                   r"thousands|millions|billions|million|billion|trillion|none|no|zero|all|most|"
                                   r"separuh|setengah|puluhan|ratusan|ribuan|jutaan|beberapa)\b", re.IGNORECASE)
_TIME_UNIT = (r"years?|months?|weeks?|days?|nights?|hours?|minutes?|seconds?|decades?|centur(?:y|ies)|"
              r"tahun|bulan|minggu|hari|malam|jam|menit|detik")
# what else can answer "how many": "fifteen", "twice", "the fifth time", "both", "a majority", "dua belas"
_COUNT_WORD = re.compile(r"\b(?:(?:thir|four|fif|six|seven|eigh|nine)teen(?:th)?|"
                         r"(?:twen|thir|for|fif|six|seven|eigh|nine)(?:ty|tieth)|once|twice|thrice|single|both|pair|"
                         r"couple|never|every|each|majority|minority|"
                         r"infinite(?:ly)?|number|handful|numerous|multiple|many|some|various|countless|nothing|sole|"
                         r"only|first|second|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                         r"duo|trio|quartet|variety|nobody|zillions?|sebelas|seratus|seribu|sejuta|sekali|belas|puluh|"
                         rf"ratus|ribu|kali|banyak|semua)\b|^\W*an?\s+(?:{_TIME_UNIT})\b",  # "a year": one
                         re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow much\b|\bberapa\b|\bwhat (?:price|cost)\b", re.IGNORECASE)
_DATE_WORDS = (rf"{_MONTHS}|{_NUMBER_WORDS}|the|of|in|on|by|early|late|mid|end|years?|months?|weeks?|first|second|"
               r"half|quarter|beginning|start|middle|spring|summer|autumn|fall|winter|next|last|this|later|earlier")
_WORD = re.compile(rf"\b(?!(?:{_DATE_WORDS})\b)[^\W\d_]{{3,}}", re.IGNORECASE)  # a word that is not part of a date
_FREE = re.compile(r"\b(?:free|nothing|gratis|cuma-cuma)\b", re.IGNORECASE)
_CHANGE = re.compile(r"\b(?:increase|increased|rise|rose|risen|fall|fell|grow|grew|drop|dropped|decrease|decreased|"
                     r"change|changed|cut|raise|raised|naik|turun)\b", re.IGNORECASE)
_ASKS_DATE = re.compile(r"^\W*(?:when|kapan)\b|\b(?:what|which|in what) (?:year|month|day|date)\b|\btahun berapa\b"
                        r"|\bbulan apa\b", re.IGNORECASE)
_TIME_NOUNS = {_stem(w) for w in """time period era age decade century year month day date season quarter half phase
point stage moment deadline generation semester term window frame span interval timeline tahun bulan hari tanggal
masa periode""".split()}
_HOW_MANY = re.compile(r"\bhow many\b(?:\s+([^?]*))?", re.IGNORECASE)  # and what it counts
_TIME_WORD = re.compile(rf"\b(?:{_TIME_UNIT})\b", re.IGNORECASE)
# a length of time, a figure and at most two words before its unit ("more than a few rough years")
_DURATION = re.compile(rf"(?:\d|\b(?:{_NUMBER_WORDS}|few|several|couple|many))[\w’'.,-]*"
                       rf"(?:\s+[\w’'-]+){{0,2}}?\s*-?\b(?:{_TIME_UNIT})\W*$", re.IGNORECASE)
_RATE = re.compile(rf"\b(?:per|every|each|an?\s+(?:{_TIME_UNIT})|setiap|tiap)\b", re.IGNORECASE)  # "150,000 a night"
_MONEY_WORDS = re.compile(r"\b(?:money|euros?|dollars?|yen|pounds?|rupiah|cost|costs|price|paid|pay|spend|spent|"
                          r"worth|budget|revenue|sales|profit|loss|funding|invest\w*|harga|biaya)\b", re.IGNORECASE)


# A measured property the question names -> the units an answer to it is given in (English and Indonesian).
_MEASURES = [(re.compile(q, re.IGNORECASE), re.compile(u, re.IGNORECASE)) for q, u in [
    (r"\b(?:power output|engine power|daya mesin)\b|(?<!many )(?<!what )\b(?:horsepower|bhp|tenaga kuda)\b",
     r"\d\s?-?(?:hp|bhp|ps|kw|horsepower|horse-power|tenaga kuda|dk)\b|\bhorsepower\b"),
    (r"\bbattery(?:'s)? (?:capacity|size)\b|\bkapasitas baterai\b",
     r"\d\s?-?(?:kwh|ah|mah|kilowatt[- ]hours?)\b|\bkilowatt[- ]hours?\b"),
    (r"\b(?:driving|electric|battery|wltp|epa|claimed|maximum) range\b|\bjarak tempuh\b",
     r"\d\s?-?(?:km|kilomet(?:er|re)s?|mi|miles?)\b|\b(?:kilomet(?:er|re)s?|miles)\b"),
    (r"\btop speed\b|\bkecepatan maksimum\b|\bkecepatan tertinggi\b",
     r"\d\s?-?(?:km/h|kph|mph|km per hour|miles per hour|knots|kilomet(?:er|re)s per hour|km/jam)"),
]]


def _kinds(span: str) -> set[str]:
    """What a short answer plainly is: money, a percentage, a date, a number, and whether it holds no word
    besides them ("second half of 2023", "49.2%": figures only)."""
    kinds = set()
    if any(p.search(span) for p in _PATTERNS[MONEY]):
        kinds.add("money")
    if _PERCENT.search(span):
        kinds.add("percent")
    if any(p.search(span) for p in _PATTERNS[DATE]):
        kinds.add("date")
    if _DIGIT_OR_NUMBER_WORD.search(span):
        kinds.add("number")
    if not _WORD.search(_PERCENT.sub("", span)):
        kinds.add("figures only")
    return kinds


def misfit(question: str, span: str) -> str:
    """Why `span` cannot answer `question` by its type alone ('' when it can): a count answered with an
    amount of money, a length of time or no number at all, a price with a percentage, a date with a sum, a
    name with a figure, or nothing but the question's own figures. Only plain clashes count; anything unclear
    fits."""
    qtype, kinds = classify(question), _kinds(span)
    given = set(_FIGURE.findall(question))
    left = _FIGURE.sub(lambda m: "" if m.group(0) in given else m.group(0), span)
    if _FIGURE.search(span) and not re.search(r"[^\W_]", left):
        return "it only repeats a figure the question gives"  # "51" for "... Nissan's 51% stake ...?"
    for asked, units in _MEASURES:
        found = asked.search(question) if qtype in (QUANTITY, ENTITY, PHRASE) else None
        if found and not re.search(r"\d\s?-?$", question[:found.start()]) and not units.search(span):
            return f"the question asks for the {found.group(0).lower()}, and no unit of it is given"
    if qtype is MONEY and _HOW_MUCH.search(question):
        if "money" not in kinds and not _FREE.search(span) and (
                "number" not in kinds or ("percent" in kinds and not _CHANGE.search(question))):
            return "the question asks for an amount of money"
    elif qtype is QUANTITY and (how_many := _HOW_MANY.search(question)):
        if "money" in kinds and not _MONEY_WORDS.search(question):
            return "the question asks for a count, not an amount of money"
        if "number" not in kinds and not _COUNT_WORD.search(span):
            return "the question asks for a count, and it holds no number"
        counted = _counted(how_many.group(1) or "")
        if (counted and _DURATION.search(span) and not _RATE.search(span) and not set(terms(counted)) & _stems(span)
                and not _TIME_WORD.search(counted)):
            return "the question asks for a count, not a length of time"
    elif qtype is DATE and _ASKS_DATE.search(question):
        if "money" in kinds or "percent" in kinds:
            return "the question asks for a date"
    elif qtype is ENTITY and {"date", "figures only"} <= kinds:
        if head_noun(question) not in _TIME_NOUNS:
            return "the question asks for a name, not a date"
    elif qtype in (PERSON, PLACE):
        if "money" in kinds or (kinds & {"date", "percent"} and "figures only" in kinds):
            return f"the question asks for a {qtype.name}"
    return ""


def _counted(rest: str) -> str:
    """What a "how many X ...?" question counts, from the words after "how many" ("Twingo-based cars does ..."
    -> "Twingo-based cars"), '' when it names nothing."""
    phrase = re.split(r"\b(?:from|of|in|on|for|with|to|by|at|per)\b", _AUX.split(rest)[0])[0]
    return " ".join(w for w in re.findall(r"[\w’'-]+", phrase) if w.lower() not in STOPWORDS)
