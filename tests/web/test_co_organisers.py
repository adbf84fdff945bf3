"""Co-organisers on the event form: ticked, named, refused next to the field, shown."""

from __future__ import annotations

from sqlmodel import col, select

from node.models import EventOrganiser, Organisation
from node.runtime import Runtime
from node.services import events
from tests.web.conftest import Browser, text_of
from tests.web.test_forms import EVENT, created_id, publish_org
from web.pages import event_form


def organisers(runtime: Runtime, event_id: str) -> list[str]:
    with runtime.transaction() as session:
        return list(
            session.scalars(
                select(col(EventOrganiser.organisation_id))
                .where(col(EventOrganiser.event_id) == event_id)
                .order_by(col(EventOrganiser.position))
            )
        )


def remote_organisation(runtime: Runtime) -> Organisation:
    """An organisation of another node, as federation stores it."""
    with runtime.transaction() as session:
        org = Organisation(
            ap_id="https://gancio.example/u/velo", origin="gancio.example",
            username="velo@gancio.example", name="Atelier vélo", kind="association",
        )  # fmt: skip
        session.add(org)
    return org


def test_an_admin_of_both_ticks_a_co_organiser_and_removes_it(
    browser: Browser, runtime: Runtime
) -> None:
    browser.signup()
    main = publish_org(browser)
    other = publish_org(browser, name="Maison du vélo")
    form = browser.get(f"/events/new?organisation_id={main}").text
    assert f'name="co_organiser_ids" value="{other}"' in form  # offered, not ticked
    answer = browser.post(
        "/events/new", EVENT | {"organisation_id": main, "co_organiser_ids": [other]}
    )
    assert answer.status_code == 303, answer.text
    event_id = created_id(answer, "events")
    assert organisers(runtime, event_id) == [main, other]
    page = browser.get(f"/events/{event_id}").text
    assert f'href="/organisations/{other}">Maison du vélo</a>' in page
    assert f'href="/organisations/{main}">Vélo Cité</a>' in page

    edit = browser.get(f"/events/{event_id}/edit").text
    assert f'name="co_organiser_ids" value="{other}" checked' in edit
    saved = browser.post(f"/events/{event_id}/edit", EVENT | {"organisation_id": main})
    assert saved.status_code == 303  # unticked: no longer a co-organiser
    assert organisers(runtime, event_id) == [main]
    assert "Maison du vélo" not in browser.get(f"/events/{event_id}").text


def test_a_co_organiser_named_by_address_username_or_name(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    main = publish_org(browser)
    created = browser.post("/events/new", EVENT | {"organisation_id": main})
    event_id = created_id(created, "events")
    edit = f"/events/{event_id}/edit"
    remote = remote_organisation(runtime)
    for reference in ("https://gancio.example/u/velo", "@velo@gancio.example", "atelier VÉLO"):
        saved = browser.post(edit, EVENT | {"organisation_id": main, "co_organiser": reference})
        assert saved.status_code == 303, reference
        assert organisers(runtime, event_id) == [main, remote.id], reference
        page = browser.get(f"/events/{event_id}").text
        assert "Atelier vélo" in page and "de gancio.example" in text_of(page)
        browser.post(edit, EVENT | {"organisation_id": main})  # back to one organiser
    # a local organisation by the address of its page, when one administers it
    other = publish_org(browser, name="Maison du vélo")
    saved = browser.post(
        edit,
        EVENT
        | {"organisation_id": main, "co_organiser": f"http://lille.test/organisations/{other}"},
    )
    assert saved.status_code == 303
    assert organisers(runtime, event_id) == [main, other]


def test_refusals_are_shown_next_to_the_co_organisers(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    main = publish_org(browser)
    created = browser.post("/events/new", EVENT | {"organisation_id": main})
    event_id = created_id(created, "events")
    edit = f"/events/{event_id}/edit"
    stranger: Browser = make_browser()  # type: ignore[operator]
    stranger.signup("Eve", "eve@lille.example")
    theirs = publish_org(stranger, name="Les Jardiniers")

    # not an admin of it: refused, shown ticked next to the field, the rest kept
    refused = browser.post(
        edit, EVENT | {"organisation_id": main, "name": "Troc", "co_organiser": "Les Jardiniers"}
    )
    assert refused.status_code == 422
    assert 'id="f-co_organiser_ids-error"' in refused.text
    assert "seuls les admins d’une organisation peuvent en faire une co-organisatrice" in (
        text_of(refused.text)
    )
    assert f'value="{theirs}" checked> Les Jardiniers' in refused.text
    assert 'value="Troc"' in refused.text
    assert organisers(runtime, event_id) == [main]

    for reference, words in (
        ("Personne ici", "aucune organisation trouvée"),
        ("https://ailleurs.example/u/x", "aucune organisation trouvée"),
    ):
        answer = browser.post(edit, EVENT | {"organisation_id": main, "co_organiser": reference})
        assert answer.status_code == 422
        assert 'id="f-co_organiser-error"' in answer.text and words in text_of(answer.text)
        assert f'value="{reference}"' in answer.text  # what was typed is kept
    publish_org(stranger, name="Vélo Cité")  # a second organisation of that name
    twice = browser.post(edit, EVENT | {"organisation_id": main, "co_organiser": "vélo cité"})
    assert twice.status_code == 422 and "plusieurs organisations ont ce nom" in text_of(twice.text)
    assert organisers(runtime, event_id) == [main]

    # nor can a co-organiser's admin withdraw an organisation they do not run
    with runtime.transaction() as session:
        session.add(EventOrganiser(event_id=event_id, organisation_id=theirs, position=1))
    own = publish_org(browser, name="Compost Club")
    with runtime.transaction() as session:
        session.add(EventOrganiser(event_id=event_id, organisation_id=own, position=2))
    assert stranger.get(edit).status_code == 200  # Eve runs a co-organiser: she edits it
    withdrawn = stranger.post(edit, EVENT | {"organisation_id": main, "co_organiser_ids": [theirs]})
    assert withdrawn.status_code == 422
    assert "seuls les admins d’une organisation peuvent la retirer d’un événement" in (
        text_of(withdrawn.text)
    )
    assert organisers(runtime, event_id) == [main, theirs, own]


def test_the_refusals_are_translated() -> None:
    """The event service's co-organiser messages are listed word for word."""
    refusals = {value for name, value in vars(events).items() if name.startswith("CO_ORGANISER_")}
    assert refusals == set(event_form.NODE_MESSAGES)
