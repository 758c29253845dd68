"""Cutting a long list into pages that Telegram accepts."""

from handlers.paging import paginate, utf16_len


def test_pages_hold_at_most_per_page_items_and_cover_the_list_once():
    items = list(range(25))
    pages = [paginate(items, n, per_page=10) for n in range(3)]
    assert [p.items for p in pages] == [items[:10], items[10:20], items[20:]]
    assert {(p.number, p.count, p.start) for p in pages} == {(0, 3, 0), (1, 3, 10), (2, 3, 20)}


def test_long_lines_make_shorter_pages_within_the_budget():
    lines = ["x" * 90] * 30 + ["😀" * 45] * 30  # each emoji is two UTF-16 units
    budget = 1000
    pages, number = [], 0
    while True:
        page = paginate(lines, number, per_page=50, line=str, budget=budget)
        pages.append(page.items)
        if number + 1 == page.count:
            break
        number += 1
    assert sum(map(len, pages)) == 60
    assert all(sum(utf16_len(line) + 1 for line in page) <= budget for page in pages)
    assert len(pages[0]) == 10  # 10 lines of 91 units fit in 1000, 11 would not


def test_a_page_number_out_of_range_shows_the_nearest_page_and_an_empty_list_one_page():
    assert paginate([1, 2, 3], 99, per_page=2).items == [3]
    assert paginate([1, 2, 3], -1, per_page=2).items == [1, 2]
    empty = paginate([], 5)
    assert (empty.items, empty.number, empty.count, empty.single) == ([], 0, 1, True)


def test_a_line_longer_than_the_budget_still_gets_a_page_of_its_own():
    page = paginate(["y" * 5000, "z"], 0, line=str, budget=100)
    assert page.items == ["y" * 5000] and page.count == 2
