"""A small HTML reader for view tests: elements with their attributes, and the visible text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
INVISIBLE = {"script", "style", "title", "template"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    ancestors: tuple[str, ...]
    parent: Element | None = field(repr=False, compare=False)
    text: str = ""

    def inside(self, tag: str) -> bool:
        return tag in self.ancestors

    def enclosing(self) -> list[Element]:
        """The elements this one is in, the nearest first."""
        found = []
        element = self.parent
        while element is not None:
            found.append(element)
            element = element.parent
        return found


@dataclass
class HtmlPage:
    elements: list[Element] = field(default_factory=list)
    text: str = ""

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            element
            for element in self.elements
            if element.tag == tag
            and all(element.attrs.get(name.rstrip("_")) == value for name, value in attrs.items())
        ]

    def links_to(self, href: str) -> list[Element]:
        return [element for element in self.find_all("a") if element.attrs.get("href") == href]

    def by_id(self, id_: str) -> Element:
        (element,) = self.find_all_with_id(id_)
        return element

    def find_all_with_id(self, id_: str) -> list[Element]:
        return [element for element in self.elements if element.attrs.get("id") == id_]

    def dangling_references(self) -> list[str]:
        """The ids an aria-describedby or aria-labelledby names that no element has."""
        return [
            f"{element.tag} {name}={id_}"
            for element in self.elements
            for name in ("aria-describedby", "aria-labelledby")
            for id_ in element.attrs.get(name, "").split()
            if not self.find_all_with_id(id_)
        ]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = HtmlPage()
        self.open: list[Element] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(
            tag,
            {name: value or "" for name, value in attrs},
            ancestors=tuple(e.tag for e in self.open),
            parent=self.open[-1] if self.open else None,
        )
        self.page.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if any(element.tag in INVISIBLE for element in self.open):
            return
        for element in self.open:
            element.text += data
        self.texts.append(data)


def parse(content: bytes | str) -> HtmlPage:
    reader = _Reader()
    reader.feed(content.decode() if isinstance(content, bytes) else content)
    reader.close()
    page = reader.page
    page.text = " ".join("".join(reader.texts).split())
    for element in page.elements:
        element.text = " ".join(element.text.split())
    return page
