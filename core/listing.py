"""List pages: page, sort and filters read from the address, validated, and kept in every link.

One `Listing` per request. Everything the user chose lives in the query string, so a list can be
bookmarked, shared with a colleague or reloaded; a bad value (``page=abc``, ``sort=DROP``,
``urgence=<script>``) silently falls back to the default — a list never answers 500.

    listing = Listing(
        request.GET,
        sorts={"transmis": ("submitted_at", "id"), "reference": ("reference",)},
        default_sort="-transmis",
        filters={"urgence": choice(["urgent", "normal"]), "evaluatrice": integer, "q": text(200)},
    )
    queryset = listing.order(queryset.filter(**...))  # the sort the user chose, whitelisted
    page = listing.paginate(queryset)                   # Django Paginator, PAGE_SIZE rows
    listing.url(urgence="urgent")                       # "?urgence=urgent&sort=…" (page dropped)

Templates: ``{% include "includes/pager.html" with page=page listing=listing %}`` draws the
accessible pagination; ``{% include "includes/sort_link.html" with link=listing.sort_links.transmis
label="Transmis le" %}`` draws a sortable column header's content (put ``aria-sort`` on the ``<th>``
with ``{% if link.aria_sort %} aria-sort="{{ link.aria_sort }}"{% endif %}``).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import F, ForeignObjectRel, QuerySet
from django.db.models.sql.where import WhereNode

PAGE_SIZE = 25
PAGE, SORT = "page", "sort"


# --- validators: value (str) → cleaned value, or None when it is not acceptable -------------------------


def choice(values: Iterable[str]) -> Callable[[str], str | None]:
    """Accept one of `values` (exact)."""
    allowed = frozenset(str(value) for value in values)
    return lambda value: value if value in allowed else None


def integer(value: str) -> int | None:
    """A positive integer id (at most 12 digits)."""
    value = value.strip()
    return int(value) if value.isdigit() and 0 < len(value) <= 12 and int(value) > 0 else None


def text(max_length: int = 200) -> Callable[[str], str | None]:
    """Free text, stripped, at most `max_length` characters (longer: ignored)."""

    def clean(value: str) -> str | None:
        value = value.strip()
        return value if value and len(value) <= max_length and "\x00" not in value else None

    return clean


# --- pages ------------------------------------------------------------------------------------------------


class PageFirstPaginator(Paginator):
    """Sorts and cuts the page on the rows' ids alone, then reads that page's rows with their joins.

    A list of thousands of visible dossiers then pays for reading twenty wide rows, not for joining and
    sorting all of them; the page is still one query (the ids are its subquery). The ids carry every filter
    of the list, the permission filter first: the rows are read without them (`page_rows`), so that
    PostgreSQL does not build the user's grant set a second time. `count`, when the caller already knows
    it (an aggregate, the grant tables), saves the COUNT query; `ids(offset=, limit=)`, when the caller can
    choose the page's ids more cheaply than the list's query (the grant tables), returns them as a subquery
    in the list's order, or None to let the list choose them.
    """

    def __init__(self, object_list, per_page, *, count: int | None = None, ids=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached_property
        self.ids = ids

    def _get_page(self, object_list, *args, **kwargs):
        if isinstance(object_list, QuerySet) and object_list.ordered:
            query = object_list.query  # the page's slice of the list
            chosen = self.ids and self.ids(offset=query.low_mark, limit=query.high_mark - query.low_mark)
            chosen = object_list.values("pk") if chosen is None else chosen
            object_list = page_rows(self.object_list).filter(pk__in=chosen)  # the page's ids
        return super()._get_page(object_list, *args, **kwargs)


def page_rows(queryset: QuerySet) -> QuerySet:
    """`queryset` (its joins, columns, annotations and order) without its WHERE, to read rows whose ids were
    chosen by it; `queryset` itself where dropping the filters could repeat a row or change an annotation
    (a join to many rows, a GROUP BY, DISTINCT, a filtered relation, a union)."""
    query = queryset.query
    joins = [join for join in query.alias_map.values() if hasattr(join, "join_field")]
    repeats = any(isinstance(join.join_field, ForeignObjectRel) or join.filtered_relation for join in joins)
    if repeats or query.group_by is not None or query.distinct or query.combinator or query.is_sliced:
        return queryset
    rows = queryset.all()
    rows.query.where = WhereNode()
    return rows


# --- the listing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortLink:
    """A sortable column header: where clicking leads, and the state to announce (aria-sort)."""

    url: str
    aria_sort: str  # "ascending", "descending" or "" when the column is not the sort
    active: bool
    descending: bool


class Listing:
    """The page, sort and filters of one list request, validated.

    - `sorts`: URL key → the fields of the ascending order (``("-urgency", "submitted_at", "id")``,
      a "-field" is descending in it); ``sort=key`` is that order, ``sort=-key`` its reverse.
      Anything else: `default_sort`.
    - `filters`: URL parameter → validator (`choice`, `integer`, `text` or any callable returning
      the cleaned value or None). Rejected values are dropped, as if absent.
    - `defaults`: filter values used when the parameter is absent or rejected (e.g. the queue);
      a value equal to its default is left out of the built URLs.
    """

    def __init__(
        self,
        params: Mapping,
        *,
        sorts: Mapping[str, tuple[str, ...]] | None = None,
        default_sort: str = "",
        filters: Mapping[str, Callable[[str], object]] | None = None,
        defaults: Mapping[str, object] | None = None,
        page_size: int | None = None,
    ):
        self.sorts = dict(sorts or {})
        self.default_sort = default_sort
        self.page_size = page_size or PAGE_SIZE
        self.defaults = dict(defaults or {})
        self.filters = {}
        for name, clean in (filters or {}).items():
            raw = params.get(name)
            value = None
            if isinstance(raw, str) and raw != "":
                try:
                    value = clean(raw)
                except (ValueError, TypeError, OverflowError):
                    value = None
            if value is None:
                value = self.defaults.get(name)
            if value is not None:
                self.filters[name] = value
        raw_sort = params.get(SORT)
        self.sort_asked = isinstance(raw_sort, str) and raw_sort.lstrip("-") in self.sorts
        self.sort = raw_sort if self.sort_asked else default_sort
        self.requested_page = params.get(PAGE) if isinstance(params.get(PAGE), str) else None
        self.page: Page | None = None

    # --- reading ----------------------------------------------------------------------------------

    def get(self, name: str, default=None):
        return self.filters.get(name, default)

    def __getitem__(self, name: str):
        """For templates: ``listing.urgence`` is not possible, ``listing.filters.urgence`` is."""
        return self.filters[name]

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def set_default_sort(self, sort: str) -> None:
        """Change the default sort once known (e.g. per queue); a valid sort asked in the address stays."""
        if not self.sort_asked and sort.lstrip("-") in self.sorts:
            self.sort = sort
        self.default_sort = sort

    def set_default(self, name: str, value) -> None:
        """Fix a filter's default once known (e.g. the first non-empty queue); a value already chosen stays."""
        self.defaults[name] = value
        self.filters.setdefault(name, value)

    # --- querysets --------------------------------------------------------------------------------

    def ordering(self) -> list:
        """The order_by() arguments of the chosen sort (nulls last whichever the direction)."""
        terms = []
        for field in self.sorts.get(self.sort_key, ()):
            descending = field.startswith("-") != self.descending  # "-field": descending in the ascending sort
            expression = F(field.lstrip("-"))
            terms.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
        return terms

    def order(self, queryset: QuerySet) -> QuerySet:
        ordering = self.ordering()
        return queryset.order_by(*ordering) if ordering else queryset

    def paginate(self, queryset, count: int | None = None) -> Page:
        """The requested page (`get_page`: a bad or too large number gives the first or last page).

        `count`: the number of rows when already known (e.g. from an aggregate), saving the COUNT query.
        """
        paginator = PageFirstPaginator(queryset, self.page_size, count=count)
        self.page = paginator.get_page(self.requested_page)
        return self.page

    # --- building addresses -----------------------------------------------------------------------

    def params(self, **changes) -> dict:
        """The current parameters with `changes` applied (None removes one); defaults left out."""
        values = {name: value for name, value in self.filters.items() if self.defaults.get(name) != value}
        if self.sort and self.sort != self.default_sort:
            values[SORT] = self.sort
        if self.page is not None and self.page.number > 1:
            values[PAGE] = self.page.number
        for name, value in changes.items():
            dropped = value is None or (name == PAGE and value == 1)
            if dropped or (name in self.defaults and self.defaults[name] == value):
                values.pop(name, None)
            elif name == SORT and value == self.default_sort:
                values.pop(SORT, None)
            else:
                values[name] = value
        return values

    def url(self, **changes) -> str:
        """A query string ("?a=1&b=2", or "?" when empty) keeping the other parameters.

        Changing a filter or the sort goes back to the first page; pass ``page=n`` to move.
        """
        if PAGE not in changes:
            changes[PAGE] = None
        query = urlencode(self.params(**changes))
        return f"?{query}"

    def hidden_fields(self, *names_to_drop: str) -> list[tuple[str, str]]:
        """(name, value) pairs to carry in a GET form's hidden inputs, except the form's own fields."""
        dropped = {PAGE, *names_to_drop}
        return [(name, str(value)) for name, value in self.params().items() if name not in dropped]

    @property
    def previous_url(self) -> str:
        return self.url(page=self.page.previous_page_number()) if self.page and self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(page=self.page.next_page_number()) if self.page and self.page.has_next() else ""

    @property
    def sort_links(self) -> dict[str, SortLink]:
        """Per sortable key: a link that sorts by it (reversing the direction when it is already the sort)."""
        links = {}
        for key in self.sorts:
            active = key == self.sort_key
            descending = active and self.descending
            target = key if descending or not active else f"-{key}"
            if not active and self.default_sort == f"-{key}":
                target = f"-{key}"
            links[key] = SortLink(
                url=self.url(sort=target),
                aria_sort=("descending" if descending else "ascending") if active else "",
                active=active,
                descending=descending,
            )
        return links
