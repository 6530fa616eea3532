"""core.listing: page, sort and filters read from the address, validated, kept in every link."""

from django.http import QueryDict
from django.template.loader import render_to_string

from core.listing import PAGE_SIZE, Listing, choice, integer, text


def make(query: str = "", **options) -> Listing:
    options.setdefault("sorts", {"transmis": ("submitted_at", "id"), "reference": ("reference",)})
    options.setdefault("default_sort", "-transmis")
    options.setdefault("filters", {"urgence": choice(["urgent", "normal"]), "evaluatrice": integer, "q": text(20)})
    return Listing(QueryDict(query), **options)


def test_defaults_when_nothing_is_asked():
    listing = make()
    assert listing.filters == {}
    assert listing.sort == "-transmis"
    assert listing.url() == "?"


def test_valid_values_are_read():
    listing = make("urgence=urgent&evaluatrice=12&q=SIG-2025&sort=reference")
    assert listing.filters == {"urgence": "urgent", "evaluatrice": 12, "q": "SIG-2025"}
    assert listing.sort == "reference" and not listing.descending
    assert [str(term) for term in listing.ordering()] == [str(term) for term in make("sort=reference").ordering()]


def test_bad_values_fall_back_to_defaults():
    listing = make(
        "urgence=%3Cscript%3E&evaluatrice=-3&q=" + "x" * 21 + "&sort=DROP&page=abc", defaults={"urgence": "normal"}
    )
    assert listing.filters == {"urgence": "normal"}
    assert listing.sort == "-transmis"
    assert make("evaluatrice=99999999999999999999").filters == {}
    assert make("evaluatrice=1e3").filters == {}
    assert make("sort=-DROP").sort == "-transmis"


def test_urls_keep_the_other_parameters_and_reset_the_page():
    listing = make("urgence=urgent&q=abc&sort=reference&page=2")
    listing.paginate(list(range(60)))
    assert listing.page.number == 2
    assert listing.url(urgence="normal") == "?urgence=normal&q=abc&sort=reference"
    assert listing.url(urgence=None) == "?q=abc&sort=reference"
    assert listing.next_url == "?urgence=urgent&q=abc&sort=reference&page=3"
    assert listing.previous_url == "?urgence=urgent&q=abc&sort=reference"
    assert listing.hidden_fields("q") == [("urgence", "urgent"), ("sort", "reference")]


def test_default_values_are_left_out_of_urls():
    listing = make("urgence=normal", defaults={"urgence": "normal"})
    assert listing.url() == "?"
    assert listing.url(urgence="urgent") == "?urgence=urgent"
    listing.set_default("evaluatrice", 4)
    assert listing.get("evaluatrice") == 4 and listing.url() == "?"


def test_pagination_is_server_side_and_tolerant():
    rows = list(range(PAGE_SIZE * 2 + 1))
    assert make("page=abc").paginate(rows).number == 1
    assert make("page=999").paginate(rows).number == 3
    assert list(make("page=2").paginate(rows).object_list) == rows[PAGE_SIZE : PAGE_SIZE * 2]


def test_sort_links_say_their_state():
    links = make("sort=reference").sort_links
    assert links["reference"].aria_sort == "ascending" and links["reference"].url == "?sort=-reference"
    assert links["transmis"].aria_sort == "" and links["transmis"].url == "?"  # its default direction
    links = make().sort_links
    assert links["transmis"].aria_sort == "descending" and links["transmis"].url == "?sort=transmis"


def test_pager_and_sort_templates():
    listing = make("q=a&page=2")
    page = listing.paginate(list(range(80)))
    html = render_to_string("includes/pager.html", {"page": page, "listing": listing})
    assert 'aria-label="Pagination"' in html and "Page 2 sur 4" in html
    assert 'href="?q=a&amp;page=3"' in html and 'href="?q=a"' in html
    assert render_to_string("includes/pager.html", {"page": make().paginate([1]), "listing": make()}).strip() == ""
    html = render_to_string("includes/sort_th.html", {"link": make().sort_links["transmis"], "label": "Transmis le"})
    assert 'aria-sort="descending"' in html and "Transmis le" in html
