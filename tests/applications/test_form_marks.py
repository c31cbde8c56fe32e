"""The application form marks what a submission needs and sums up what is wrong, with links."""

import re

import pytest
from django.urls import reverse

from applications import services
from tests.applications.conftest import field_block, form_data, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def edit_url(applicant):
    draft = services.start_application(applicant=applicant)
    return reverse("applications:edit", args=[draft.pk])


def test_required_fields_are_marked_for_eyes_and_screen_readers_with_a_legend(
    applicant_client, edit_url
):
    html = applicant_client.get(edit_url).content.decode()

    assert "Fields marked with an asterisk are required to submit the application" in html
    for name in [*services.REQUIRED_FOR_SUBMISSION, "letter"]:
        block = field_block(html, name)
        assert "required-field" in block[: block.index(">")], name  # the stylesheet's mark
        if name == "rep_qualification":  # radio buttons: the group's legend says it in words
            assert '<span class="visually-hidden"> (required)</span>' in block, name
        else:
            assert re.search(r'<(input|select|textarea)[^>]*aria-required="true"', block), name
    for optional in ("org_acronym", "website", "rep_phone", "supporting"):
        assert "required-field" not in field_block(html, optional), optional
        assert "(required)" not in field_block(html, optional), optional


def test_the_error_summary_links_to_each_wrong_field_in_the_order_of_the_form(
    applicant_client, edit_url
):
    response = applicant_client.post(
        edit_url, form_data({"rep_email": "nope", "website": "not a url"}, action="submit")
    )

    html = response.content.decode()
    summary = html[html.index('class="alert alert-danger error-summary"') :]
    summary = summary[: summary.index("</div>")]
    anchors = re.findall(r'<a href="#([^"]+)">', summary)
    assert anchors == [
        "id_org_name",
        "id_category",
        "id_country",
        "id_city",
        "id_website",
        "id_activities",
        "id_rep_first_name",
        "id_rep_last_name",
        "id_rep_title",
        "id_rep_email",
        "id_rep_qualification_0",
        "id_rep_declaration",
        "id_motivation",
        "id_agrees_to_statutes",
        "id_letter",
    ]
    for anchor in anchors:
        assert f'id="{anchor}"' in html, anchor
    assert '"#id_website">Website</a>: Enter a valid URL.' in summary
    assert '"#id_rep_email">Email</a>: Enter a valid email address.' in summary


def test_the_form_links_to_the_criteria_and_to_the_letter_template(applicant_client, edit_url):
    html = applicant_client.get(edit_url).content.decode()

    assert 'href="/apply/#who-may-apply"' in field_block(html, "category")
    assert 'href="/apply/#who-may-apply"' in field_block(html, "rep_qualification")
    assert f'href="{reverse("applications:letter_template")}"' in field_block(html, "letter")
    apply_page = applicant_client.get("/apply/").content.decode()
    assert 'id="who-may-apply"' in apply_page
    criteria = text_of(apply_page)
    assert "private sector businesses and organisations." in criteria
    assert "hold an elected position in the organisation, be a permanent employee" in criteria
