"""Templates compiled once per language, with their fixed texts already translated.

A `{% translate "Documents" %}` is looked up in the catalog at every render: a lazy string
made, cast, escaped and un-escaped, about fifty times on the record page. Its result
depends on nothing but the active language and the context's autoescaping, so this loader,
Django's cached loader otherwise, keeps one compiled copy of each template per language
and replaces, in that copy, every translation whose result is fixed by a node that holds
it. The node's result is computed once by the node's own `render`, so the page prints the
same bytes (`tests/portal/test_template_loader.py` compares pages both ways). Each copy
also knows its blocks, which `{% extends %}` otherwise searches for at every render.

Fixed means: `{% translate %}` of a string literal, without filters, `noop`, or a context
that is not a literal; `{% blocktranslate %}` of text alone (no variable, no `with`, no
`count`). Nothing inside `{% language %}` is replaced: it switches the language while
rendering. A template is fetched and rendered under the same language wherever the code
uses one (`render`, `render_to_string`, a `TemplateResponse`, inside `override()`); a
compiled template kept and rendered later under another language would print the
language it was fetched in.
"""

from __future__ import annotations

from typing import Any

from django.template import Context, Node, NodeList, Template, TemplateDoesNotExist
from django.template.backends.django import copy_exception
from django.template.base import TokenType
from django.template.loader_tags import BlockNode
from django.template.loaders import cached
from django.template.loaders.base import Loader as BaseLoader
from django.templatetags.i18n import BlockTranslateNode, LanguageNode, TranslateNode
from django.utils.translation import get_language


class Loader(cached.Loader):
    """Django's cached loader, its cache keyed by the active language as well; each
    template compiled anew for a language has its fixed translations in place."""

    def cache_key(self, template_name: str, skip: Any = None) -> str:
        return f"{super().cache_key(template_name, skip)}|{get_language()}"

    def get_template(self, template_name: str, skip: Any = None) -> Template:
        key = self.cache_key(template_name, skip)
        template = self.get_template_cache.get(key)
        if isinstance(template, Template):
            return template
        if template is not None:  # a miss remembered: Django's loader raises it
            return super().get_template(template_name, skip)
        try:
            template = BaseLoader.get_template(self, template_name, skip)
        except TemplateDoesNotExist as missing:  # remembered as Django's loader does
            self.get_template_cache[key] = (
                copy_exception(missing) if self.engine.debug else TemplateDoesNotExist
            )
            raise
        # Finished, then cached: a template is never seen half done.
        translate_fixed_texts(template)
        template.nodelist = BlocksFoundOnce(template.nodelist)
        self.get_template_cache[key] = template
        return template


class BlocksFoundOnce(NodeList):
    """A template's nodes, with its blocks found once: a page that extends it searches
    the whole tree for them again at every render (`ExtendsNode.render`)."""

    def __init__(self, nodelist: NodeList) -> None:
        super().__init__(nodelist)
        self.contains_nontext = nodelist.contains_nontext
        self.blocks = nodelist.get_nodes_by_type(BlockNode)

    def get_nodes_by_type(self, nodetype: type[Node]) -> list[Node]:
        if nodetype is BlockNode:
            return list(self.blocks)
        return super().get_nodes_by_type(nodetype)


class FixedTranslation(Node):
    """What a translation node printed (or set `as` a variable), for this language."""

    child_nodelists = ()

    def __init__(self, node: Node, escaped: str, raw: str, asvar: str | None) -> None:
        self.token, self.origin = node.token, node.origin
        self.escaped, self.raw, self.asvar = escaped, raw, asvar

    def render(self, context: Context) -> str:
        value = self.escaped if context.autoescape else self.raw
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


def translate_fixed_texts(template: Template) -> None:
    _replace_in(template.nodelist, template)


def _replace_in(nodelist: NodeList, template: Template) -> None:
    for index, node in enumerate(nodelist):
        if isinstance(node, LanguageNode):
            continue
        if _is_fixed(node):
            nodelist[index] = _fixed(node, template)
            continue
        for child in vars(node).values():
            if isinstance(child, NodeList):
                _replace_in(child, template)
            elif isinstance(child, list):  # {% if %}'s (condition, nodelist) pairs
                for item in child:
                    if isinstance(item, tuple) and isinstance(item[-1], NodeList):
                        _replace_in(item[-1], template)


def _is_literal(expression: Any) -> bool:
    if expression is None:
        return True
    return (
        not expression.filters
        and getattr(expression.var, "lookups", True) is None
        and getattr(expression.var, "literal", None) is not None
    )


def _is_fixed(node: Node) -> bool:
    if type(node) is TranslateNode:
        return (
            not node.noop
            and _is_literal(node.filter_expression)
            and _is_literal(node.message_context)
        )
    if type(node) is BlockTranslateNode:
        return (
            not node.extra_context
            and node.counter is None
            and not node.plural
            and all(token.token_type == TokenType.TEXT for token in node.singular)
            and _is_literal(node.message_context)
        )
    return False


def _fixed(node: Node, template: Template) -> FixedTranslation:
    asvar = node.asvar  # type: ignore[attr-defined]
    results = []
    for autoescape in (True, False):
        context = Context(autoescape=autoescape)
        context.template = template
        printed = node.render(context)
        results.append(context[asvar] if asvar else printed)
    return FixedTranslation(node, results[0], results[1], asvar)
