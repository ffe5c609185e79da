"""Chinese copy uses full-width punctuation: no ASCII ``? ! , ; :`` right after a Chinese character in the
PWA's messages, the API's ``detail_zh`` sentences or the demo data (issue #25: the demo consultation once
asked its question with an ASCII "?")."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A Chinese character (or a full-width closing mark) followed by ASCII punctuation that ends a phrase; a
# following letter, digit or "/" is code or a URL ("时间:08:00" would be caught, "a,b" is not Chinese).
HALF_WIDTH_AFTER_CHINESE = re.compile(r"[\u4e00-\u9fff\u3001\u3002\uff09\u300d][?!,;:](?![\w/])")
PLACEHOLDER = re.compile(r"\{[^}]*\}|\$\{[^}]*\}")
STRING = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`")


def half_width_in(source: str) -> list[str]:
    """The Chinese string literals of ``source`` (comments left out) with a half-width mark after Chinese.
    A literal with Latin letters outside its placeholders is English (a description naming 普惠 or 晨午检)."""
    found = []
    for line in source.splitlines():
        code = line.split("//", 1)[0] if line.lstrip().startswith("//") else line
        if code.lstrip().startswith("#"):
            continue
        for match in STRING.finditer(code):
            text = next(group for group in match.groups() if group is not None)
            if re.search(r"[A-Za-z]", PLACEHOLDER.sub("", text)):
                continue
            if HALF_WIDTH_AFTER_CHINESE.search(text):
                found.append(text)
    return found


def test_the_check_finds_a_half_width_question_mark() -> None:
    assert half_width_in("const q = '您对延长托育时间有什么建议?'") == ["您对延长托育时间有什么建议?"]
    assert half_width_in('detail_zh="不可用, 请稍后"') == ["不可用, 请稍后"]
    assert half_width_in("const ok = '您有什么建议？'\n// 注释里的 ASCII: 不算") == []
    assert half_width_in("t = '共{count}条: 已读'") == ["共{count}条: 已读"]
    assert half_width_in('summary="收藏: the caller\'s favourites"') == []  # English naming a Chinese term


def test_chinese_copy_uses_full_width_punctuation() -> None:
    files = [
        *sorted((ROOT / "pwa" / "src").rglob("messages.ts")),
        *sorted((ROOT / "pwa" / "src" / "i18n").glob("*.ts")),
        *sorted((ROOT / "backend").rglob("*.py")),
    ]
    offenders = {
        str(path.relative_to(ROOT)): found for path in files if (found := half_width_in(path.read_text("utf-8")))
    }
    assert not offenders, offenders
