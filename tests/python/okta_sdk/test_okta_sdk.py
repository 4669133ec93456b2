"""Okta's official Python SDK (PyPI `okta`), unchanged, against the gateway.

It creates a person and a group, adds a catalog app (Slack, by its catalog
`name` with its tenant variable) and a custom bookmark app, assigns the
bookmark to the person and Slack to the group the person is in, and lists
the person's appLinks: both apps, with the gateway's launch URLs.

Configuration, all through the SDK's documented options:
- `{'orgUrl': base, 'token': token}` as the SDK's README shows;
- the gateway under test speaks plain HTTP on loopback, and the SDK refuses a
  non-https orgUrl unless `OKTA_TESTING_TESTINGDISABLEHTTPSCHECK` is set (the
  README lists it among the environment variables);
- the typed models cannot express a catalog app by `name` (SamlApplication
  drops the read-only `name` and has no `settings.app`), so the catalog app is
  created with the SDK's request executor ("Call other API endpoints" in the
  README) and then read back through the typed `get_application`.
"""

import asyncio
import json

import pytest
from okta import models
from okta.client import Client as OktaClient

PASSWORD = "Plum-Orchard-Lantern-42"


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def client(gateway, monkeypatch):
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    return OktaClient({"orgUrl": gateway.base, "token": gateway.token})


def ok(result):
    """The SDK answers (value, response, error); fail with the error if any."""
    value, response, error = result if len(result) == 3 else (None, result[0], result[1])
    assert error is None, f"SDK error: {error}"
    return value


async def raw(client, method, path, body=None):
    """A call through the SDK's own request executor, for what the typed API cannot say."""
    executor = client.get_request_executor()
    request, error = await executor.create_request(method=method, url=path, body=body or {}, headers={}, oauth=False)
    assert error is None, error
    _, body, error = await executor.execute(request)
    assert error is None, f"{method} {path}: {error}"
    return json.loads(body)


def test_users_groups_catalog_and_custom_apps_assignments_and_app_links(gateway, client):
    async def scenario():
        # A person and a group, through the typed API.
        person = ok(
            await client.create_user(
                models.CreateUserRequest.from_dict(
                    {
                        "profile": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "login": "ada@example.com"},
                        "credentials": {"password": {"value": PASSWORD}},
                    }
                ),
                activate=True,
            )
        )
        assert person.id and person.status == models.UserStatus.ACTIVE
        assert person.profile.login == "ada@example.com"

        group = ok(await client.add_group(models.AddGroupRequest.from_dict({"profile": {"name": "Analytical Engines", "description": "People who use Slack"}})))
        assert group.profile.actual_instance.name == "Analytical Engines"
        ok(await client.assign_user_to_group(group.id, person.id))
        members = ok(await client.list_group_users(group.id))
        assert [m.id for m in members] == [person.id]

        # A catalog app: Slack with its subdomain. The SAML settings come from the catalog's templates.
        created = await raw(
            client,
            "POST",
            "/api/v1/apps",
            {"name": "slack", "label": "Slack", "signOnMode": "SAML_2_0", "settings": {"app": {"subdomain": "acme"}}},
        )
        slack = ok(await client.get_application(created["id"]))
        assert isinstance(slack, models.SamlApplication)
        assert slack.name == "slack"
        assert slack.label == "Slack"
        assert slack.status == models.ApplicationLifecycleStatus.ACTIVE
        assert slack.settings.sign_on.sso_acs_url == "https://acme.slack.com/sso/saml"
        assert slack.settings.sign_on.audience == "https://slack.com"
        assert slack.credentials.signing.kid, "each app has its own signing key"

        # A bad tenant variable is refused with a cause naming the field.
        executor = client.get_request_executor()
        request, _ = await executor.create_request(
            method="POST", url="/api/v1/apps", body={"name": "slack", "label": "Slack", "settings": {"app": {"subdomain": "not a subdomain"}}}, headers={}, oauth=False
        )
        _, _, error = await executor.execute(request)
        assert error is not None and error.error_code == "E0000001"
        assert any(c["errorSummary"].startswith("settings.app.subdomain") for c in error.error_causes), error.error_causes

        # A custom bookmark app, through the typed model.
        bookmark = ok(
            await client.create_application(
                models.BookmarkApplication.from_dict(
                    {
                        "name": "bookmark",
                        "label": "Intranet",
                        "signOnMode": "BOOKMARK",
                        "settings": {"app": {"url": "https://intranet.example.com/", "requestIntegration": False}},
                    }
                )
            )
        )
        assert isinstance(bookmark, models.BookmarkApplication)
        assert bookmark.name == "bookmark"
        assert bookmark.settings.app.url == "https://intranet.example.com/"

        apps = ok(await client.list_applications())
        assert {a.id for a in apps} >= {slack.id, bookmark.id}
        assert {a.id for a in ok(await client.list_applications(q="Intra"))} == {bookmark.id}

        # The person directly, the group to Slack.
        app_user = ok(await client.assign_user_to_application(bookmark.id, models.AppUserAssignRequest.from_dict({"id": person.id, "scope": "USER"})))
        assert app_user.id == person.id
        assert app_user.scope == "USER"
        assert app_user.credentials.user_name == "ada@example.com"

        grant = ok(await client.assign_group_to_application(slack.id, group.id, models.ApplicationGroupAssignment.from_dict({"priority": 0})))
        assert grant.id == group.id
        assert [g.id for g in ok(await client.list_application_group_assignments(slack.id))] == [group.id]

        slack_users = ok(await client.list_application_users(slack.id))
        assert [(u.id, u.scope) for u in slack_users] == [(person.id, "GROUP")]

        # appLinks: both apps, each with the gateway's launch URL.
        links = ok(await client.list_app_links(person.id))
        by_app = {link.app_instance_id: link for link in links}
        assert set(by_app) == {slack.id, bookmark.id}
        assert by_app[bookmark.id].label == "Intranet"
        assert by_app[bookmark.id].link_url == gateway.url(f"/home/bookmark/{bookmark.id}/launch")
        assert by_app[slack.id].link_url == gateway.url(f"/home/slack/{slack.id}/launch")
        assert by_app[slack.id].app_name == "slack"

        # Unassigning the group takes Slack away at once.
        ok(await client.unassign_application_from_group(slack.id, group.id))
        links = ok(await client.list_app_links(person.id))
        assert [link.app_instance_id for link in links] == [bookmark.id]

    run(scenario())
