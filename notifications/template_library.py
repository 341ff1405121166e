"""The only tags and filters a notification template may use: the engine of
``notifications.rendering`` has this library as its sole builtin, so
anything else is unknown to it, even in a row written straight to the
database.

An allow-list, not a deny-list: a tag or filter that a later Django adds is
refused until someone decides it belongs in an email. Left out on purpose:
``autoescape`` and the ``safe``/``safeseq`` filters (they un-escape client
data in HTML mail), ``debug`` and ``pprint`` (they dump the context and the
loaded modules), ``url``, ``csrf_token``, ``querystring``, ``lorem``, ``load``,
``include``, ``extends``, ``block`` and the partials (other templates, tag
libraries and request data have no place in a message), ``json_script``, and
the filters whose output can grow far beyond their input (``ljust``,
``rjust``, ``center``, ``stringformat``, ``floatformat``, ``add``, ``join``,
``make_list``) or that have had costly regular expressions (``urlize``).
"""

from django.template import Library, defaultfilters, defaulttags

# Tags that open a construct, with the words that continue or close it.
ALLOWED_TAGS: dict[str, tuple[str, ...]] = {
    "if": ("elif", "else", "endif"),
    "for": ("empty", "endfor"),
    "with": ("endwith",),
    "comment": ("endcomment",),
    "filter": ("endfilter",),
    "spaceless": ("endspaceless",),
    "verbatim": ("endverbatim",),
    "ifchanged": ("else", "endifchanged"),
    "firstof": (),
    "cycle": (),
    "resetcycle": (),
    "now": (),
    "templatetag": (),
}
ALLOWED_TAG_WORDS: frozenset[str] = frozenset(ALLOWED_TAGS).union(*ALLOWED_TAGS.values())

ALLOWED_FILTERS: frozenset[str] = frozenset(
    {
        "capfirst",
        "cut",
        "date",
        "default",
        "default_if_none",
        "divisibleby",
        "escape",
        "first",
        "force_escape",
        "last",
        "length",
        "linebreaks",
        "linebreaksbr",
        "lower",
        "pluralize",
        "slice",
        "slugify",
        "striptags",
        "time",
        "title",
        "truncatechars",
        "truncatewords",
        "upper",
        "urlencode",
        "wordcount",
        "wordwrap",
        "yesno",
    }
)

register = Library()
register.tags.update({name: defaulttags.register.tags[name] for name in ALLOWED_TAGS})
register.filters.update({name: defaultfilters.register.filters[name] for name in ALLOWED_FILTERS})
