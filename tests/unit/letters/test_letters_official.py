"""Official letters: the facts a patron reads, the layout rules, large print and embedded fonts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4

from letters import (
    Addressee,
    ApplicantDetails,
    LetterData,
    LetterDataError,
    LetterKind,
    OverdueItem,
    WordingError,
    render_letter,
    render_letters,
)
from letters.official import LARGE_PRINT_MIN_PT
from outreach.types import Service

ISSUED = date(2026, 11, 21)
EXTRA = {"max_books": 15, "max_av": "２", "loan_period": "１か月"}


def _letter(library, addressee, kind: LetterKind, **kw) -> LetterData:
    base = dict(
        kind=kind,
        library=library,
        service=Service.HOME_DELIVERY,
        issued_on=ISSUED,
        document_number="西図読第123号",
        addressee=addressee,
    )
    base.update(kw)
    return LetterData(**base)


def _all_kinds(library, addressee, **kw) -> list[LetterData]:
    return [
        _letter(
            library,
            addressee,
            LetterKind.APPROVAL,
            applied_on=date(2026, 11, 10),
            valid_from=date(2026, 12, 1),
            valid_until=date(2029, 11, 30),
            extra_values=EXTRA,
            **kw,
        ),
        _letter(
            library,
            addressee,
            LetterKind.REJECTION,
            applied_on=date(2026, 11, 10),
            rejection_reason="要介護認定が要介護１のため、要件（要介護２以上）を満たしていません。",
            **kw,
        ),
        _letter(
            library,
            addressee,
            LetterKind.RENEWAL_NOTICE,
            valid_from=date(2023, 12, 1),
            valid_until=date(2026, 11, 30),
            renewal_deadline=date(2026, 11, 16),
            **kw,
        ),
        _letter(
            library,
            addressee,
            LetterKind.SERVICE_ENDED,
            ended_on=date(2026, 11, 30),
            ending_reason="施設に入所されたため",
            **kw,
        ),
        _letter(
            library,
            addressee,
            LetterKind.OVERDUE_REMINDER,
            overdue_items=[
                OverdueItem("羊と鋼の森", date(2026, 10, 21), "1000123456790"),
                OverdueItem("デイジー版 ことばの贈りもの", date(2026, 10, 22)),
            ],
            **kw,
        ),
        LetterData(kind=LetterKind.APPLICATION_FORM, library=library, service=Service.HOME_DELIVERY, **kw),
    ]


def test_approval_states_number_date_addressee_period_and_form_number(library, patron, read_pdf) -> None:
    pdf = render_letter(_all_kinds(library, patron)[0])
    text = read_pdf.text(pdf)
    for fact in (
        "様式第２号（第４条関係）",
        "西図読第123号",
        "令和8年（2026年）11月21日",
        "〒663-8035",
        "西宮市北口町1番2号",
        "アクタ西宮東館 505号室",
        "山田 花子　様",
        "西宮市立中央図書館長",
        "宅配サービス承認書",
        "令和8年11月10日付けで申込みのありました宅配サービス",
        "令和8年12月1日から令和11年11月30日まで",
        "図書15冊まで",
        "【お問い合わせ先】",
        "0798-33-0189",
    ):
        assert fact in text, fact


def test_rejection_uses_form_3_and_gives_the_reason(library, patron, read_pdf) -> None:
    text = read_pdf.text(render_letter(_all_kinds(library, patron)[1]))
    assert "様式第３号" in text and "宅配サービス不承認通知書" in text
    assert "要介護認定が要介護１のため" in text and "承認しないこととしました" in text


def test_renewal_notice_gives_expiry_and_deadline(library, patron, read_pdf) -> None:
    text = read_pdf.text(render_letter(_all_kinds(library, patron)[2]))
    assert "承認期間は、令和8年11月30日で満了" in text
    assert "令和8年11月16日までにお申し込みください" in text
    assert "令和5年12月1日から令和8年11月30日まで" in text


def test_service_ended_gives_date_and_reason(library, patron, read_pdf) -> None:
    text = read_pdf.text(render_letter(_all_kinds(library, patron)[3]))
    assert (
        "宅配サービス終了のお知らせ" in text and "令和8年11月30日" in text and "施設に入所されたため" in text
    )


def test_overdue_reminder_lists_every_item_with_its_due_date(library, patron, read_pdf) -> None:
    text = read_pdf.text(render_letter(_all_kinds(library, patron)[4]))
    assert "返却期限を過ぎている資料（2点）" in text
    assert "羊と鋼の森（資料番号 1000123456790）" in text and "返却期限 令和8年10月21日" in text
    assert "デイジー版 ことばの贈りもの" in text and "令和8年10月22日" in text


def test_proxy_gets_the_letter_as_sama_kata(library, patron_with_proxy, read_pdf) -> None:
    lines = read_pdf.lines(render_letter(_all_kinds(library, patron_with_proxy)[0]))
    care_of = lines.index("山田 一郎 様方")
    assert lines[care_of + 1] == "山田 花子　様"


def test_organisation_proxy_is_written_kizuke(library, read_pdf) -> None:
    to = Addressee(
        "6638204",
        "西宮市高松町5-39",
        "山田 花子",
        proxy_name="西宮北口ケアプランセンター",
        proxy_is_organisation=True,
    )
    text = read_pdf.text(render_letter(_all_kinds(library, to)[0]))
    assert "西宮北口ケアプランセンター 気付" in text and "様方" not in text


def test_mail_loan_approval_is_a_registration_notice_with_free_postage(library, patron, read_pdf) -> None:
    data = _letter(
        library,
        patron,
        LetterKind.APPROVAL,
        service=Service.MAIL_LOAN,
        valid_from=date(2026, 12, 1),
        extra_values=EXTRA,
    )
    text = read_pdf.text(render_letter(data))
    assert "郵送貸出サービス登録のお知らせ" in text and "様式第２号" not in text
    assert "特定録音物等郵便物" in text and "点訳絵本15冊まで" in text


def test_blank_application_form_has_the_official_title_and_no_patron_data(library, patron, read_pdf) -> None:
    text = read_pdf.text(render_letter(_all_kinds(library, patron)[5]))
    assert "様式第１号（第３条関係）" in text and "宅配サービス申込書" in text
    assert "西宮市立図書館図書等宅配サービス実施要綱第３条の規定により" in text
    assert "（宛先）西宮市立中央図書館長" in text and "令和　　年　　月　　日" in text
    assert "□障害者手帳（視覚障害を除く）" in text and "■" not in text and "山田" not in text
    assert "図書館使用欄" in text


def test_prefilled_application_form_shows_the_patron_and_ticks_the_basis(library, read_pdf) -> None:
    data = LetterData(
        kind=LetterKind.APPLICATION_FORM,
        library=library,
        service=Service.HOME_DELIVERY,
        issued_on=ISSUED,
        applicant=ApplicantDetails(
            name="山田 花子",
            name_kana="ヤマダ ハナコ",
            birth_date=date(1940, 3, 3),
            postal_code="6638035",
            address="西宮市北口町1番2号",
            eligibility="elderly_care",
            eligibility_detail="要介護３",
            contact_preference="proxy",
            proxy_name="山田 一郎",
            proxy_relation="長男",
        ),
    )
    text = read_pdf.text(render_letter(data))
    assert "ヤマダ ハナコ" in text and "山田 花子" in text and "昭和15年3月3日（満86歳）" in text
    assert "〒663-8035" in text and "■満65歳以上で" in text and "要介護度（要介護３）" in text
    assert "■代理人を通じて" in text and "山田 一郎（長男）" in text


@pytest.mark.parametrize("large", [False, True])
def test_every_kind_keeps_all_text_inside_the_page_margins(
    library, patron_with_proxy, large, read_pdf
) -> None:
    page_w, page_h = A4
    for data in _all_kinds(library, patron_with_proxy, large_print=large):
        pdf = render_letter(data)
        runs = read_pdf.runs(pdf)
        assert runs
        for r in runs:
            x0, y0, x1, y1 = r.box
            assert 10 * 2.83 <= x0 and x1 <= page_w - 10 * 2.83 + 0.01, (data.kind, r)
            assert 5 * 2.83 <= y0 and y1 <= page_h - 8 * 2.83, (data.kind, r)


def test_large_print_is_18pt_gothic_throughout_and_runs_onto_more_pages(
    library, patron_with_proxy, read_pdf
) -> None:
    for normal, large in zip(
        _all_kinds(library, patron_with_proxy),
        _all_kinds(library, patron_with_proxy, large_print=True),
        strict=True,
    ):
        runs = read_pdf.runs(render_letter(large))
        assert min(r.size for r in runs) >= LARGE_PRINT_MIN_PT, large.kind
        assert {r.font for r in runs} <= {"BIZUDGothic-Regular", "BIZUDGothic-Bold"}
        assert read_pdf.pages(render_letter(large)) >= read_pdf.pages(render_letter(normal))
    long = _letter(
        library,
        patron_with_proxy,
        LetterKind.OVERDUE_REMINDER,
        large_print=True,
        overdue_items=[OverdueItem(f"資料{i}の書名", date(2026, 10, 21), f"10000{i:08d}") for i in range(20)],
    )
    pdf = render_letter(long)
    assert read_pdf.pages(pdf) >= 3
    assert "1 / " in read_pdf.text(pdf) and all(f"資料{i}の書名" in read_pdf.text(pdf) for i in range(20))


def test_normal_print_body_is_mincho_around_10_5pt(library, patron, read_pdf) -> None:
    runs = read_pdf.runs(render_letter(_all_kinds(library, patron)[0]))
    body = [r for r in runs if "下記のとおり承認します" in r.text or "お届けは原則として" in r.text]
    assert body and all(r.font == "BIZUDMincho-Regular" and 10.5 <= r.size <= 11 for r in body)


def test_fonts_are_embedded_truetype_subsets(library, patron, read_pdf) -> None:
    for data in _all_kinds(library, patron) + _all_kinds(library, patron, large_print=True):
        fonts = read_pdf.fonts(render_letter(data))
        assert fonts and all(f["embedded"] and f["truetype"] for f in fonts), fonts
        assert all("BIZUD" in f["name"] for f in fonts)


def test_many_letters_in_one_pdf_each_start_on_a_new_page(library, patron, read_pdf) -> None:
    letters = _all_kinds(library, patron)
    single = sum(read_pdf.pages(render_letter(d)) for d in letters)
    assert read_pdf.pages(render_letters(iter(letters))) == single


def test_missing_facts_are_refused(library, patron) -> None:
    with pytest.raises(LetterDataError, match="rejection_reason"):
        _letter(library, patron, LetterKind.REJECTION)
    with pytest.raises(LetterDataError, match="valid_from"):
        _letter(library, patron, LetterKind.APPROVAL)
    with pytest.raises(LetterDataError, match="before"):
        _letter(
            library, patron, LetterKind.APPROVAL, valid_from=date(2026, 12, 1), valid_until=date(2026, 1, 1)
        )
    with pytest.raises(LetterDataError, match="overdue_items"):
        _letter(library, patron, LetterKind.OVERDUE_REMINDER)
    with pytest.raises(LetterDataError):
        Addressee("6620944", ["x"], "  ")


def test_wording_can_be_overridden_from_a_library_folder(library, patron, read_pdf, tmp_path: Path) -> None:
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "rejection.toml").write_text(
        'title = "${service_name}の申込みについて"\nclosing = "以上"\n'
        '[[paragraphs]]\ntext = "このたびは申込みをいただきありがとうございました。"\n'
        '[[items]]\nlabel = "理由"\nvalue = "${rejection_reason}"\n',
        encoding="utf-8",
    )
    data = _all_kinds(library, patron)[1]
    text = read_pdf.text(render_letter(data, template_dir=tmp_path))
    assert (
        "宅配サービスの申込みについて" in text and "このたびは申込みを" in text and "不承認通知書" not in text
    )
    (tmp_path / "ja" / "rejection.toml").write_text('title = "${no_such_value}"\n', encoding="utf-8")
    with pytest.raises(WordingError, match="no_such_value"):
        render_letter(data, template_dir=tmp_path)


def test_output_is_reproducible(library, patron) -> None:
    data = _all_kinds(library, patron)[0]
    assert render_letter(data) == render_letter(data)
