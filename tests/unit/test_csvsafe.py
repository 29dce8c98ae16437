from outreach import csvsafe


def test_formula_like_text_is_defused():
    assert csvsafe.row(["=HYPERLINK(\"x\")", "+81", "-1", "@SUM(A1)", "山田", 3]) == [
        "'=HYPERLINK(\"x\")", "+81", "-1", "'@SUM(A1)", "山田", 3]
    assert csvsafe.cell("-abc") == "'-abc"
